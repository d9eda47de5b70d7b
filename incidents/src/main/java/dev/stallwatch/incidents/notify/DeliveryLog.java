package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.AlertEventType;

/**
 * What the notifier has delivered, by incident, receiver and event type: alerts come at least
 * once, and an event already accepted by a receiver is not sent to it again. Called by the
 * receivers' delivery threads, concurrently.
 */
public interface DeliveryLog {

  /** True when {@code receiver} already accepted {@code eventType} for the incident. */
  boolean delivered(String incidentId, String receiver, AlertEventType eventType);

  /** {@code receiver} accepted {@code eventType} for the incident. */
  void record(String incidentId, String receiver, AlertEventType eventType);
}
