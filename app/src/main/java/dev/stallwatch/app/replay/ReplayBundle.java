package dev.stallwatch.app.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.ingest.window.ContainerRef;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A captured incident on disk, in the format docs/design.md describes:
 *
 * <pre>
 * DIR/perf/HOST/*.txt[.gz]   perf script output per host, any number of files, any names
 * DIR/containers.csv         pid,container_id,host,pod,namespace   (optional extra column: runtime)
 * DIR/upstream.csv           window_start_ms,window_end_ms,container_id,requests,timeouts
 * DIR/traffic.csv            optional: timestamp_ms,container_id,event   (DRAINED | RESTORED)
 * DIR/cpu.csv                optional: window_start_ms,window_end_ms,container_id,cpu_seconds
 * DIR/meta.json              optional: {"sample_frequency_hz": 99}
 * </pre>
 *
 * {@link #load} reads and checks everything but the perf text before anything starts, so a bad
 * bundle fails at once with one line naming the file and line.
 */
public record ReplayBundle(
    Path dir,
    Map<String, List<Path>> perfFilesByHost,
    Map<HostPid, ContainerRef> containers,
    List<UpstreamWindow> upstream,
    List<TrafficEvent> traffic,
    List<CpuRow> cpu,
    double sampleFrequencyHz) {

  public static final double DEFAULT_SAMPLE_FREQUENCY_HZ = 99;
  static final String UPSTREAM_SOURCE = "replay:upstream.csv";
  static final String TRAFFIC_ACTOR = "replay:traffic.csv";

  /** A process on a host: the same pid on two hosts is two processes. */
  public record HostPid(String host, int pid) {}

  /** cpu.csv: CPU seconds a container's cgroup used in a window. */
  public record CpuRow(long windowStartMs, long windowEndMs, String containerId, double cpuSeconds) {}

  public static ReplayBundle load(Path dir) {
    return load(dir, Clock.systemUTC());
  }

  /** With the clock that says which timestamps are in the future. */
  public static ReplayBundle load(Path dir, Clock clock) {
    BundleLimits limits = BundleLimits.at(clock);
    if (!Files.isDirectory(dir)) {
      throw new BundleException(dir, Files.exists(dir) ? "not a directory" : "missing directory");
    }
    Map<String, List<Path>> perf = perfFiles(dir.resolve("perf"));
    Map<HostPid, ContainerRef> containers = containers(dir.resolve("containers.csv"));
    List<UpstreamWindow> upstream = upstream(dir.resolve("upstream.csv"), limits);
    Path trafficFile = dir.resolve("traffic.csv");
    List<TrafficEvent> traffic = Files.exists(trafficFile) ? traffic(trafficFile, limits) : List.of();
    Path cpuFile = dir.resolve("cpu.csv");
    List<CpuRow> cpu = Files.exists(cpuFile) ? cpu(cpuFile, limits) : List.of();
    Path metaFile = dir.resolve("meta.json");
    double frequency = Files.exists(metaFile) ? frequency(metaFile) : DEFAULT_SAMPLE_FREQUENCY_HZ;
    return new ReplayBundle(dir, perf, containers, upstream, traffic, cpu, frequency);
  }

  /** The host a container runs on, from containers.csv; empty when it is not listed. */
  public Map<String, ContainerRef> containersById() {
    Map<String, ContainerRef> byId = new LinkedHashMap<>();
    containers.values().forEach(c -> byId.putIfAbsent(c.containerId(), c));
    return byId;
  }

  private static Map<String, List<Path>> perfFiles(Path perfDir) {
    if (!Files.isDirectory(perfDir)) {
      throw new BundleException(perfDir, "missing directory (expected perf/HOST/*.txt[.gz])");
    }
    Map<String, List<Path>> byHost = new TreeMap<>();
    try (Stream<Path> hosts = Files.list(perfDir)) {
      for (Path hostDir : hosts.sorted().toList()) {
        if (!Files.isDirectory(hostDir) || hostDir.getFileName().toString().startsWith(".")) {
          continue;
        }
        try (Stream<Path> files = Files.list(hostDir)) {
          List<Path> perfFiles = files
              .filter(Files::isRegularFile)
              .filter(f -> !f.getFileName().toString().startsWith("."))
              .sorted(Comparator.comparing(Path::toString))
              .toList();
          if (!perfFiles.isEmpty()) {
            byHost.put(hostDir.getFileName().toString(), perfFiles);
          }
        }
      }
    } catch (IOException e) {
      throw new BundleException(perfDir, "cannot list: " + e.getMessage(), e);
    }
    if (byHost.isEmpty()) {
      throw new BundleException(perfDir, "no perf script files (expected perf/HOST/*.txt[.gz])");
    }
    return byHost;
  }

  private static Map<HostPid, ContainerRef> containers(Path file) {
    CsvFile csv = new CsvFile(file, List.of("pid", "container_id", "host", "pod", "namespace"));
    Map<HostPid, ContainerRef> containers = new HashMap<>();
    Map<HostPid, Long> firstLine = new HashMap<>();
    csv.forEachRow(row -> {
      long pid = row.count("pid", BundleLimits.MAX_PID);
      ContainerRef container = new ContainerRef(
          row.nonEmpty("container_id"), row.nonEmpty("host"), row.text("pod"), row.text("namespace"),
          row.text("runtime"));
      HostPid key = new HostPid(container.host(), (int) pid);
      ContainerRef previous = containers.putIfAbsent(key, container);
      if (previous != null && !previous.equals(container)) {
        throw row.error("pid " + pid + " on host " + container.host() + " is already listed for container "
            + previous.containerId() + " at line " + firstLine.get(key));
      }
      firstLine.putIfAbsent(key, row.line());
    });
    return containers;
  }

  private static List<UpstreamWindow> upstream(Path file, BundleLimits limits) {
    CsvFile csv = new CsvFile(file, List.of("window_start_ms", "window_end_ms", "container_id", "requests", "timeouts"));
    List<UpstreamWindow> rows = new ArrayList<>();
    long[] windows = {0};
    csv.forEachRow(row -> {
      long[] span = span(row, limits, windows);
      long requests = row.count("requests", BundleLimits.MAX_COUNT);
      long timeouts = row.count("timeouts", BundleLimits.MAX_COUNT);
      if (timeouts > requests) {
        throw row.error("timeouts " + timeouts + " exceed requests " + requests);
      }
      rows.add(UpstreamWindow.newBuilder()
          .setSource(UPSTREAM_SOURCE)
          .setContainerId(row.nonEmpty("container_id"))
          .setWindowStartMs(span[0])
          .setWindowEndMs(span[1])
          .setRequests(requests)
          .setTimeouts(timeouts)
          .build());
    });
    return rows;
  }

  /**
   * The row's [window_start_ms, window_end_ms): in range, not empty, at most a day, and the
   * file's rows together covering at most {@link BundleLimits#MAX_ROW_SECONDS_PER_FILE} seconds.
   */
  private static long[] span(CsvFile.Row row, BundleLimits limits, long[] windowsSoFar) {
    long start = row.timestamp("window_start_ms", limits);
    long end = row.timestamp("window_end_ms", limits);
    if (end <= start) {
      throw row.error("window_end_ms " + end + " is not after window_start_ms " + start);
    }
    if (end - start > BundleLimits.MAX_ROW_SPAN_MS) {
      throw row.error("the row spans " + (end - start) + " ms: at most "
          + BundleLimits.MAX_ROW_SPAN_MS + " (24 h)");
    }
    // whole seconds covered, rounded up: bounds the aligned windows whatever window.size is
    windowsSoFar[0] += (end - start + 999) / 1000 + 1;
    if (windowsSoFar[0] > BundleLimits.MAX_ROW_SECONDS_PER_FILE) {
      throw row.error("the rows up to here cover more than " + BundleLimits.MAX_ROW_SECONDS_PER_FILE
          + " seconds in all");
    }
    return new long[] {start, end};
  }

  private static List<TrafficEvent> traffic(Path file, BundleLimits limits) {
    CsvFile csv = new CsvFile(file, List.of("timestamp_ms", "container_id", "event"));
    List<TrafficEvent> events = new ArrayList<>();
    csv.forEachRow(row -> {
      String event = row.nonEmpty("event").toUpperCase(Locale.ROOT);
      TrafficAction action = switch (event) {
        case "DRAINED" -> TrafficAction.TRAFFIC_ACTION_DRAINED;
        case "RESTORED" -> TrafficAction.TRAFFIC_ACTION_RESTORED;
        default -> throw row.error("event must be DRAINED or RESTORED, got '" + row.text("event") + "'");
      };
      events.add(TrafficEvent.newBuilder()
          .setTimestampMs(row.timestamp("timestamp_ms", limits))
          .setContainerId(row.nonEmpty("container_id"))
          .setAction(action)
          .setActor(TRAFFIC_ACTOR)
          .build());
    });
    events.sort(Comparator.comparingLong(TrafficEvent::getTimestampMs));
    return events;
  }

  private static List<CpuRow> cpu(Path file, BundleLimits limits) {
    CsvFile csv = new CsvFile(file, List.of("window_start_ms", "window_end_ms", "container_id", "cpu_seconds"));
    List<CpuRow> rows = new ArrayList<>();
    long[] windows = {0};
    csv.forEachRow(row -> {
      long[] span = span(row, limits, windows);
      double seconds = row.nonNegativeDouble("cpu_seconds");
      double cores = seconds * 1000 / (span[1] - span[0]);
      if (cores > BundleLimits.MAX_CORES) {
        throw row.error("cpu_seconds " + seconds + " is " + cores + " cores over the row: at most "
            + (long) BundleLimits.MAX_CORES);
      }
      rows.add(new CpuRow(span[0], span[1], row.nonEmpty("container_id"), seconds));
    });
    return rows;
  }

  static final long MAX_META_BYTES = 64 * 1024;

  /** The first line of a small file that mentions {@code key}; 0 when none does. */
  private static long lineOf(Path file, String key) {
    try {
      List<String> lines = Files.readAllLines(file);
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).contains(key)) {
          return i + 1;
        }
      }
    } catch (IOException e) {
      // the message then names the file only
    }
    return 0;
  }

  private static double frequency(Path file) {
    JsonNode meta;
    try {
      if (Files.size(file) > MAX_META_BYTES) {
        throw new BundleException(file, "larger than " + MAX_META_BYTES + " bytes");
      }
      // 1e400 must stay a number too large, not become Infinity unseen
      meta = new ObjectMapper().enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .readTree(file.toFile());
    } catch (IOException e) {
      String where = e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe && jpe.getLocation() != null
          ? " line " + jpe.getLocation().getLineNr() : "";
      throw new BundleException(file, "not valid JSON" + where + ": " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (meta == null || !meta.isObject()) {
      throw new BundleException(file, "expected a JSON object like {\"sample_frequency_hz\": 99}");
    }
    JsonNode hz = meta.get("sample_frequency_hz");
    if (hz == null || hz.isNull()) {
      return DEFAULT_SAMPLE_FREQUENCY_HZ;
    }
    double value = hz.isNumber() ? hz.asDouble() : Double.NaN;
    if (!(value > 0) || value > BundleLimits.MAX_SAMPLE_FREQUENCY_HZ) {
      throw new BundleException(file, lineOf(file, "sample_frequency_hz"), "sample_frequency_hz must be a"
          + " finite number in (0, " + (long) BundleLimits.MAX_SAMPLE_FREQUENCY_HZ + "], got " + hz);
    }
    return hz.asDouble();
  }
}
