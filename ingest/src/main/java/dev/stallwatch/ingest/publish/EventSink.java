package dev.stallwatch.ingest.publish;

import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;

/**
 * Where a collector's events go: Kafka ({@link EventPublisher}), a spool in front of it, or
 * standard output for {@code --dry-run}.
 */
public interface EventSink extends AutoCloseable {
  void publish(ProfileWindow window);

  void publish(UpstreamWindow window);

  void publish(TrafficEvent event);

  /** Waits until everything published so far is delivered (or safely spooled). */
  void flush();

  @Override
  void close();
}
