package dev.stallwatch.ingest.upstream;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the CSV that HAProxy's runtime API answers to {@code show stat}: a header line
 * {@code # pxname,svname,qcur,...} naming the columns (their order and number differ between
 * versions, so columns are found by name), then one line per frontend, backend and server. Only
 * server lines are kept: {@code svname} other than {@code FRONTEND} and {@code BACKEND}.
 */
public final class HaproxyStatParser {
  static final String HEADER_PREFIX = "# ";
  static final List<String> REQUIRED = List.of("pxname", "svname", "stot", "econ", "eresp", "srv_abrt", "status");

  /** The counters of one backend server; {@code address} is empty when HAProxy has none (e.g. no address yet). */
  public record ServerStat(String backend, String server, String address, String status, long sessions,
                           long connectErrors, long responseErrors, long serverAborts) {
    /** {@code backend/server}, as {@code set server} names it. */
    public String name() {
      return backend + "/" + server;
    }

    /** DRAIN (weight 0, e.g. {@code set server be/srv state drain}) or MAINT (taken out, possibly via a tracked server). */
    public boolean drained() {
      return status.startsWith("DRAIN") || status.startsWith("MAINT");
    }
  }

  /** The servers of one answer, and the lines that could not be read. */
  public record Result(List<ServerStat> servers, List<String> malformed) {}

  private HaproxyStatParser() {}

  /**
   * @throws MalformedLineException when the answer has no header, or the header lacks a column
   *     this source needs (the answer is then an error message, e.g. {@code Unknown command})
   */
  public static Result parse(String answer) throws MalformedLineException {
    String[] lines = answer.split("\n");
    int first = 0;
    while (first < lines.length && lines[first].isBlank()) {
      first++;
    }
    if (first == lines.length || !lines[first].startsWith(HEADER_PREFIX)) {
      String start = first == lines.length ? "" : lines[first].strip();
      throw new MalformedLineException("not a 'show stat' answer: "
          + (start.length() > 120 ? start.substring(0, 120) + "..." : start));
    }
    Map<String, Integer> columns = new HashMap<>();
    String[] names = lines[first].substring(HEADER_PREFIX.length()).split(",", -1);
    for (int i = 0; i < names.length; i++) {
      columns.putIfAbsent(names[i].strip(), i);
    }
    for (String column : REQUIRED) {
      if (!columns.containsKey(column)) {
        throw new MalformedLineException("'show stat' header has no column " + column);
      }
    }
    int addr = columns.getOrDefault("addr", -1);
    int needed = REQUIRED.stream().mapToInt(columns::get).max().orElseThrow();
    List<ServerStat> servers = new ArrayList<>();
    List<String> malformed = new ArrayList<>();
    for (int i = first + 1; i < lines.length; i++) {
      String line = lines[i];
      if (line.isBlank()) {
        continue;
      }
      String[] values = line.split(",", -1);
      int svname = columns.get("svname");
      if (values.length > svname && (values[svname].equals("FRONTEND") || values[svname].equals("BACKEND"))) {
        continue;
      }
      if (values.length <= needed) {
        malformed.add(line);
        continue;
      }
      String server = values[svname];
      try {
        servers.add(new ServerStat(values[columns.get("pxname")], server,
            addr >= 0 && addr < values.length ? values[addr] : "",
            values[columns.get("status")],
            counter(values, columns.get("stot")),
            counter(values, columns.get("econ")),
            counter(values, columns.get("eresp")),
            counter(values, columns.get("srv_abrt"))));
      } catch (NumberFormatException e) {
        malformed.add(line);
      }
    }
    return new Result(List.copyOf(servers), List.copyOf(malformed));
  }

  /** An empty field is a counter this kind of line does not have: 0. */
  private static long counter(String[] values, int column) {
    String value = values[column];
    if (value.isEmpty()) {
      return 0;
    }
    long parsed = Long.parseLong(value);
    if (parsed < 0) {
      throw new NumberFormatException("negative counter " + value);
    }
    return parsed;
  }
}
