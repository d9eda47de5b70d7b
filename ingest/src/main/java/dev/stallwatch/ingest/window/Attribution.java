package dev.stallwatch.ingest.window;

import java.io.IOException;

/**
 * Which container a sample belongs to: its process, else its thread. perf prints {@code pid/tid}
 * or only a thread id; a thread that outlives the look-up of its process (or a {@code
 * containers.csv} that lists thread ids) is still found by its own id. The collector looks ids up
 * in {@code /proc}, replay in the bundle's {@code containers.csv}.
 */
public final class Attribution {
  /** Finds the container of one process or thread id; null when there is none. */
  @FunctionalInterface
  public interface Lookup<T> {
    T find(int id) throws IOException;
  }

  private Attribution() {}

  /** The container of a sample with {@code pid} (-1 when perf printed none) and {@code tid}, or null. */
  public static <T> T attribute(int pid, int tid, Lookup<T> lookup) throws IOException {
    int processId = pid >= 0 ? pid : tid;
    T found = lookup.find(processId);
    if (found == null && tid != processId) {
      found = lookup.find(tid);
    }
    return found;
  }
}
