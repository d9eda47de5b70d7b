package dev.stallwatch.ingest.perf;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Samples for tests: made from perf script text by the real reader, and kept as values. */
public final class Samples {
  /** One table for every sample made here, so that they can share windows. */
  public static final FrameTable FRAMES = new FrameTable();

  /** A sample as a value, frames named, root first. */
  public record Sampled(String comm, int pid, int tid, int cpu, long timestampNanos, long period, String event,
                        List<String> frames) {
    public int processId() {
      return pid >= 0 ? pid : tid;
    }
  }

  private Samples() {}

  public static Sampled copy(PerfSample sample) {
    return new Sampled(sample.comm(), sample.pid(), sample.tid(), sample.cpu(), sample.timestampNanos(), sample.period(),
        sample.event(), frames(sample));
  }

  public static List<String> frames(PerfSample sample) {
    List<String> names = new ArrayList<>(sample.depth());
    for (int i = 0; i < sample.depth(); i++) {
      names.add(sample.frameTable().name(sample.frames()[i]));
    }
    return names;
  }

  public static List<Sampled> readAll(PerfScriptReader reader) {
    List<Sampled> samples = new ArrayList<>();
    try {
      reader.read(s -> samples.add(copy(s)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return samples;
  }

  public static PerfScriptReader reader(InputStream in) {
    try {
      return new PerfScriptReader(in, FRAMES);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static PerfScriptReader reader(String text) {
    return reader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
  }

  public static List<Sampled> read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return readAll(reader(in));
    }
  }

  /**
   * The sample perf script would print for these fields, read back by the reader: {@code pid}
   * -1 for a header with only a thread id, {@code cpu} -1 for none, frames root first.
   */
  public static PerfSample sample(String comm, int pid, int tid, int cpu, long timestampNanos, long period, String event,
      List<String> frames) {
    StringBuilder text = new StringBuilder(comm).append(' ');
    text.append(pid >= 0 ? pid + "/" + tid : Integer.toString(tid)).append(' ');
    if (cpu >= 0) {
      text.append(String.format("[%03d] ", cpu));
    }
    text.append(String.format("%d.%09d: ", timestampNanos / 1_000_000_000L, timestampNanos % 1_000_000_000L));
    if (period > 0) {
      text.append(period).append(' ');
    }
    if (!event.isEmpty()) {
      text.append(event).append(": ");
    }
    text.append('\n');
    for (int i = frames.size() - 1; i >= 0; i--) {
      text.append("\t0 ").append(frames.get(i)).append(" (/bin/app)\n");
    }
    text.append('\n');
    PerfSample[] last = {null};
    try {
      PerfScriptReader reader = reader(text.toString());
      reader.read(s -> last[0] = s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (last[0] == null) {
      throw new IllegalArgumentException("not a sample: " + text);
    }
    return last[0];
  }
}
