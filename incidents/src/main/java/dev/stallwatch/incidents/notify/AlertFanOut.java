package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Hands each alert to every receiver's worker; the alert is done when the slowest receiver is
 * through with it. Knows nothing of Kafka: {@link AlertNotifier} decides what "done" means.
 */
final class AlertFanOut implements AutoCloseable {
  private final List<ReceiverWorker> workers = new ArrayList<>();

  AlertFanOut(List<Notifier> notifiers, HttpClient http, Duration requestTimeout, RetryPolicy retry,
              DeadLetterSink deadLetters, NotifierMetrics metrics, DeliveryLog deliveryLog,
              Consumer<Throwable> onFatal) {
    for (Notifier notifier : notifiers) {
      workers.add(new ReceiverWorker(notifier, http, requestTimeout, retry, deadLetters, metrics, deliveryLog,
          onFatal));
    }
    workers.forEach(ReceiverWorker::start);
  }

  /** Queues {@code alert} for every receiver; {@code onDone} runs on the thread of the last one through. */
  void submit(DeadlockAlert alert, AlertSource source, Runnable onDone) {
    PendingAlert pending = new PendingAlert(alert, source, workers.size(), onDone);
    for (ReceiverWorker worker : workers) {
      worker.submit(pending);
    }
  }

  /** Alert events each receiver accepted so far, by receiver name. */
  Map<String, Long> delivered() {
    Map<String, Long> delivered = new LinkedHashMap<>();
    workers.forEach(w -> delivered.put(w.name(), w.delivered()));
    return delivered;
  }

  long deadLettered() {
    return workers.stream().mapToLong(ReceiverWorker::deadLettered).sum();
  }

  /** Stops every worker at once; alerts still in flight stay undone. */
  @Override
  public void close() {
    workers.forEach(ReceiverWorker::stop);
    try {
      for (ReceiverWorker worker : workers) {
        worker.awaitStopped();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the receivers' threads", e);
    }
  }
}
