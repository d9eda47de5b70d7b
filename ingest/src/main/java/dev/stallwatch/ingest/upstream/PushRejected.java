package dev.stallwatch.ingest.upstream;

/** A push request the collector refuses, with the HTTP status and the one-line reason to send back. */
final class PushRejected extends Exception {
  final int status;

  PushRejected(int status, String message) {
    super(message);
    this.status = status;
  }
}
