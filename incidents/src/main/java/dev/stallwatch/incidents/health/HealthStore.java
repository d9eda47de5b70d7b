package dev.stallwatch.incidents.health;

import dev.stallwatch.incidents.store.IncidentStoreException;
import dev.stallwatch.incidents.store.Transactions;
import dev.stallwatch.schemas.v1.ContainerHealth;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@link ContainerHealth} windows into {@code container_health} (V3), one row per
 * container and {@code window_end}, and drops the daily partitions that fell out of the
 * retention.
 *
 * <p>A write is an {@code INSERT ... ON CONFLICT (container_id, window_end) DO UPDATE}: a
 * redelivered window replaces its row, so at-least-once delivery from Kafka is enough. The
 * partitions a batch needs are created first, in a short transaction of their own: creating a
 * partition locks the parent table exclusively, and that lock should not be held while the rows
 * are written (Grafana's queries would wait for it).
 */
public final class HealthStore {
  private static final Logger LOG = LoggerFactory.getLogger(HealthStore.class);

  private static final String UPSERT = "INSERT INTO " + HealthPartitions.TABLE + " (container_id, window_start,"
      + " window_end, host, pod, namespace, cpu_cores, requests, timeouts, signature_id, signature_share,"
      + " detector_state, incident_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      + " ON CONFLICT (container_id, window_end) DO UPDATE SET"
      + " window_start = excluded.window_start, host = excluded.host, pod = excluded.pod,"
      + " namespace = excluded.namespace, cpu_cores = excluded.cpu_cores, requests = excluded.requests,"
      + " timeouts = excluded.timeouts, signature_id = excluded.signature_id,"
      + " signature_share = excluded.signature_share, detector_state = excluded.detector_state,"
      + " incident_id = excluded.incident_id";

  private static final String PARTITIONS = "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
      + " WHERE i.inhparent = '" + HealthPartitions.TABLE + "'::regclass";

  // serializes creating partitions between ingestors sharing the store: two concurrent
  // CREATE TABLE IF NOT EXISTS of one name can both pass the check and one fails on the catalog
  private static final String PARTITION_LOCK =
      "SELECT pg_advisory_xact_lock(hashtext('stallwatch " + HealthPartitions.TABLE + " partitions'))";

  // DDL waits this long for the parent's lock (a long dashboard query), then gives up and is
  // retried; without it every query arriving meanwhile would queue behind the DDL
  private static final String DDL_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '5s'";

  private final DataSource dataSource;

  public HealthStore(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  /**
   * Upserts the windows in one transaction, after creating the daily partitions they need.
   *
   * @return the partitions this call created (usually none)
   * @throws IllegalArgumentException when a window is malformed ({@link HealthValidator}); nothing is written
   * @throws IncidentStoreException when the transaction did not commit; then no row was written
   *     (partitions created before it stay, they are empty and reused)
   */
  public int write(List<ContainerHealth> windows) {
    if (windows.isEmpty()) {
      return 0;
    }
    SortedSet<LocalDate> days = new TreeSet<>();
    for (ContainerHealth h : windows) {
      HealthValidator.problem(h).ifPresent(problem -> {
        throw new IllegalArgumentException("malformed container health for '" + h.getContainerId() + "': " + problem);
      });
      days.add(HealthPartitions.dayOf(Instant.ofEpochMilli(h.getWindowEndMs())));
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        int created = ensurePartitions(c, days);
        // the ingestor commits the Kafka offset after this commit: it must survive a server crash
        Transactions.ensureDurableCommit(c);
        try (PreparedStatement upsert = c.prepareStatement(UPSERT)) {
          for (ContainerHealth h : windows) {
            bind(upsert, h);
            upsert.addBatch();
          }
          upsert.executeBatch();
        }
        c.commit();
        return created;
      } catch (SQLException | RuntimeException e) {
        Transactions.rollbackAfter(c, e);
        throw e;
      }
    } catch (SQLException e) {
      SQLException first = firstError(e);
      throw new IncidentStoreException("could not write " + windows.size() + " container health row(s) to the "
          + "incident store: " + first.getMessage(), first);
    }
  }

  /**
   * Drops every daily partition that lies wholly before {@code cutoff}: the days ending at or
   * before it. The day {@code cutoff} falls in stays.
   *
   * @return the days dropped, oldest first
   * @throws IncidentStoreException when the partitions could not be listed or dropped (then none was)
   */
  public List<LocalDate> pruneBefore(Instant cutoff) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        List<LocalDate> drop = partitionDays(c).stream()
            .filter(day -> !HealthPartitions.end(day).isAfter(cutoff))
            .toList();
        if (!drop.isEmpty()) {
          try (Statement s = c.createStatement()) {
            s.execute(DDL_LOCK_TIMEOUT);
            for (LocalDate day : drop) {
              s.execute("DROP TABLE IF EXISTS " + HealthPartitions.name(day));
            }
          }
        }
        c.commit();
        if (!drop.isEmpty()) {
          LOG.info("dropped {} container health partition(s) before {}: {} .. {}", drop.size(), cutoff,
              drop.get(0), drop.get(drop.size() - 1));
        }
        return drop;
      } catch (SQLException | RuntimeException e) {
        Transactions.rollbackAfter(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw new IncidentStoreException("could not drop the container health partitions before " + cutoff + ": "
          + e.getMessage(), e);
    }
  }

  /** The newest {@code window_end} stored; empty when the table is empty. */
  public Optional<Instant> newestWindowEnd() {
    try (Connection c = dataSource.getConnection();
         Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT max(window_end) FROM " + HealthPartitions.TABLE)) {
      rs.next();
      OffsetDateTime newest = rs.getObject(1, OffsetDateTime.class);
      return Optional.ofNullable(newest).map(OffsetDateTime::toInstant);
    } catch (SQLException e) {
      throw new IncidentStoreException("could not read the newest container health window: " + e.getMessage(), e);
    }
  }

  /** The days that have a partition, oldest first. */
  public List<LocalDate> partitionDays() {
    try (Connection c = dataSource.getConnection()) {
      return partitionDays(c);
    } catch (SQLException e) {
      throw new IncidentStoreException("could not list the container health partitions: " + e.getMessage(), e);
    }
  }

  private static List<LocalDate> partitionDays(Connection c) throws SQLException {
    List<LocalDate> days = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(PARTITIONS)) {
      while (rs.next()) {
        // a partition someone attached under another name is theirs to drop
        HealthPartitions.day(rs.getString(1)).ifPresent(days::add);
      }
    }
    days.sort(null);
    return days;
  }

  /**
   * Creates the missing partitions of {@code days} and commits. The usual batch finds its day in
   * place with one catalog lookup and takes no lock.
   */
  private static int ensurePartitions(Connection c, SortedSet<LocalDate> days) throws SQLException {
    if (missing(c, days).isEmpty()) {
      return 0;
    }
    int created = 0;
    try (Statement s = c.createStatement()) {
      s.execute(DDL_LOCK_TIMEOUT);
      s.execute(PARTITION_LOCK);
      // again under the lock: another ingestor may have created them meanwhile
      for (LocalDate day : missing(c, days)) {
        s.execute(HealthPartitions.createStatement(day));
        created++;
        LOG.info("created container health partition {}", HealthPartitions.name(day));
      }
    }
    c.commit();
    return created;
  }

  private static List<LocalDate> missing(Connection c, SortedSet<LocalDate> days) throws SQLException {
    List<LocalDate> missing = new ArrayList<>();
    Array names = c.createArrayOf("text", days.stream().map(HealthPartitions::name).toArray());
    try (PreparedStatement s = c.prepareStatement(
        "SELECT n FROM unnest(?::text[]) AS n WHERE to_regclass(n) IS NULL ORDER BY n")) {
      s.setArray(1, names);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          missing.add(HealthPartitions.day(rs.getString(1)).orElseThrow());
        }
      }
    } finally {
      names.free();
    }
    return missing;
  }

  private static void bind(PreparedStatement s, ContainerHealth h) throws SQLException {
    int i = 1;
    s.setString(i++, h.getContainerId());
    s.setObject(i++, utc(h.getWindowStartMs()), Types.TIMESTAMP_WITH_TIMEZONE);
    s.setObject(i++, utc(h.getWindowEndMs()), Types.TIMESTAMP_WITH_TIMEZONE);
    // '' says "upstream data only" and stays; the optional labels are NULL when absent
    s.setString(i++, h.getHost());
    s.setString(i++, nullIfEmpty(h.getPod()));
    s.setString(i++, nullIfEmpty(h.getNamespace()));
    s.setDouble(i++, h.getCpuCores());
    s.setLong(i++, h.getRequests());
    s.setLong(i++, h.getTimeouts());
    s.setString(i++, nullIfEmpty(h.getSignatureId()));
    s.setDouble(i++, h.getSignatureShare());
    s.setString(i++, h.getDetectorState().name());
    s.setString(i, nullIfEmpty(h.getIncidentId()));
  }

  private static OffsetDateTime utc(long epochMs) {
    return Instant.ofEpochMilli(epochMs).atOffset(ZoneOffset.UTC);
  }

  private static String nullIfEmpty(String s) {
    return s.isEmpty() ? null : s;
  }

  /**
   * The server's own error of a failed batch: the driver wraps it in a BatchUpdateException that
   * quotes the whole statement, and its SQLSTATE tells bad data from an outage.
   */
  private static SQLException firstError(SQLException e) {
    SQLException next = e.getNextException();
    return next != null ? next : e;
  }
}
