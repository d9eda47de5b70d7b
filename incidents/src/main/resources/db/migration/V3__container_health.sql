-- One row per container and evaluated 10 s window, fed from stallwatch.container-health.v1
-- (ContainerHealth, protobuf) by HealthIngestor: the series dashboards plot next to the
-- incidents. Written only by HealthStore's upsert, keyed by (container_id, window_end): a
-- redelivered window replaces its row.
--
-- Partitioned by the UTC day of window_end, so that retention drops whole days (no DELETE, no
-- dead rows to vacuum). The partitions are container_health_pYYYYMMDD; HealthStore creates a
-- day's partition before it writes that day's first row, and drops the days that fell out of
-- the retention, counted back from the newest window_end (event time, not the wall clock: a
-- replayed night of 2020 stays as long as nothing newer arrives).
CREATE TABLE container_health (
  container_id    text             NOT NULL,
  window_start    timestamptz      NOT NULL,
  window_end      timestamptz      NOT NULL,
  -- '' when the window had upstream data only
  host            text             NOT NULL,
  pod             text,
  namespace       text,
  cpu_cores       double precision NOT NULL,
  requests        bigint           NOT NULL,
  timeouts        bigint           NOT NULL,
  signature_id    text,
  signature_share double precision NOT NULL,
  detector_state  text             NOT NULL
    CHECK (detector_state IN ('HEALTHY', 'SPIKING', 'DRAINED', 'STUCK', 'ALERTING')),
  incident_id     text,
  PRIMARY KEY (container_id, window_end)
) PARTITION BY RANGE (window_end);

-- The primary key serves one container's series. Fleet-wide panels read only the notable windows
-- (not HEALTHY, a signature matched, or timeouts), a small part of the rows at 100k containers:
-- a partial index keeps their time ranges cheap without indexing every healthy window. A query
-- uses it when its WHERE implies this predicate (dashboards/README.md; DashboardLintTest checks).
CREATE INDEX container_health_notable_idx ON container_health (window_end)
  WHERE detector_state <> 'HEALTHY' OR signature_id IS NOT NULL OR timeouts > 0;

-- V2's default privileges already cover this table and every partition the same role creates
-- later; granting the parent here too keeps it readable when V2 ran as another role.
GRANT SELECT ON container_health TO stallwatch_reader;
