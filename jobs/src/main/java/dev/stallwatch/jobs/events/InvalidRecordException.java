package dev.stallwatch.jobs.events;

/** A record that decoded as protobuf but breaks the contract (no container ID, bad window, ...). */
public final class InvalidRecordException extends Exception {

  private final DeadLetterReason reason;

  public InvalidRecordException(String message) {
    this(DeadLetterReason.CONTRACT, message);
  }

  public InvalidRecordException(DeadLetterReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public DeadLetterReason reason() {
    return reason;
  }
}
