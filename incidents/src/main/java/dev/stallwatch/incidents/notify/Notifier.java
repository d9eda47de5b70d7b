package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Optional;

/**
 * One kind of receiver (PagerDuty, Alertmanager, a webhook): how an alert event looks on its wire.
 * Sending, retries, dead letters and offsets are {@link AlertNotifier}'s job, so a notifier only
 * builds requests. Each notifier is driven by a single delivery thread: its methods are never
 * called concurrently by the delivery.
 */
public interface Notifier {

  /** Short stable name for logs, the {@code receiver} metric label and dead-letter headers. */
  String name();

  /** The request that tells the receiver about one OPEN or RESOLVED alert. */
  HttpRequest request(DeadlockAlert alert);

  /** Called after the receiver accepted {@code alert} (a 2xx answer to {@link #request}). */
  default void accepted(DeadlockAlert alert) {}

  /** How often {@link #resendRequest()} must be sent; empty for receivers that need no re-sends. */
  default Optional<Duration> resendInterval() {
    return Optional.empty();
  }

  /** The periodic re-send of what is still firing, or empty when nothing is. */
  default Optional<HttpRequest> resendRequest() {
    return Optional.empty();
  }
}
