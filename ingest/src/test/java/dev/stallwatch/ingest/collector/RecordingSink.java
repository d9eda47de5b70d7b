package dev.stallwatch.ingest.collector;

import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.util.ArrayList;
import java.util.List;

/** Keeps what the collector publishes, in order. */
final class RecordingSink implements EventSink {
  private final List<ProfileWindow> windows = new ArrayList<>();
  private int flushes;

  @Override
  public synchronized void publish(ProfileWindow window) {
    windows.add(window);
  }

  @Override
  public void publish(UpstreamWindow window) {
    throw new UnsupportedOperationException("the collector core publishes profile windows only");
  }

  @Override
  public void publish(TrafficEvent event) {
    throw new UnsupportedOperationException("the collector core publishes profile windows only");
  }

  @Override
  public synchronized void flush() {
    flushes++;
  }

  @Override
  public void close() {}

  synchronized List<ProfileWindow> windows() {
    return List.copyOf(windows);
  }

  synchronized int flushes() {
    return flushes;
  }
}
