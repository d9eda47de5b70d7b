package dev.stallwatch.incidents.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.IncidentStoreException;
import dev.stallwatch.incidents.store.TestSql;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/** {@code container_health} and its partitions against a real PostgreSQL (embedded, started once for the class). */
class HealthStoreTest {
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static final String CHECKOUT = "c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec0c4ec";
  /** The demo's night: long before any wall clock this test runs on. */
  private static final Instant NIGHT = Instant.parse("2020-03-14T12:52:00Z");

  @TempDir
  static Path dataDir;

  private static IncidentDatabase database;
  private static HealthStore store;

  @BeforeAll
  static void startDatabase() {
    database = IncidentDatabase.open(DatabaseOptions.embedded(dataDir));
    store = new HealthStore(database.dataSource());
  }

  @AfterAll
  static void stopDatabase() {
    database.close();
  }

  @BeforeEach
  void noPartitions() {
    store.pruneBefore(Instant.parse("9999-01-01T00:00:00Z"));
  }

  static ContainerHealth window(String containerId, Instant end) {
    return ContainerHealth.newBuilder()
        .setContainerId(containerId)
        .setHost("node-a")
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setWindowStartMs(end.minusSeconds(10).toEpochMilli())
        .setWindowEndMs(end.toEpochMilli())
        .setCpuCores(0.99)
        .setRequests(3075)
        .setTimeouts(1844)
        .setSignatureId("go-timer-livelock")
        .setSignatureShare(0.86)
        .setDetectorState(DetectorState.ALERTING)
        .setIncidentId("b47101c4-d617-37c4-9adb-c2071b4d8ea3")
        .build();
  }

  @Test
  void theMigrationCreatesAPartitionedTableWithItsTimeIndex() throws SQLException {
    assertThat(database.schemaVersion()).isEqualTo("4");
    assertThat(strings("SELECT relkind::text FROM pg_class WHERE relname = 'container_health'")).containsExactly("p");
    assertThat(strings("SELECT pg_get_partkeydef('container_health'::regclass)")).containsExactly("RANGE (window_end)");
    assertThat(strings("SELECT indexname FROM pg_indexes WHERE tablename = 'container_health' ORDER BY 1"))
        .containsExactly("container_health_notable_idx", "container_health_pkey");
  }

  @Test
  void aRedeliveredWindowReplacesItsRow() throws SQLException {
    store.write(List.of(window(ORDERS, NIGHT)));
    ContainerHealth again = window(ORDERS, NIGHT).toBuilder()
        .setDetectorState(DetectorState.HEALTHY).setIncidentId("").setCpuCores(0.02).build();
    store.write(List.of(again));

    List<Map<String, Object>> rows = rows("SELECT * FROM container_health");
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0))
        .containsEntry("detector_state", "HEALTHY")
        .containsEntry("cpu_cores", 0.02)
        .containsEntry("incident_id", null);
  }

  @Test
  void everyFieldLandsInItsColumnAndEmptyLabelsAreNull() throws SQLException {
    store.write(List.of(window(ORDERS, NIGHT),
        ContainerHealth.newBuilder()
            .setContainerId(CHECKOUT)
            .setWindowStartMs(NIGHT.minusSeconds(10).toEpochMilli())
            .setWindowEndMs(NIGHT.toEpochMilli())
            .setRequests(40)
            .setTimeouts(2)
            .setDetectorState(DetectorState.SPIKING)
            .build()));

    List<Map<String, Object>> rows = rows("SELECT container_id, window_start = '2020-03-14 12:51:50+00' AS start_ok,"
        + " window_end = '2020-03-14 12:52:00+00' AS end_ok, host, pod, namespace, cpu_cores, requests, timeouts,"
        + " signature_id, signature_share, detector_state, incident_id FROM container_health ORDER BY container_id");
    assertThat(rows.get(0)).containsAllEntriesOf(Map.of("container_id", ORDERS, "start_ok", true, "end_ok", true,
        "host", "node-a", "pod", "orders-7f9c6d5b8-x2k4q", "namespace", "shop", "cpu_cores", 0.99,
        "requests", 3075L, "timeouts", 1844L, "signature_id", "go-timer-livelock"));
    assertThat(rows.get(0)).containsEntry("signature_share", 0.86).containsEntry("detector_state", "ALERTING")
        .containsEntry("incident_id", "b47101c4-d617-37c4-9adb-c2071b4d8ea3");
    // upstream data only: host '' (NOT NULL), the optional labels NULL
    assertThat(rows.get(1)).containsEntry("container_id", CHECKOUT).containsEntry("host", "")
        .containsEntry("pod", null).containsEntry("namespace", null).containsEntry("signature_id", null)
        .containsEntry("incident_id", null).containsEntry("cpu_cores", 0.0).containsEntry("detector_state", "SPIKING");
  }

  @Test
  void windowsAcrossMidnightUtcGoToTheirDaysPartitionsCreatedOnDemand() throws SQLException {
    Instant midnight = Instant.parse("2020-03-15T00:00:00Z");
    int created = store.write(List.of(
        window(ORDERS, midnight.minusSeconds(10)), window(ORDERS, midnight), window(ORDERS, midnight.plusSeconds(10))));

    assertThat(created).isEqualTo(2);
    assertThat(store.partitionDays()).containsExactly(LocalDate.parse("2020-03-14"), LocalDate.parse("2020-03-15"));
    // [day 00:00, next day 00:00): a window ending at midnight belongs to the new day
    assertThat(strings("SELECT tableoid::regclass::text || ' ' || to_char(window_end AT TIME ZONE 'UTC', 'HH24:MI:SS')"
        + " FROM container_health ORDER BY window_end")).containsExactly(
        "container_health_p20200314 23:59:50", "container_health_p20200315 00:00:00",
        "container_health_p20200315 00:00:10");
    assertThat(store.write(List.of(window(CHECKOUT, midnight)))).as("the partition is there now").isZero();
  }

  @Test
  void pruneDropsTheWholeDaysBeforeTheCutoffOnly() {
    store.write(List.of(window(ORDERS, Instant.parse("2020-03-12T23:59:59Z")),
        window(ORDERS, Instant.parse("2020-03-13T10:00:00Z")), window(ORDERS, Instant.parse("2020-03-14T10:00:00Z"))));

    assertThat(store.pruneBefore(Instant.parse("2020-03-13T08:00:00Z"))).containsExactly(LocalDate.parse("2020-03-12"));
    assertThat(store.partitionDays()).containsExactly(LocalDate.parse("2020-03-13"), LocalDate.parse("2020-03-14"));
    assertThat(store.pruneBefore(Instant.parse("2020-03-14T00:00:00Z"))).containsExactly(LocalDate.parse("2020-03-13"));
    assertThat(store.newestWindowEnd()).contains(Instant.parse("2020-03-14T10:00:00Z"));
  }

  @Test
  void eventTimeRetentionKeepsAReplayedNightWhileItIsTheNewest() {
    HealthRetention threeDays = new HealthRetention(Duration.ofDays(3));
    store.write(List.of(window(ORDERS, NIGHT), window(CHECKOUT, NIGHT.plusSeconds(10))));

    // years behind the wall clock, and still the newest data: nothing goes
    Instant newest = store.newestWindowEnd().orElseThrow();
    assertThat(store.pruneBefore(threeDays.cutoff(newest))).isEmpty();
    assertThat(store.partitionDays()).containsExactly(LocalDate.parse("2020-03-14"));

    // three days of event time later the night is out, whole days at a time
    store.write(List.of(window(ORDERS, Instant.parse("2020-03-17T12:00:00Z"))));
    newest = store.newestWindowEnd().orElseThrow();
    assertThat(threeDays.firstKeptDay(newest)).isEqualTo(LocalDate.parse("2020-03-14"));
    assertThat(store.pruneBefore(threeDays.cutoff(newest))).as("2020-03-14 overlaps the last 3 days").isEmpty();
    store.write(List.of(window(ORDERS, Instant.parse("2020-03-18T00:00:00Z"))));
    newest = store.newestWindowEnd().orElseThrow();
    assertThat(store.pruneBefore(threeDays.cutoff(newest))).containsExactly(LocalDate.parse("2020-03-14"));
    assertThat(threeDays.keeps(NIGHT, newest)).isFalse();
    assertThat(threeDays.keeps(Instant.parse("2020-03-15T00:00:00Z"), newest)).isTrue();
  }

  @Test
  void theReaderRoleSelectsFromTheTableAndFromPartitionsTheStoreCreated() throws SQLException {
    execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana') THEN "
        + "CREATE ROLE grafana LOGIN PASSWORD 'grafana-test-password' IN ROLE stallwatch_reader; END IF; END $$");
    store.write(List.of(window(ORDERS, NIGHT)));
    PGSimpleDataSource asGrafana = new PGSimpleDataSource();
    asGrafana.setURL(((PGSimpleDataSource) database.dataSource()).getURL());
    asGrafana.setUser("grafana");
    asGrafana.setPassword("grafana-test-password");

    assertThat(TestSql.strings(asGrafana, "SELECT container_id FROM container_health")).containsExactly(ORDERS);
    assertThat(TestSql.strings(asGrafana, "SELECT container_id FROM container_health_p20200314"))
        .containsExactly(ORDERS);
    assertThatThrownBy(() -> new HealthStore(asGrafana).write(List.of(window(CHECKOUT, NIGHT))))
        .isInstanceOf(IncidentStoreException.class)
        .hasMessageContaining("permission denied for table container_health");
  }

  @Test
  void aBatchIsOneTransactionAndRefusedDataSaysSo() throws SQLException {
    // PostgreSQL text cannot hold NUL: the database refuses the data, whatever the retries
    ContainerHealth bad = window(CHECKOUT, NIGHT).toBuilder().setHost("node\u0000a").build();

    assertThatThrownBy(() -> store.write(List.of(window(ORDERS, NIGHT), bad)))
        .isInstanceOfSatisfying(IncidentStoreException.class, e -> assertThat(e.rejected()).isTrue())
        .hasMessageContaining("could not write 2 container health row(s)");
    assertThat(strings("SELECT container_id FROM container_health")).isEmpty();
  }

  @Test
  void anUnreachableDatabaseIsNotARefusal() {
    PGSimpleDataSource nowhere = new PGSimpleDataSource();
    nowhere.setURL("jdbc:postgresql://127.0.0.1:1/stallwatch");
    assertThatThrownBy(() -> new HealthStore(nowhere).write(List.of(window(ORDERS, NIGHT))))
        .isInstanceOfSatisfying(IncidentStoreException.class, e -> assertThat(e.rejected()).isFalse());
  }

  @Test
  void malformedWindowsNeverReachTheDatabase() {
    ContainerHealth unspecified = window(ORDERS, NIGHT).toBuilder()
        .setDetectorState(DetectorState.DETECTOR_STATE_UNSPECIFIED).build();
    ContainerHealth backwards = window(ORDERS, NIGHT).toBuilder().setWindowStartMs(NIGHT.toEpochMilli()).build();
    ContainerHealth anonymous = window("", NIGHT);

    assertThatThrownBy(() -> store.write(List.of(unspecified))).hasMessageContaining("detector_state is unspecified");
    assertThatThrownBy(() -> store.write(List.of(backwards))).hasMessageContaining("is not after window_start_ms");
    assertThatThrownBy(() -> store.write(List.of(anonymous))).hasMessageContaining("container_id is empty");
    assertThat(store.partitionDays()).isEmpty();
  }

  private static void execute(String sql) {
    TestSql.execute(database.dataSource(), sql);
  }

  private static List<String> strings(String sql) throws SQLException {
    return TestSql.strings(database.dataSource(), sql);
  }

  private static List<Map<String, Object>> rows(String sql) throws SQLException {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery(sql)) {
      ResultSetMetaData meta = rs.getMetaData();
      while (rs.next()) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          row.put(meta.getColumnName(i), rs.getObject(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }
}
