package dev.stallwatch.incidents.store;

import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.sql.DataSource;

/**
 * Writes deadlock alerts into the {@code incidents} table, idempotently by incident ID.
 *
 * <p>The merge rules make the row independent of the order and the number of deliveries, so
 * at-least-once delivery from Kafka is enough:
 * <ul>
 *   <li>status is RESOLVED once any RESOLVED alert was seen; an OPEN never re-opens it;
 *   <li>the resolution (resolvedAt, reason) is the first RESOLVED alert's;
 *   <li>the alert's fields and evidence are the OPEN alert's once it was seen (a RESOLVED alert
 *       carries a copy of them, so a RESOLVED-first row is complete until the OPEN arrives);
 *   <li>a write that changes nothing leaves the row, updated_at included, as it was.
 * </ul>
 * All of it is one {@code INSERT ... ON CONFLICT DO UPDATE} statement, atomic under concurrent
 * writers. {@link #write(List)} returns only after the transaction committed durably.
 */
public final class IncidentStore {
  /** The alert's own fields: taken from the OPEN alert, whatever order the alerts arrive in. */
  private static final List<String> ALERT_COLUMNS = List.of(
      "container_id", "host", "pod", "namespace", "signature_id", "signature_title", "spike_started_at",
      "drained_at", "drained_by", "stuck_since", "detected_at", "cpu_cores_before_drain", "cpu_cores_after_drain",
      "signature_share", "timeouts_at_spike", "requests_at_spike", "runtime_version", "remediation", "evidence");

  private static final List<String> INSERT_COLUMNS = Stream.concat(
      Stream.of("incident_id", "status", "resolved_at", "resolve_reason"), ALERT_COLUMNS.stream()).toList();

  // Built from the constant column names above; every value is a bound parameter.
  static final String UPSERT = "INSERT INTO incidents AS i (" + String.join(", ", INSERT_COLUMNS) + ")"
      + " VALUES (" + INSERT_COLUMNS.stream().map(c -> c.equals("evidence") ? "?::jsonb" : "?")
          .collect(Collectors.joining(", ")) + ")"
      + " ON CONFLICT (incident_id) DO UPDATE SET"
      + " status = CASE WHEN i.status = 'RESOLVED' OR excluded.status = 'RESOLVED' THEN 'RESOLVED' ELSE 'OPEN' END,"
      + " resolved_at = COALESCE(i.resolved_at, excluded.resolved_at),"
      + " resolve_reason = COALESCE(i.resolve_reason, excluded.resolve_reason),"
      + ALERT_COLUMNS.stream().map(c -> " " + c + " = " + fromOpen(c)).collect(Collectors.joining(",")) + ","
      + " updated_at = now()"
      // only write when something changes, so a duplicate leaves updated_at alone
      + " WHERE (i.status = 'OPEN' AND excluded.status = 'RESOLVED')"
      + " OR (i.resolved_at IS NULL AND excluded.resolved_at IS NOT NULL)"
      + " OR (excluded.status = 'OPEN' AND (" + ALERT_COLUMNS.stream().map(c -> "i." + c).collect(Collectors.joining(", "))
      + ") IS DISTINCT FROM (" + ALERT_COLUMNS.stream().map(c -> "excluded." + c).collect(Collectors.joining(", "))
      + "))"
      + " RETURNING (xmax = 0) AS inserted";

  private final DataSource dataSource;

  public IncidentStore(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  private static String fromOpen(String column) {
    return "CASE WHEN excluded.status = 'OPEN' THEN excluded." + column + " ELSE i." + column + " END";
  }

  public WriteOutcome write(DeadlockAlert alert) {
    return write(List.of(alert)).get(0);
  }

  /**
   * Writes the alerts in one transaction, in order.
   *
   * @return one outcome per alert
   * @throws IncidentStoreException when the transaction did not commit; then nothing was written
   */
  public List<WriteOutcome> write(List<DeadlockAlert> alerts) {
    if (alerts.isEmpty()) {
      return List.of();
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Transactions.ensureDurableCommit(c);
        List<WriteOutcome> outcomes = new ArrayList<>(alerts.size());
        try (PreparedStatement upsert = c.prepareStatement(UPSERT)) {
          for (DeadlockAlert alert : alerts) {
            bind(upsert, alert);
            try (ResultSet rs = upsert.executeQuery()) {
              outcomes.add(!rs.next() ? WriteOutcome.UNCHANGED
                  : rs.getBoolean("inserted") ? WriteOutcome.INSERTED : WriteOutcome.UPDATED);
            }
          }
        }
        c.commit();
        return outcomes;
      } catch (SQLException | RuntimeException e) {
        Transactions.rollbackAfter(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw new IncidentStoreException("could not write " + alerts.size() + " alert(s) to the incident store: "
          + e.getMessage(), e);
    }
  }

  private static void bind(PreparedStatement s, DeadlockAlert a) throws SQLException {
    boolean resolved = a.getEventType() == AlertEventType.RESOLVED;
    int i = 1;
    s.setString(i++, a.getIncidentId());
    s.setString(i++, resolved ? "RESOLVED" : "OPEN");
    setInstant(s, i++, resolved ? a.getResolvedAt() : null);
    s.setString(i++, resolved ? a.getResolveReason() : null);
    s.setString(i++, a.getContainerId());
    s.setString(i++, a.getHost());
    s.setString(i++, a.getPod());
    s.setString(i++, a.getNamespace());
    s.setString(i++, a.getSignatureId());
    s.setString(i++, a.getSignatureTitle());
    setInstant(s, i++, a.getSpikeStartedAt());
    setInstant(s, i++, a.getDrainedAt());
    s.setString(i++, a.getDrainedBy());
    setInstant(s, i++, a.getStuckSince());
    setInstant(s, i++, a.getDetectedAt());
    s.setDouble(i++, a.getCpuCoresBeforeDrain());
    s.setDouble(i++, a.getCpuCoresAfterDrain());
    s.setDouble(i++, a.getSignatureShare());
    s.setLong(i++, a.getTimeoutsAtSpike());
    s.setLong(i++, a.getRequestsAtSpike());
    s.setString(i++, a.getRuntimeVersion());
    s.setString(i++, a.getRemediation());
    s.setString(i, Evidence.of(a).toJson());
  }

  private static void setInstant(PreparedStatement s, int index, Instant instant) throws SQLException {
    if (instant == null) {
      s.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
    } else {
      s.setObject(index, instant.atOffset(ZoneOffset.UTC), Types.TIMESTAMP_WITH_TIMEZONE);
    }
  }
}
