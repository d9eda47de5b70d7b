-- One row per deadlock incident, fed from stallwatch.alerts.v1 (DeadlockAlert, Avro).
-- Written only by IncidentStore's upsert, keyed by the deterministic incident ID: OPEN and
-- RESOLVED alerts, duplicates included, converge on one row in any order.
CREATE TABLE incidents (
  incident_id            text             PRIMARY KEY,
  status                 text             NOT NULL CHECK (status IN ('OPEN', 'RESOLVED')),
  container_id           text             NOT NULL,
  host                   text             NOT NULL,
  pod                    text,
  namespace              text,
  signature_id           text             NOT NULL,
  signature_title        text             NOT NULL,
  spike_started_at       timestamptz      NOT NULL,
  drained_at             timestamptz      NOT NULL,
  drained_by             text             NOT NULL,
  stuck_since            timestamptz      NOT NULL,
  detected_at            timestamptz      NOT NULL,
  resolved_at            timestamptz,
  resolve_reason         text,
  cpu_cores_before_drain double precision NOT NULL,
  cpu_cores_after_drain  double precision NOT NULL,
  signature_share        double precision NOT NULL,
  timeouts_at_spike      bigint           NOT NULL,
  requests_at_spike      bigint           NOT NULL,
  -- also inside evidence; a column too so that "which runtimes wedged" is a plain GROUP BY
  runtime_version        text,
  remediation            text,
  -- {"topStacks": [{"folded", "weight", "share"}], "runtimeVersion", "knownIssues": [{"id", "url",
  -- "title", "fixedIn", "versionAffected"}]}: the field names of the alert's JSON form
  evidence               jsonb            NOT NULL,
  created_at             timestamptz      NOT NULL DEFAULT now(),
  updated_at             timestamptz      NOT NULL DEFAULT now(),
  CONSTRAINT open_has_no_resolution CHECK (status = 'RESOLVED' OR resolved_at IS NULL)
);

-- Every list is newest first by detection time; the incident ID breaks ties so pages are stable.
CREATE INDEX incidents_detected_idx ON incidents (detected_at DESC, incident_id DESC);
-- text_pattern_ops: a container filter matches a full ID or a prefix (the 12 characters docker shows).
CREATE INDEX incidents_container_idx ON incidents (container_id text_pattern_ops);
CREATE INDEX incidents_host_idx ON incidents (host, detected_at DESC);
CREATE INDEX incidents_namespace_idx ON incidents (namespace, detected_at DESC);
CREATE INDEX incidents_signature_idx ON incidents (signature_id, detected_at DESC);
-- Open incidents are few and asked for often; resolved ones are most rows and use the time index.
CREATE INDEX incidents_open_idx ON incidents (detected_at DESC) WHERE status = 'OPEN';
