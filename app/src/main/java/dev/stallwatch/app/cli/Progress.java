package dev.stallwatch.app.cli;

/** Progress lines for people, on stderr, so stdout stays machine-readable. */
public final class Progress {
  private Progress() {}

  public static void log(String message) {
    System.err.println("stallwatch: " + message);
  }
}
