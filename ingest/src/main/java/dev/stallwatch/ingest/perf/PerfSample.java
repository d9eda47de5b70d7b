package dev.stallwatch.ingest.perf;

import java.util.List;

/**
 * One sample from {@code perf script}: who was on CPU, when, and the call stack.
 *
 * @param comm process (thread) name as perf prints it; may contain spaces
 * @param pid process id, or -1 when the header has only a thread id
 * @param tid thread id
 * @param cpu cpu number, or -1 when the header has none
 * @param timestampNanos perf's timestamp converted to nanoseconds (epoch with {@code -k CLOCK_REALTIME})
 * @param period the sample period (nanoseconds for cpu-clock), or 0 when perf printed none
 * @param event event name without the trailing colon, e.g. {@code cpu-clock}
 * @param frames frame names in the folded stack format, root first, comm not included
 */
public record PerfSample(
    String comm,
    int pid,
    int tid,
    int cpu,
    long timestampNanos,
    long period,
    String event,
    List<String> frames) {

  /** The pid when perf printed one, else the tid: the id that {@code containers.csv} lists. */
  public int processId() {
    return pid >= 0 ? pid : tid;
  }
}
