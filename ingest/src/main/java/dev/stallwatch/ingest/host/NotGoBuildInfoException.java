package dev.stallwatch.ingest.host;

/**
 * The bytes read are not what a Go executable would hold: not ELF, no build info, or a header or
 * pointer that leads outside the file. {@link GoBuildInfo#read} turns it into an empty result.
 */
final class NotGoBuildInfoException extends Exception {
  NotGoBuildInfoException(String message) {
    super(message);
  }
}
