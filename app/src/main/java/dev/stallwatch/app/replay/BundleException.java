package dev.stallwatch.app.replay;

import java.nio.file.Path;

/** A replay bundle that cannot be read; the message is one line naming the file, line and problem. */
public final class BundleException extends RuntimeException {
  public BundleException(Path file, long line, String problem) {
    super(file + (line > 0 ? " line " + line : "") + ": " + problem);
  }

  public BundleException(Path file, String problem) {
    this(file, 0, problem);
  }

  public BundleException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
  }
}
