package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One receiver's own queue and thread: alerts reach it in topic order, and however long it
 * retries, no other receiver waits for it. Between alerts it does the receiver's re-sends.
 */
final class ReceiverWorker {
  private static final Logger LOG = LoggerFactory.getLogger(ReceiverWorker.class);
  // with no re-sends the thread only waits for alerts; the bound only limits one wait
  private static final long IDLE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(60);

  private final Notifier notifier;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final RetryPolicy retry;
  private final DeadLetterSink deadLetters;
  private final NotifierMetrics metrics;
  private final DeliveryLog deliveryLog;
  private final Consumer<Throwable> onFatal;
  private final LinkedBlockingQueue<PendingAlert> queue = new LinkedBlockingQueue<>();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final Thread thread;
  private volatile boolean stopping;

  ReceiverWorker(Notifier notifier, HttpClient http, Duration requestTimeout, RetryPolicy retry,
                 DeadLetterSink deadLetters, NotifierMetrics metrics, DeliveryLog deliveryLog,
                 Consumer<Throwable> onFatal) {
    this.deliveryLog = deliveryLog;
    this.notifier = notifier;
    this.http = http;
    this.requestTimeout = requestTimeout;
    this.retry = retry;
    this.deadLetters = deadLetters;
    this.metrics = metrics;
    this.onFatal = onFatal;
    this.thread = new Thread(this::run, "stallwatch-notify-" + notifier.name());
    this.thread.setDaemon(true);
  }

  String name() {
    return notifier.name();
  }

  void start() {
    thread.start();
  }

  void submit(PendingAlert alert) {
    queue.add(alert);
  }

  long delivered() {
    return delivered.get();
  }

  long deadLettered() {
    return deadLettered.get();
  }

  /**
   * Stops at once: an alert in the middle of its attempts is left undone, so its offset is not
   * committed and a restart delivers it again.
   */
  void stop() {
    stopping = true;
    thread.interrupt();
  }

  void awaitStopped() throws InterruptedException {
    thread.join();
  }

  private void run() {
    Optional<Duration> resendInterval = notifier.resendInterval();
    long nextResend = resendInterval.map(i -> System.nanoTime() + i.toNanos()).orElse(Long.MAX_VALUE);
    try {
      while (!stopping) {
        long wait = resendInterval.isPresent() ? Math.max(0, nextResend - System.nanoTime()) : IDLE_WAIT_NANOS;
        PendingAlert alert = queue.poll(wait, TimeUnit.NANOSECONDS);
        if (alert != null) {
          deliver(alert);
        }
        if (resendInterval.isPresent() && System.nanoTime() - nextResend >= 0) {
          resend();
          nextResend = System.nanoTime() + resendInterval.get().toNanos();
        }
      }
    } catch (InterruptedException e) {
      // stop(): leave the alert in hand undone, see stop()
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("{}: delivery stopped: {}", notifier.name(), e.toString(), e);
      onFatal.accept(e);
    }
  }

  private void deliver(PendingAlert pending) throws InterruptedException {
    DeadlockAlert alert = pending.alert();
    if (alreadyDelivered(alert)) {
      metrics.duplicate(notifier.name());
      LOG.info("{}: {} alert for incident {} was delivered before; not sending it again", notifier.name(),
          alert.getEventType(), alert.getIncidentId());
      pending.receiverDone();
      return;
    }
    HttpRequest request;
    try {
      request = withTimeout(notifier.request(alert));
    } catch (RuntimeException e) {
      // an alert this receiver cannot express will not become expressible by retrying
      giveUp(pending, "invalid", "could not build the request: " + e, 0);
      return;
    }
    long start = System.nanoTime();
    long deadline = start + retry.maxRetryTime().toNanos();
    for (int attempt = 1; ; attempt++) {
      AttemptResult result = attempt(request);
      if (result.accepted()) {
        delivered.incrementAndGet();
        metrics.delivered(notifier.name());
        notifier.accepted(alert);
        remember(alert);
        LOG.info("{}: {} alert for incident {} (container {}) accepted ({}) after {} attempt(s)", notifier.name(),
            alert.getEventType(), alert.getIncidentId(), alert.getContainerId(), result.status(), attempt);
        pending.receiverDone();
        return;
      }
      metrics.attemptFailed(notifier.name());
      if (!result.retryable()) {
        giveUp(pending, result.statusText(), result.describe(), attempt);
        return;
      }
      Duration wait = retry.backoff(attempt, ThreadLocalRandom.current());
      if (result.retryAfter().isPresent() && result.retryAfter().get().compareTo(wait) > 0) {
        wait = result.retryAfter().get();
      }
      if (System.nanoTime() + wait.toNanos() - deadline > 0) {
        giveUp(pending, result.statusText(), "gave up after " + attempt + " attempts in "
            + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms (max retry time " + retry.maxRetryTime()
            + "); last: " + result.describe(), attempt);
        return;
      }
      LOG.warn("{}: {} alert for incident {}: attempt {} failed ({}); retrying in {} ms", notifier.name(),
          alert.getEventType(), alert.getIncidentId(), attempt, result.describe(), wait.toMillis());
      TimeUnit.NANOSECONDS.sleep(wait.toNanos());
    }
  }

  /**
   * Alerts come at least once. A log that cannot answer does not stop the page: a repeated
   * trigger folds into the open PagerDuty incident by its dedup_key, a missed page is worse.
   */
  private boolean alreadyDelivered(DeadlockAlert alert) {
    try {
      return deliveryLog.delivered(alert.getIncidentId(), notifier.name(), alert.getEventType());
    } catch (RuntimeException e) {
      metrics.deliveryLogError(notifier.name());
      LOG.warn("{}: cannot tell whether incident {} was delivered ({}); sending it", notifier.name(),
          alert.getIncidentId(), e.toString());
      return false;
    }
  }

  private void remember(DeadlockAlert alert) {
    try {
      deliveryLog.record(alert.getIncidentId(), notifier.name(), alert.getEventType());
    } catch (RuntimeException e) {
      metrics.deliveryLogError(notifier.name());
      LOG.warn("{}: could not record the delivery of incident {} ({}); a redelivered copy would be sent again",
          notifier.name(), alert.getIncidentId(), e.toString());
    }
  }

  private void giveUp(PendingAlert pending, String status, String error, int attempts) throws InterruptedException {
    DeadlockAlert alert = pending.alert();
    LOG.error("{}: {} alert for incident {} (container {}) not delivered after {} attempt(s): {}; dead-lettering {}",
        notifier.name(), alert.getEventType(), alert.getIncidentId(), alert.getContainerId(), attempts, error,
        pending.source());
    deadLetters.send(new DeadLetter(notifier.name(), status, error, pending.source()));
    deadLettered.incrementAndGet();
    metrics.failed(notifier.name());
    pending.receiverDone();
  }

  private void resend() throws InterruptedException {
    Optional<HttpRequest> request = notifier.resendRequest();
    if (request.isEmpty()) {
      return;
    }
    AttemptResult result = attempt(withTimeout(request.get()));
    if (result.accepted()) {
      metrics.resent(notifier.name());
      LOG.debug("{}: re-sent the firing incidents", notifier.name());
    } else {
      // the next interval tries again; the receiver's own timeout is several intervals long
      metrics.attemptFailed(notifier.name());
      LOG.warn("{}: re-sending the firing incidents failed ({}); next try in {} s", notifier.name(),
          result.describe(), notifier.resendInterval().map(Duration::toSeconds).orElse(0L));
    }
  }

  private AttemptResult attempt(HttpRequest request) throws InterruptedException {
    try {
      return AttemptResult.of(http.send(request, HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return AttemptResult.networkError(e);
    }
  }

  private HttpRequest withTimeout(HttpRequest request) {
    return HttpRequest.newBuilder(request, (name, value) -> true).timeout(requestTimeout).build();
  }
}
