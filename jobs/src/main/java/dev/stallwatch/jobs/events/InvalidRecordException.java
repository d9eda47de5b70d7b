package dev.stallwatch.jobs.events;

/** A record that decoded as protobuf but breaks the contract (no container ID, bad window, ...). */
public final class InvalidRecordException extends Exception {

  public InvalidRecordException(String message) {
    super(message);
  }
}
