package dev.stallwatch.incidents.query;

import static dev.stallwatch.incidents.store.TestAlerts.open;
import static dev.stallwatch.incidents.store.TestAlerts.resolved;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.IncidentStore;
import dev.stallwatch.incidents.store.IncidentStoreException;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Filters, order and pagination against a real PostgreSQL holding a small fleet's history. */
class IncidentQueryTest {
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

  @TempDir
  static Path dataDir;

  private static IncidentDatabase database;
  private static IncidentQuery query;

  @BeforeAll
  static void fillStore() {
    database = IncidentDatabase.open(DatabaseOptions.embedded(dataDir));
    IncidentStore store = database.store();
    List<DeadlockAlert> alerts = new ArrayList<>();
    // ten incidents an hour apart: inc-00 oldest; hosts alternate; namespaces shop/pay/null
    for (int i = 0; i < 10; i++) {
      DeadlockAlert open = open(String.format("inc-%02d", i), "c%02d".formatted(i) + "aaaaaaaaaaaaaaaa",
          i % 2 == 0 ? "node-a" : "node-b", i % 3 == 0 ? "shop" : i % 3 == 1 ? "pay" : null,
          T0.plusSeconds(3600L * i));
      alerts.add(open);
      if (i < 4) {
        alerts.add(resolved(open, open.getDetectedAt().plusSeconds(600), "healthy-windows"));
      }
    }
    // a host name with a quote, and one shaped like an injection
    alerts.add(open("quote-1", "dd00", "o'brien", "shop", T0.plusSeconds(36_000)));
    alerts.add(DeadlockAlert.newBuilder(open("other-sig", "ee00", "node-c", "shop", T0.plusSeconds(36_001)))
        .setSignatureId("jvm-safepoint-spin").build());
    // two incidents at the same instant: the ID orders them
    alerts.add(open("tie-a", "ff00", "node-d", "tie", T0.plusSeconds(50_000)));
    alerts.add(open("tie-b", "ff01", "node-d", "tie", T0.plusSeconds(50_000)));
    store.write(alerts);
    query = new IncidentQuery(database.readOnlyDataSource());
  }

  @AfterAll
  static void stopDatabase() {
    database.close();
  }

  private static List<String> ids(IncidentFilter filter) {
    return query.search(filter, IncidentQuery.MAX_LIMIT, 0).incidents().stream().map(Incident::incidentId).toList();
  }

  @Test
  void everythingNewestFirstWithTheIdBreakingTies() {
    List<String> all = ids(IncidentFilter.ALL);
    assertThat(all).hasSize(14).startsWith("tie-b", "tie-a", "other-sig", "quote-1", "inc-09").endsWith("inc-00");
  }

  @Test
  void sinceIsInclusiveAndUntilExclusive() {
    IncidentFilter window = IncidentFilter.builder()
        .since(T0.plusSeconds(3600 * 2)).until(T0.plusSeconds(3600 * 5)).build();
    assertThat(ids(window)).containsExactly("inc-04", "inc-03", "inc-02");
  }

  @Test
  void eachFilterAndTheirCombination() {
    assertThat(ids(IncidentFilter.builder().host("node-b").build()))
        .containsExactly("inc-09", "inc-07", "inc-05", "inc-03", "inc-01");
    assertThat(ids(IncidentFilter.builder().namespace("pay").build()))
        .containsExactly("inc-07", "inc-04", "inc-01");
    assertThat(ids(IncidentFilter.builder().signature("jvm-safepoint-spin").build())).containsExactly("other-sig");
    assertThat(ids(IncidentFilter.builder().status(IncidentStatus.RESOLVED).build()))
        .containsExactly("inc-03", "inc-02", "inc-01", "inc-00");
    assertThat(ids(IncidentFilter.builder().status(IncidentStatus.OPEN).host("node-a").namespace("shop").build()))
        .containsExactly("inc-06");
  }

  @Test
  void containerMatchesTheFullIdOrAPrefix() {
    assertThat(ids(IncidentFilter.builder().container("c03aaaaaaaaaaaaaaaa").build())).containsExactly("inc-03");
    assertThat(ids(IncidentFilter.builder().container("c0").build())).hasSize(10);
    assertThat(ids(IncidentFilter.builder().container("ff").build())).containsExactly("tie-b", "tie-a");
  }

  @Test
  void filterValuesAreDataNeverSql() {
    assertThat(ids(IncidentFilter.builder().host("o'brien").build())).containsExactly("quote-1");
    assertThat(ids(IncidentFilter.builder().host("node-a' OR '1'='1").build())).isEmpty();
    assertThat(ids(IncidentFilter.builder().namespace("x'; DROP TABLE incidents; --").build())).isEmpty();
    // LIKE wildcards in a container prefix match only themselves
    assertThat(ids(IncidentFilter.builder().container("%").build())).isEmpty();
    assertThat(ids(IncidentFilter.builder().container("c0_").build())).isEmpty();
    assertThat(ids(IncidentFilter.ALL)).hasSize(14);
  }

  @Test
  void pagesAreStableAndCountTheTotal() {
    IncidentPage first = query.search(IncidentFilter.ALL, 5, 0);
    IncidentPage second = query.search(IncidentFilter.ALL, 5, 5);
    IncidentPage last = query.search(IncidentFilter.ALL, 5, 10);
    IncidentPage beyond = query.search(IncidentFilter.ALL, 5, 20);
    assertThat(first.total()).isEqualTo(14);
    assertThat(first.hasMore()).isTrue();
    assertThat(last.incidents()).hasSize(4);
    assertThat(last.hasMore()).isFalse();
    assertThat(beyond.incidents()).isEmpty();
    assertThat(beyond.total()).isEqualTo(14);
    List<String> paged = new ArrayList<>();
    for (IncidentPage page : List.of(first, second, last)) {
      page.incidents().forEach(i -> paged.add(i.incidentId()));
    }
    assertThat(paged).isEqualTo(ids(IncidentFilter.ALL));
  }

  @Test
  void badPagesAreRefused() {
    assertThatThrownBy(() -> query.search(IncidentFilter.ALL, 0, 0)).hasMessageContaining("limit must be between 1");
    assertThatThrownBy(() -> query.search(IncidentFilter.ALL, 1001, 0)).hasMessageContaining("1000");
    assertThatThrownBy(() -> query.search(IncidentFilter.ALL, 10, -1)).hasMessageContaining("offset");
  }

  @Test
  void sinceMustBeBeforeUntil() {
    assertThatThrownBy(() -> IncidentFilter.builder().since(T0).until(T0).build())
        .hasMessageContaining("must be before until");
  }

  @Test
  void aServerWithoutTheSchemaIsNotMigratedByTheReadSideAndSaysWhatToDo() throws Exception {
    try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE empty_store");
    }
    String url = database.jdbcUrl().replace("/stallwatch", "/empty_store");
    try (IncidentDatabase empty = IncidentDatabase.open(
        DatabaseOptions.server(url, "postgres", Files.readString(database.options().superuserPasswordFile()).strip())
            .withAccess(DatabaseOptions.Access.READ_ONLY))) {
      assertThat(empty.schemaVersion()).isNull();
      assertThatThrownBy(() -> new IncidentQuery(empty.readOnlyDataSource()).search(IncidentFilter.ALL, 10, 0))
          .isInstanceOf(IncidentStoreException.class)
          .hasMessageStartingWith("the incident store has no incidents table yet");
    }
  }

  @Test
  void findsByIdAndByAnUnambiguousPrefix() {
    Incident incident = query.findById("inc-03").orElseThrow();
    assertThat(incident.status()).isEqualTo(IncidentStatus.RESOLVED);
    assertThat(incident.resolvedAt()).isEqualTo(incident.detectedAt().plusSeconds(600));
    assertThat(query.findById("inc-0")).isEmpty();
    assertThat(query.findById("inc-03' OR '1'='1")).isEmpty();

    assertThat(query.findByIdOrPrefix("quote", 2)).extracting(Incident::incidentId).containsExactly("quote-1");
    assertThat(query.findByIdOrPrefix("inc-0", 2)).hasSize(2);
    assertThat(query.findByIdOrPrefix("inc", 2)).as("shorter than the minimum prefix").isEmpty();
    assertThat(query.findByIdOrPrefix("tie-%", 2)).isEmpty();
  }
}
