package dev.stallwatch.ingest.publish;

import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;

/**
 * Where a collector's events go: Kafka ({@link EventPublisher}), a spool in front of it, or
 * standard output for {@code --dry-run}.
 */
public interface EventSink extends AutoCloseable {
  void publish(ProfileWindow window);

  void publish(UpstreamWindow window);

  void publish(TrafficEvent event);

  /** What a collector published for one container and window ({@link WindowManifests} sends these). */
  default void publish(WindowManifest manifest) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not carry window manifests");
  }

  /** Waits until everything published so far is delivered (or safely spooled). */
  void flush();

  @Override
  void close();
}
