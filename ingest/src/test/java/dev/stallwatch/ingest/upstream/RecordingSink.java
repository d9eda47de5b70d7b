package dev.stallwatch.ingest.upstream;

import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.util.ArrayList;
import java.util.List;

/** Keeps what is published, in order, for the test to read (the role of --dry-run's stdout sink). */
final class RecordingSink implements EventSink {
  final List<UpstreamWindow> windows = new ArrayList<>();
  final List<TrafficEvent> traffic = new ArrayList<>();

  @Override
  public synchronized void publish(ProfileWindow window) {
    throw new AssertionError("upstream sources publish no profile windows");
  }

  @Override
  public synchronized void publish(UpstreamWindow window) {
    windows.add(window);
  }

  @Override
  public synchronized void publish(TrafficEvent event) {
    traffic.add(event);
  }

  synchronized List<UpstreamWindow> windows() {
    return List.copyOf(windows);
  }

  synchronized List<TrafficEvent> traffic() {
    return List.copyOf(traffic);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
