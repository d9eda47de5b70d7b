package dev.stallwatch.incidents.web;

import dev.stallwatch.incidents.store.IncidentIngestor;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the incident ingestor until closed, on a thread of its own, and tells {@code /healthz} whether it still does. */
final class IngestorThread implements HealthCheck, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(IngestorThread.class);

  private final IncidentIngestor ingestor;
  private final Thread thread;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean closing;

  private IngestorThread(IncidentIngestor ingestor) {
    this.ingestor = ingestor;
    this.thread = new Thread(this::run, "stallwatch-ingestor");
  }

  static IngestorThread start(IncidentIngestor ingestor) {
    IngestorThread running = new IngestorThread(ingestor);
    running.thread.start();
    return running;
  }

  private void run() {
    try {
      ingestor.run();
      if (!closing) {
        failure.compareAndSet(null, new IllegalStateException("the ingestor returned without being closed"));
      }
    } catch (RuntimeException | Error e) {
      failure.compareAndSet(null, e);
      LOG.error("the incident ingestor stopped; the store no longer receives alerts: {}", e.toString(), e);
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
    ingestor.close();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
