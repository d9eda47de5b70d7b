package dev.stallwatch.ingest.host;

/** Reads fields of {@code /proc/PID/stat}. */
final class ProcStat {
  // fields after the closing ')' of comm start at field 3 (state); starttime is field 22
  private static final int START_TIME_INDEX_AFTER_COMM = 22 - 3;

  private ProcStat() {}

  /**
   * The process start time in clock ticks since boot (field 22). Together with the pid it names a
   * process uniquely, so a reused pid is told apart from the process that had it before.
   *
   * @throws IllegalArgumentException when the content is not a stat line
   */
  static long startTimeTicks(String stat) {
    // comm (field 2) is in parentheses and may contain spaces and ')' itself: the last ')' ends it
    int commEnd = stat.lastIndexOf(')');
    if (commEnd < 0) {
      throw new IllegalArgumentException("not a /proc/PID/stat line: no ')' after comm");
    }
    String[] fields = stat.substring(commEnd + 1).trim().split(" +");
    if (fields.length <= START_TIME_INDEX_AFTER_COMM) {
      throw new IllegalArgumentException(
          "not a /proc/PID/stat line: " + (fields.length + 2) + " fields, starttime is field 22");
    }
    try {
      return Long.parseLong(fields[START_TIME_INDEX_AFTER_COMM]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "not a /proc/PID/stat line: starttime is '" + fields[START_TIME_INDEX_AFTER_COMM] + "'", e);
    }
  }
}
