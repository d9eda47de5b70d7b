package dev.stallwatch.app.cli;

/** Wrong usage or bad input: printed as one line, exit code 2, no stack trace. */
public final class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
  }
}
