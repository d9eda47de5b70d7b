package dev.stallwatch.ingest.perf;

/**
 * One sample from {@code perf script}, as {@link PerfScriptReader} hands it to its consumer: who
 * was on CPU, when, and the call stack as {@link FrameTable} ids. The reader reuses one instance
 * for every sample, so a consumer reads it during the call and keeps nothing of it.
 */
public final class PerfSample {
  String comm;
  int pid;
  int tid;
  int cpu;
  long timestampNanos;
  long period;
  String event;
  int processFrame;
  int[] frames = new int[64];
  int depth;
  final FrameTable frameTable;

  PerfSample(FrameTable frameTable) {
    this.frameTable = frameTable;
  }

  /** Process (thread) name as perf prints it; may contain spaces. */
  public String comm() {
    return comm;
  }

  /** Process id, or -1 when the header has only a thread id. */
  public int pid() {
    return pid;
  }

  public int tid() {
    return tid;
  }

  /** The pid when perf printed one, else the tid: the id that {@code /proc} and {@code containers.csv} know. */
  public int processId() {
    return pid >= 0 ? pid : tid;
  }

  /** Cpu number, or -1 when the header has none. */
  public int cpu() {
    return cpu;
  }

  /** perf's timestamp in nanoseconds (epoch with {@code -k CLOCK_REALTIME}). */
  public long timestampNanos() {
    return timestampNanos;
  }

  /** The sample period (nanoseconds for cpu-clock), or 0 when perf printed none. */
  public long period() {
    return period;
  }

  /** Event name without the trailing colon, e.g. {@code cpu-clock}; empty when the header has none. */
  public String event() {
    return event;
  }

  /** The id of the folded process frame (the comm, tidied as the folded format does). */
  public int processFrame() {
    return processFrame;
  }

  /** Frame ids, root first, in {@code [0, depth())}; the array belongs to the reader. */
  public int[] frames() {
    return frames;
  }

  public int depth() {
    return depth;
  }

  /** The table that names {@link #processFrame()} and {@link #frames()}. */
  public FrameTable frameTable() {
    return frameTable;
  }
}
