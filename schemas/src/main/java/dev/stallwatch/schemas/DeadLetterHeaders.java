package dev.stallwatch.schemas;

/**
 * Headers of a record on the dead-letter topic. The value is the original record's bytes; the
 * headers say what went wrong and where the record came from, whoever dead-lettered it (the
 * detection job, the incident ingestor or a notifier).
 */
public final class DeadLetterHeaders {
  /** One line: why the record could not be used. */
  public static final String ERROR = "stallwatch.error";
  /**
   * A short machine-readable class of {@link #ERROR} (e.g. undecodable, contract, future, past,
   * number), where the writer has one.
   */
  public static final String REASON = "stallwatch.reason";
  /** The notifier whose receiver refused the alert (notifiers only). */
  public static final String RECEIVER = "stallwatch.receiver";
  /** The HTTP status the receiver answered (notifiers only). */
  public static final String STATUS = "stallwatch.status";
  public static final String SOURCE_TOPIC = "stallwatch.source.topic";
  public static final String SOURCE_PARTITION = "stallwatch.source.partition";
  public static final String SOURCE_OFFSET = "stallwatch.source.offset";
  public static final String SOURCE_TIMESTAMP = "stallwatch.source.timestamp";

  private DeadLetterHeaders() {}
}
