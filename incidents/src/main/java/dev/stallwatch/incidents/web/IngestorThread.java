package dev.stallwatch.incidents.web;

import dev.stallwatch.incidents.health.HealthIngestor;
import dev.stallwatch.incidents.store.IncidentIngestor;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an ingestor (alerts or container health) until closed, on a thread of its own, and tells
 * {@code /healthz} whether it still does.
 */
final class IngestorThread implements HealthCheck, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(IngestorThread.class);

  private final Runnable body;
  private final Runnable stop;
  private final String stoppedMessage;
  private final Thread thread;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean closing;

  private IngestorThread(Runnable body, Runnable stop, String threadName, String stoppedMessage) {
    this.body = body;
    this.stop = stop;
    this.stoppedMessage = stoppedMessage;
    this.thread = new Thread(this::run, threadName);
  }

  static IngestorThread start(IncidentIngestor ingestor) {
    return start(new IngestorThread(ingestor::run, ingestor::close, "stallwatch-ingestor",
        "the incident ingestor stopped; the store no longer receives alerts"));
  }

  static IngestorThread start(HealthIngestor ingestor) {
    return start(new IngestorThread(ingestor::run, ingestor::close, "stallwatch-health-ingestor",
        "the container health ingestor stopped; container_health no longer receives windows"));
  }

  private static IngestorThread start(IngestorThread running) {
    running.thread.start();
    return running;
  }

  private void run() {
    try {
      body.run();
      if (!closing) {
        failure.compareAndSet(null, new IllegalStateException("the ingestor returned without being closed"));
      }
    } catch (RuntimeException | Error e) {
      failure.compareAndSet(null, e);
      LOG.error("{}: {}", stoppedMessage, e.toString(), e);
    }
  }

  @Override
  public Health check() {
    Throwable error = failure.get();
    if (error != null) {
      return Health.failing("stopped: " + error);
    }
    return thread.isAlive() ? Health.ok("running") : Health.failing("stopped");
  }

  /** Stops the ingestor; it commits what it stored and leaves its consumer group. */
  @Override
  public void close() {
    closing = true;
    stop.run();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
