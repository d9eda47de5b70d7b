package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A delivery log that lasts as long as the process, for a notifier without a store (the bounded
 * demo, tests): duplicates within one run are dropped, across restarts they are not. Keeps the
 * last {@code capacity} entries.
 */
public final class MemoryDeliveryLog implements DeliveryLog {
  public static final int DEFAULT_CAPACITY = 100_000;

  private final Map<String, Boolean> entries;

  public MemoryDeliveryLog() {
    this(DEFAULT_CAPACITY);
  }

  public MemoryDeliveryLog(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    this.entries = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  @Override
  public synchronized boolean delivered(String incidentId, String receiver, AlertEventType eventType) {
    return entries.containsKey(key(incidentId, receiver, eventType));
  }

  @Override
  public synchronized void record(String incidentId, String receiver, AlertEventType eventType) {
    entries.put(key(incidentId, receiver, eventType), Boolean.TRUE);
  }

  private static String key(String incidentId, String receiver, AlertEventType eventType) {
    return incidentId + "\n" + receiver + "\n" + eventType;
  }
}
