package dev.stallwatch.app.replay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes small replay bundles by hand, window by window, in the perf script header forms that
 * other people's tools produce. Times are in windows of 10 s from {@link #T0}.
 */
final class TestBundle {
  static final long T0 = 1_700_000_000_000L; // 2023-11-14T22:13:20Z, on a 10 s boundary
  static final long W = 10_000;

  /** How a host's perf text is printed. */
  enum Header {
    /** {@code comm pid/tid [cpu] secs: period event:} with {@code sym+0xoff (dso)} frames. */
    DEFAULT,
    /** {@code perf script -F comm,tid,time,event,ip,sym,dso}: no pid, cpu or period; no offsets. */
    TID_ONLY_NO_PERIOD,
    /** {@code perf script -F comm,pid,tid,time,period,event,ip,sym,dso}: no cpu. */
    PID_TID_NO_CPU
  }

  private final Path dir;
  private final Map<String, Header> hosts = new LinkedHashMap<>();
  private final Map<String, StringBuilder> perf = new LinkedHashMap<>();
  private final StringBuilder containers = new StringBuilder("pid,container_id,host,pod,namespace\n");
  private final StringBuilder upstream = new StringBuilder("window_start_ms,window_end_ms,container_id,requests,timeouts\n");
  private final List<String> traffic = new ArrayList<>();
  private Double frequency;

  TestBundle(Path dir) {
    this.dir = dir;
  }

  TestBundle host(String host, Header header) {
    hosts.put(host, header);
    perf.put(host, new StringBuilder());
    return this;
  }

  TestBundle container(int pid, String id, String host) {
    containers.append(pid).append(',').append(id).append(',').append(host).append(",pod-").append(id).append(",ns\n");
    return this;
  }

  TestBundle frequency(double hz) {
    frequency = hz;
    return this;
  }

  /** {@code requests} and {@code timeouts} of a container in window {@code w}. */
  TestBundle upstream(String id, int w, long requests, long timeouts) {
    upstream.append(T0 + w * W).append(',').append(T0 + (w + 1) * W).append(',').append(id).append(',')
        .append(requests).append(',').append(timeouts).append('\n');
    return this;
  }

  TestBundle drained(String id, long atMs) {
    traffic.add(atMs + "," + id + ",DRAINED");
    return this;
  }

  /**
   * {@code samples} samples of {@code comm} (pid/tid) in window {@code w}, each with the stack
   * {@code leafFirst} (frames as perf prints them, leaf first).
   */
  TestBundle samples(String host, String comm, int pid, int tid, int w, int samples, String... leafFirst) {
    Header header = hosts.get(host);
    StringBuilder out = perf.get(host);
    for (int i = 0; i < samples; i++) {
      long us = (T0 + w * W) * 1000 + (long) i * W * 1000 / samples + 17;
      String time = String.format(Locale.ROOT, "%d.%06d", us / 1_000_000, us % 1_000_000);
      switch (header) {
        case DEFAULT -> out.append(comm).append(' ').append(pid).append('/').append(tid).append(" [001] ")
            .append(time).append(":   10101010 cpu-clock: \n");
        case TID_ONLY_NO_PERIOD -> out.append(comm).append(' ').append(tid).append(' ').append(time)
            .append(": cpu-clock: \n");
        case PID_TID_NO_CPU -> out.append(comm).append(' ').append(pid).append('/').append(tid).append(' ')
            .append(time).append(":   10101010 cpu-clock: \n");
        default -> throw new IllegalStateException(header.toString());
      }
      long ip = 0x46e000;
      for (String frame : leafFirst) {
        out.append("\t    ").append(Long.toHexString(ip += 0x40)).append(' ').append(frame)
            .append(header == Header.TID_ONLY_NO_PERIOD ? "" : "+0x1f").append(" (/srv/bin)\n");
      }
      out.append('\n');
    }
    return this;
  }

  /** Writes the bundle; each host's text is split into {@code filesPerHost} files at sample boundaries. */
  Path write(int filesPerHost) {
    try {
      for (var entry : perf.entrySet()) {
        Path hostDir = Files.createDirectories(dir.resolve("perf").resolve(entry.getKey()));
        String[] samples = entry.getValue().toString().split("\n\n");
        for (int f = 0; f < filesPerHost; f++) {
          StringBuilder text = new StringBuilder();
          for (int i = f * samples.length / filesPerHost; i < (f + 1) * samples.length / filesPerHost; i++) {
            text.append(samples[i]).append("\n\n");
          }
          Files.writeString(hostDir.resolve("part-" + f + ".txt"), text);
        }
      }
      Files.writeString(dir.resolve("containers.csv"), containers);
      Files.writeString(dir.resolve("upstream.csv"), upstream);
      if (!traffic.isEmpty()) {
        Files.writeString(dir.resolve("traffic.csv"), "timestamp_ms,container_id,event\n" + String.join("\n", traffic) + "\n");
      }
      if (frequency != null) {
        Files.writeString(dir.resolve("meta.json"), "{\"sample_frequency_hz\": " + frequency + "}");
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
