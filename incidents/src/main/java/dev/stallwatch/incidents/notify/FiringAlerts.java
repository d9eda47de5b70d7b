package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The incidents an Alertmanager must keep hearing about, oldest first, at most {@code capacity}:
 * a bound, so that a flood of incidents that never resolve cannot grow the re-send without limit.
 */
final class FiringAlerts {
  private static final Logger LOG = LoggerFactory.getLogger(FiringAlerts.class);

  private final int capacity;
  private final Map<String, DeadlockAlert> byIncident = new LinkedHashMap<>();

  FiringAlerts(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("the firing-alert capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
  }

  synchronized void fire(DeadlockAlert open) {
    byIncident.put(open.getIncidentId(), open);
    Iterator<DeadlockAlert> oldest = byIncident.values().iterator();
    while (byIncident.size() > capacity) {
      DeadlockAlert dropped = oldest.next();
      oldest.remove();
      LOG.warn("more than {} incidents firing: no longer re-sending incident {} (container {}) to Alertmanager,"
          + " which resolves it after its resolve_timeout", capacity, dropped.getIncidentId(), dropped.getContainerId());
    }
  }

  synchronized void resolve(String incidentId) {
    byIncident.remove(incidentId);
  }

  synchronized List<DeadlockAlert> snapshot() {
    return new ArrayList<>(byIncident.values());
  }

  synchronized int size() {
    return byIncident.size();
  }
}
