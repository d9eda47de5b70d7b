package dev.stallwatch.ingest.collector;

/**
 * perf is missing or may not sample this host. The message is one line that says which and how
 * to fix it, fit to be shown to an operator as is.
 */
public final class PerfUnavailableException extends Exception {
  public PerfUnavailableException(String message) {
    super(oneLine(message));
  }

  public PerfUnavailableException(String message, Throwable cause) {
    super(oneLine(message), cause);
  }

  private static String oneLine(String message) {
    return message.replaceAll("\\s*\\R\\s*", " ").strip();
  }
}
