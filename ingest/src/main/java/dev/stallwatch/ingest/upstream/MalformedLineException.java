package dev.stallwatch.ingest.upstream;

/** A line a source cannot read; it is counted and skipped, never fatal. */
public final class MalformedLineException extends Exception {
  public MalformedLineException(String message) {
    super(message);
  }
}
