package dev.stallwatch.incidents.store;

import static dev.stallwatch.incidents.store.TestAlerts.DETECTED;
import static dev.stallwatch.incidents.store.TestAlerts.open;
import static dev.stallwatch.incidents.store.TestAlerts.resolved;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.query.IncidentStatus;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/** The store against a real PostgreSQL (embedded, started once for the class). */
class IncidentStoreTest {
  private static final String ID = "b47101c4-d617-37c4-9adb-c2071b4d8ea3";

  @TempDir
  static Path dataDir;

  private static IncidentDatabase database;
  private static IncidentStore store;
  private static IncidentQuery query;

  @BeforeAll
  static void startDatabase() {
    database = IncidentDatabase.open(DatabaseOptions.embedded(dataDir));
    store = database.store();
    query = new IncidentQuery(database.readOnlyDataSource());
  }

  @AfterAll
  static void stopDatabase() {
    database.close();
  }

  @BeforeEach
  void emptyTable() throws SQLException {
    execute("TRUNCATE incidents");
  }

  @Test
  void migrationsCreateTheTableIndexesAndReaderRole() throws SQLException {
    assertThat(database.schemaVersion()).isEqualTo("4");
    assertThat(strings("SELECT indexname FROM pg_indexes WHERE tablename = 'incidents'")).contains(
        "incidents_pkey", "incidents_detected_idx", "incidents_container_idx", "incidents_host_idx",
        "incidents_namespace_idx", "incidents_signature_idx", "incidents_open_idx");
    assertThat(strings("SELECT data_type FROM information_schema.columns WHERE table_name = 'incidents' "
        + "AND column_name = 'evidence'")).containsExactly("jsonb");
    assertThat(strings("SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank"))
        .containsExactly("1", "2", "3", "4");
    assertThat(strings("SELECT rolname FROM pg_roles WHERE rolname = 'stallwatch_reader' AND NOT rolcanlogin"))
        .containsExactly("stallwatch_reader");
  }

  @Test
  void theEmbeddedServerCommitsDurably() throws SQLException {
    assertThat(strings("SHOW fsync")).containsExactly("on");
    assertThat(strings("SHOW synchronous_commit")).containsExactly("on");
  }

  @Test
  void openThenResolvedGivesOneResolvedRowWithTheOpenAlertsFields() {
    DeadlockAlert open = open(ID);
    assertThat(store.write(open)).isEqualTo(WriteOutcome.INSERTED);
    assertThat(query.findById(ID).orElseThrow().status()).isEqualTo(IncidentStatus.OPEN);

    assertThat(store.write(resolved(open, DETECTED.plusSeconds(300), "healthy-windows")))
        .isEqualTo(WriteOutcome.UPDATED);
    Incident incident = query.findById(ID).orElseThrow();
    assertThat(incident.status()).isEqualTo(IncidentStatus.RESOLVED);
    assertThat(incident.resolvedAt()).isEqualTo(DETECTED.plusSeconds(300));
    assertThat(incident.resolveReason()).isEqualTo("healthy-windows");
    assertThat(incident.openAlert()).isEqualTo(open);
    assertThat(incident.createdAt()).isBefore(incident.updatedAt());
  }

  @Test
  void everyAlertFieldAndTheEvidenceSurviveTheRoundTrip() {
    DeadlockAlert open = open(ID);
    store.write(open);
    Incident incident = query.findById(ID).orElseThrow();
    assertThat(incident.openAlert()).isEqualTo(open);
    assertThat(incident.resolvedAlertOrNull()).isNull();
    assertThat(incident.evidence()).isEqualTo(Evidence.of(open));
    assertThat(incident.evidence().topStacks()).extracting(Evidence.Stack::weight)
        .containsExactly(18_272_727_090L, 3_080_808_050L);
    assertThat(incident.evidence().knownIssues()).extracting(Evidence.Issue::fixedIn).containsExactly("go1.14.2");
  }

  @Test
  void duplicatesChangeNothingNotEvenUpdatedAt() {
    DeadlockAlert open = open(ID);
    DeadlockAlert resolved = resolved(open, DETECTED.plusSeconds(300), "healthy-windows");
    store.write(open);
    store.write(resolved);
    Incident before = query.findById(ID).orElseThrow();

    assertThat(store.write(List.of(open, resolved, open, resolved))).containsOnly(WriteOutcome.UNCHANGED);
    assertThat(query.findById(ID).orElseThrow()).isEqualTo(before);
  }

  @Test
  void aReplayedOpenNeverReopensAResolvedIncident() {
    DeadlockAlert open = open(ID);
    store.write(open);
    store.write(resolved(open, DETECTED.plusSeconds(300), "restored"));

    assertThat(store.write(open)).isEqualTo(WriteOutcome.UNCHANGED);
    Incident incident = query.findById(ID).orElseThrow();
    assertThat(incident.status()).isEqualTo(IncidentStatus.RESOLVED);
    assertThat(incident.resolveReason()).isEqualTo("restored");
  }

  @Test
  void resolvedBeforeOpenConvergesOnTheSameRowAsOpenBeforeResolved() {
    DeadlockAlert open = open(ID);
    DeadlockAlert resolved = resolved(open, DETECTED.plusSeconds(300), "healthy-windows");
    store.write(List.of(open, resolved));
    Incident inOrder = query.findById(ID).orElseThrow();
    execute("TRUNCATE incidents");

    assertThat(store.write(List.of(resolved, open))).containsExactly(WriteOutcome.INSERTED, WriteOutcome.UNCHANGED);
    Incident reversed = query.findById(ID).orElseThrow();
    assertThat(withoutStoreTimes(reversed)).isEqualTo(withoutStoreTimes(inOrder));
    assertThat(reversed.status()).isEqualTo(IncidentStatus.RESOLVED);
  }

  @Test
  void theOpenAlertsFieldsWinOverAResolvedThatArrivedFirst() {
    DeadlockAlert open = open(ID);
    DeadlockAlert staleCopy = DeadlockAlert.newBuilder(resolved(open, DETECTED.plusSeconds(300), "silence"))
        .setCpuCoresAfterDrain(0.5).setPod(null).build();
    store.write(staleCopy);

    assertThat(store.write(open)).isEqualTo(WriteOutcome.UPDATED);
    Incident incident = query.findById(ID).orElseThrow();
    assertThat(incident.cpuCoresAfterDrain()).isEqualTo(0.997);
    assertThat(incident.pod()).isEqualTo("orders-7f9c6d5b8-x2k4q");
    assertThat(incident.status()).isEqualTo(IncidentStatus.RESOLVED);
    assertThat(incident.resolveReason()).isEqualTo("silence");
  }

  @Test
  void aBatchIsOneTransactionAndRefusedDataSaysSo() {
    DeadlockAlert good = open(ID);
    // PostgreSQL text cannot hold NUL: the database refuses the data, whatever the retries
    DeadlockAlert bad = DeadlockAlert.newBuilder(open("nul-incident")).setHost("node\u0000a").build();

    assertThatThrownBy(() -> store.write(List.of(good, bad)))
        .isInstanceOfSatisfying(IncidentStoreException.class, e -> assertThat(e.rejected()).isTrue())
        .hasMessageContaining("could not write 2 alert(s)");
    assertThat(query.findById(ID)).isEmpty();
  }

  @Test
  void anUnreachableDatabaseIsNotARefusal() {
    PGSimpleDataSource nowhere = new PGSimpleDataSource();
    nowhere.setURL("jdbc:postgresql://127.0.0.1:1/stallwatch");
    assertThatThrownBy(() -> new IncidentStore(nowhere).write(open(ID)))
        .isInstanceOfSatisfying(IncidentStoreException.class, e -> assertThat(e.rejected()).isFalse());
  }

  @Test
  void theReaderRoleReadsAndCannotWrite() throws SQLException {
    execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana') THEN "
        + "CREATE ROLE grafana LOGIN PASSWORD 'grafana-test-password' IN ROLE stallwatch_reader; END IF; END $$");
    store.write(open(ID));
    PGSimpleDataSource asGrafana = new PGSimpleDataSource();
    asGrafana.setURL(((PGSimpleDataSource) database.dataSource()).getURL());
    asGrafana.setUser("grafana");
    asGrafana.setPassword("grafana-test-password");

    assertThat(new IncidentQuery(asGrafana).findById(ID)).isPresent();
    assertThatThrownBy(() -> new IncidentStore(asGrafana).write(open("another")))
        .isInstanceOf(IncidentStoreException.class)
        .hasMessageContaining("permission denied for table incidents");
  }

  @Test
  void theReadOnlyDataSourceCannotWrite() {
    assertThatThrownBy(() -> new IncidentStore(database.readOnlyDataSource()).write(open(ID)))
        .isInstanceOf(IncidentStoreException.class)
        .hasMessageContaining("read-only transaction");
  }

  private static Incident withoutStoreTimes(Incident i) {
    return new Incident(i.incidentId(), i.status(), i.containerId(), i.host(), i.pod(), i.namespace(),
        i.signatureId(), i.signatureTitle(), i.spikeStartedAt(), i.drainedAt(), i.drainedBy(), i.stuckSince(),
        i.detectedAt(), i.resolvedAt(), i.resolveReason(), i.cpuCoresBeforeDrain(), i.cpuCoresAfterDrain(),
        i.signatureShare(), i.timeoutsAtSpike(), i.requestsAtSpike(), i.evidence(), i.remediation(), null, null);
  }

  private static void execute(String sql) {
    TestSql.execute(database.dataSource(), sql);
  }

  private static List<String> strings(String sql) throws SQLException {
    return TestSql.strings(database.dataSource(), sql);
  }
}
