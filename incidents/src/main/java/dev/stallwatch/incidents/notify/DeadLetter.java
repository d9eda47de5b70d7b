package dev.stallwatch.incidents.notify;

import java.util.Objects;

/**
 * An alert a receiver would not take (a 4xx other than 429, or retries used up), or a record
 * that is no alert, with the original bytes and why.
 *
 * @param receiver the receiver's name, or {@link #DECODER} for a record that did not decode
 * @param status the HTTP status, "network", or "undecodable"
 * @param error what went wrong, for people
 * @param source where the record was on the alerts topic
 */
public record DeadLetter(String receiver, String status, String error, AlertSource source) {
  /** The pseudo-receiver of records that are not alerts. */
  public static final String DECODER = "decoder";

  public DeadLetter {
    Objects.requireNonNull(receiver, "receiver");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(source, "source");
  }
}
