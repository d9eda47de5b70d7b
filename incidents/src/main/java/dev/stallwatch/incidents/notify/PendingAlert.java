package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.util.concurrent.atomic.AtomicInteger;

/** One alert on its way to every receiver; {@code onDone} runs when the last one is through. */
final class PendingAlert {
  private final DeadlockAlert alert;
  private final AlertSource source;
  private final AtomicInteger remaining;
  private final Runnable onDone;

  PendingAlert(DeadlockAlert alert, AlertSource source, int receivers, Runnable onDone) {
    this.alert = alert;
    this.source = source;
    this.remaining = new AtomicInteger(receivers);
    this.onDone = onDone;
  }

  DeadlockAlert alert() {
    return alert;
  }

  AlertSource source() {
    return source;
  }

  /** A receiver delivered the alert or dead-lettered it. */
  void receiverDone() {
    if (remaining.decrementAndGet() == 0) {
      onDone.run();
    }
  }
}
