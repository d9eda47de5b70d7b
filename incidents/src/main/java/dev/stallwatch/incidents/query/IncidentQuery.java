package dev.stallwatch.incidents.query;

import dev.stallwatch.incidents.store.Evidence;
import dev.stallwatch.incidents.store.IncidentStoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Reads incidents: filtered lists, newest first (by detection time), paginated, and single
 * incidents by ID. Every value from a caller is a bound parameter; the SQL text is built only
 * from the constants of this class.
 */
public final class IncidentQuery {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 1000;

  private static final String COLUMNS = "incident_id, status, container_id, host, pod, namespace, signature_id, "
      + "signature_title, spike_started_at, drained_at, drained_by, stuck_since, detected_at, resolved_at, "
      + "resolve_reason, cpu_cores_before_drain, cpu_cores_after_drain, signature_share, timeouts_at_spike, "
      + "requests_at_spike, evidence::text AS evidence, remediation, created_at, updated_at";
  private static final String NEWEST_FIRST = " ORDER BY detected_at DESC, incident_id DESC";
  /** A prefix must be this long to stand for an ID, so that a typo does not match half the table. */
  public static final int MIN_ID_PREFIX = 4;

  private final DataSource dataSource;

  /** @param dataSource preferably {@code IncidentDatabase.readOnlyDataSource()} */
  public IncidentQuery(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  /**
   * One page of the incidents that match, newest first.
   *
   * @param limit 1 to {@link #MAX_LIMIT}
   * @param offset how many matches to skip, 0 or more
   */
  public IncidentPage search(IncidentFilter filter, int limit, int offset) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
    }
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be 0 or more, got " + offset);
    }
    Where where = Where.of(filter);
    try (Connection c = dataSource.getConnection()) {
      // one snapshot for the count and the page, so that total and rows agree under writes
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      long total;
      try (PreparedStatement count = c.prepareStatement("SELECT count(*) FROM incidents" + where.sql)) {
        where.bind(count, 1);
        try (ResultSet rs = count.executeQuery()) {
          rs.next();
          total = rs.getLong(1);
        }
      }
      List<Incident> incidents = new ArrayList<>();
      try (PreparedStatement select = c.prepareStatement(
          "SELECT " + COLUMNS + " FROM incidents" + where.sql + NEWEST_FIRST + " LIMIT ? OFFSET ?")) {
        int next = where.bind(select, 1);
        select.setInt(next++, limit);
        select.setInt(next, offset);
        try (ResultSet rs = select.executeQuery()) {
          while (rs.next()) {
            incidents.add(incident(rs));
          }
        }
      }
      c.commit();
      return new IncidentPage(incidents, total, limit, offset);
    } catch (SQLException e) {
      throw failure("list incidents", e);
    }
  }

  public Optional<Incident> findById(String incidentId) {
    List<Incident> found = select(" WHERE incident_id = ?", incidentId, 1);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /**
   * The incident with this ID or, failing that, the incidents whose ID starts with it (at least
   * {@link #MIN_ID_PREFIX} characters), as git takes a short commit ID. Up to {@code max}, newest first.
   */
  public List<Incident> findByIdOrPrefix(String idOrPrefix, int max) {
    Optional<Incident> exact = findById(idOrPrefix);
    if (exact.isPresent() || idOrPrefix.length() < MIN_ID_PREFIX) {
      return exact.map(List::of).orElse(List.of());
    }
    return select(" WHERE incident_id LIKE ? ESCAPE '\\'" + NEWEST_FIRST, likePrefix(idOrPrefix), max);
  }

  private List<Incident> select(String condition, String value, int max) {
    try (Connection c = dataSource.getConnection();
         PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM incidents" + condition + " LIMIT ?")) {
      s.setString(1, value);
      s.setInt(2, max);
      List<Incident> found = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          found.add(incident(rs));
        }
      }
      return found;
    } catch (SQLException e) {
      throw failure("read incident " + value, e);
    }
  }

  /** LIKE pattern for "starts with": the text's own wildcards are escaped. */
  static String likePrefix(String text) {
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
  }

  private static IncidentStoreException failure(String what, SQLException e) {
    if ("42P01".equals(e.getSQLState())) {
      return new IncidentStoreException("the incident store has no incidents table yet: run the ingestor "
          + "('stallwatch serve') against it once to apply the migrations", e);
    }
    return new IncidentStoreException("could not " + what + ": " + e.getMessage(), e);
  }

  private static Incident incident(ResultSet rs) throws SQLException {
    return new Incident(
        rs.getString("incident_id"),
        IncidentStatus.valueOf(rs.getString("status")),
        rs.getString("container_id"),
        rs.getString("host"),
        rs.getString("pod"),
        rs.getString("namespace"),
        rs.getString("signature_id"),
        rs.getString("signature_title"),
        instant(rs, "spike_started_at"),
        instant(rs, "drained_at"),
        rs.getString("drained_by"),
        instant(rs, "stuck_since"),
        instant(rs, "detected_at"),
        instant(rs, "resolved_at"),
        rs.getString("resolve_reason"),
        rs.getDouble("cpu_cores_before_drain"),
        rs.getDouble("cpu_cores_after_drain"),
        rs.getDouble("signature_share"),
        rs.getLong("timeouts_at_spike"),
        rs.getLong("requests_at_spike"),
        Evidence.fromJson(rs.getString("evidence")),
        rs.getString("remediation"),
        instant(rs, "created_at"),
        instant(rs, "updated_at"));
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  /** The WHERE clause of a filter: fixed SQL fragments, the filter's values as parameters. */
  private record Where(String sql, List<Object> values) {
    static Where of(IncidentFilter f) {
      List<String> conditions = new ArrayList<>();
      List<Object> values = new ArrayList<>();
      if (f.since() != null) {
        conditions.add("detected_at >= ?");
        values.add(f.since().atOffset(ZoneOffset.UTC));
      }
      if (f.until() != null) {
        conditions.add("detected_at < ?");
        values.add(f.until().atOffset(ZoneOffset.UTC));
      }
      if (f.container() != null) {
        conditions.add("container_id LIKE ? ESCAPE '\\'");
        values.add(likePrefix(f.container()));
      }
      if (f.host() != null) {
        conditions.add("host = ?");
        values.add(f.host());
      }
      if (f.namespace() != null) {
        conditions.add("namespace = ?");
        values.add(f.namespace());
      }
      if (f.signature() != null) {
        conditions.add("signature_id = ?");
        values.add(f.signature());
      }
      if (f.status() != null) {
        conditions.add("status = ?");
        values.add(f.status().name());
      }
      return new Where(conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions), values);
    }

    /** Binds the values from {@code first}; returns the next parameter index. */
    int bind(PreparedStatement s, int first) throws SQLException {
      int i = first;
      for (Object value : values) {
        s.setObject(i++, value);
      }
      return i;
    }
  }
}
