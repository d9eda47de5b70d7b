-- What the notifier delivered: one row per incident, receiver and event type (OPEN, RESOLVED),
-- written after the receiver accepted it. The detection job writes alerts at least once, so the
-- same alert can reach the notifier again (a job restarted from a checkpoint, a notifier
-- restarted before its offsets were committed); the notifier sends an event to a receiver only
-- when it has no row for it here, so PagerDuty never gets a second trigger for one incident.
CREATE TABLE notifier_deliveries (
  incident_id  text        NOT NULL,
  receiver     text        NOT NULL,
  event_type   text        NOT NULL CHECK (event_type IN ('OPEN', 'RESOLVED')),
  delivered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, receiver, event_type)
);
