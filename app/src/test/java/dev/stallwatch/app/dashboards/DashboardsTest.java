package dev.stallwatch.app.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.app.dashboards.Dashboards.Dashboard;
import dev.stallwatch.app.dashboards.Dashboards.Kind;
import dev.stallwatch.app.dashboards.Dashboards.Query;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The macro expander and the query listing that the end-to-end test runs the dashboards with. */
class DashboardsTest {
  static final Instant FROM = Instant.parse("2021-12-29T12:45:00Z");
  static final Instant TO = Instant.parse("2021-12-29T13:05:00Z");

  @Test
  void timeFilterBecomesABetweenOfTimestamptzLiterals() {
    assertThat(Dashboards.expandSql("SELECT 1 FROM t WHERE $__timeFilter(window_end) AND x", FROM, TO, Map.of()))
        .isEqualTo("SELECT 1 FROM t WHERE window_end BETWEEN '2021-12-29T12:45:00Z'::timestamptz"
            + " AND '2021-12-29T13:05:00Z'::timestamptz AND x");
  }

  @Test
  void timeFromAndTimeToBecomeLiterals() {
    assertThat(Dashboards.expandSql("a <= $__timeTo() AND b >= $__timeFrom()::timestamptz", FROM, TO, Map.of()))
        .isEqualTo("a <= '2021-12-29T13:05:00Z'::timestamptz AND b >= '2021-12-29T12:45:00Z'::timestamptz::timestamptz");
  }

  @Test
  void timeGroupAliasBucketsByTheIntervalAndNamesTheColumnTime() {
    assertThat(Dashboards.expandSql("SELECT $__timeGroupAlias(h.window_end, $__interval), 1", FROM, TO,
        Duration.ofMinutes(1), Map.of()))
        .isEqualTo("SELECT to_timestamp(floor(extract(epoch from h.window_end)/60)*60) AS \"time\", 1");
    assertThat(Dashboards.expandSql("GROUP BY $__timeGroup(detected_at, '5m', NULL)", FROM, TO, Map.of()))
        .isEqualTo("GROUP BY to_timestamp(floor(extract(epoch from detected_at)/300)*300)");
  }

  @Test
  void intervalBecomesAGrafanaDuration() {
    assertThat(Dashboards.expandSql("interval '$__interval' / $__interval_ms", FROM, TO, Duration.ofSeconds(30), Map.of()))
        .isEqualTo("interval '30s' / 30000");
    // the default: range / 1000, no less than a 10 s window
    assertThat(Dashboards.defaultInterval(FROM, TO)).isEqualTo(Duration.ofSeconds(10));
    assertThat(Dashboards.defaultInterval(FROM, FROM.plus(Duration.ofDays(7)))).isEqualTo(Duration.ofSeconds(604));
  }

  @Test
  void variablesAreSubstitutedQuotedWhereTheQueryQuotesThem() {
    Map<String, String> vars = Map.of("container", "3f9c2b7d", "namespace", "o'brien", "n", "10");
    assertThat(Dashboards.expandSql(
        "container_id = '$container' AND ('${namespace}' = '*' OR namespace = '$namespace') LIMIT $n OFFSET ${n}",
        FROM, TO, vars))
        .isEqualTo("container_id = '3f9c2b7d' AND ('o''brien' = '*' OR namespace = 'o''brien') LIMIT 10 OFFSET 10");
  }

  @Test
  void unknownMacrosAndMissingVariablesAreErrors() {
    assertThatThrownBy(() -> Dashboards.expandSql("WHERE $__unixEpochFilter(t)", FROM, TO, Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("$__unixEpochFilter");
    assertThatThrownBy(() -> Dashboards.expandSql("WHERE $__timeFilter(a, b)", FROM, TO, Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("takes 1 arguments");
    assertThatThrownBy(() -> Dashboards.expandSql("WHERE c = '$container'", FROM, TO, Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("$container");
    assertThatThrownBy(() -> Dashboards.expandPromQl("rate(x[$__range])", Duration.ofMinutes(1), Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("$__range");
  }

  @Test
  void promQlGetsTheRateIntervalAndVariables() {
    assertThat(Dashboards.expandPromQl(
        "sum by (operator_name) (rate(x{job=\"$job\", operator_name=~\".*source$\"}[$__rate_interval])) / ${__interval}",
        Duration.ofSeconds(90), Duration.ofSeconds(15), Map.of("job", "stallwatch-flink")))
        .isEqualTo("sum by (operator_name) (rate(x{job=\"stallwatch-flink\", operator_name=~\".*source$\"}[90s])) / 15s");
    assertThat(Dashboards.expandPromQl("increase(y[$__rate_interval])", Duration.ofMinutes(2), Map.of()))
        .isEqualTo("increase(y[2m])");
  }

  @Test
  void durationsAreWrittenAsGrafanaWritesThem() {
    assertThat(Dashboards.grafanaDuration(Duration.ofMillis(500))).isEqualTo("500ms");
    assertThat(Dashboards.grafanaDuration(Duration.ofSeconds(10))).isEqualTo("10s");
    assertThat(Dashboards.grafanaDuration(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(Dashboards.grafanaDuration(Duration.ofHours(2))).isEqualTo("2h");
    assertThat(Dashboards.grafanaDuration(Duration.ofDays(1))).isEqualTo("1d");
    assertThat(Dashboards.parseDuration("'1h'")).isEqualTo(Duration.ofHours(1));
    assertThat(Dashboards.parseDuration("1w")).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void promQlMetricNamesLeaveOutFunctionsLabelsAndKeywords() {
    assertThat(Dashboards.promQlMetricNames(
        "histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{job=\"x\", route!~\"up|b\"}[5m])))"
            + " / on (route) group_left (job) sum without (instance) (b_total offset 5m) > bool 1e3 and time() - c"))
        .containsExactly("a_bucket", "b_total", "c");
  }

  @Test
  void everyQueryOfTheDashboardsIsListedWithWhereItComesFrom() {
    List<Dashboard> dashboards = Dashboards.all();
    assertThat(Dashboards.repoRoot().resolve("dashboards")).isEqualTo(Dashboards.dashboardsDir());
    List<Query> queries = Dashboards.queries();
    assertThat(queries).extracting(Query::dashboardUid)
        .containsAll(dashboards.stream().map(Dashboard::uid).toList());
    assertThat(queries).filteredOn(query -> query.where().equals("variable container")).singleElement()
        .satisfies(query -> {
          assertThat(query.kind()).isEqualTo(Kind.SQL);
          assertThat(query.format()).isEqualTo("table");
          assertThat(query.text()).contains("FROM container_health");
        });
    assertThat(queries).filteredOn(query -> query.where().startsWith("annotation ")).extracting(Query::where)
        .containsExactly("annotation Spike", "annotation Drain", "annotation Stuck until detected", "annotation Resolved");
    assertThat(queries).filteredOn(query -> query.where().equals("Throughput / B")).singleElement()
        .satisfies(query -> assertThat(query.kind()).isEqualTo(Kind.PROMQL));
    assertThat(queries).filteredOn(query -> query.kind() == Kind.SQL).extracting(Query::format)
        .containsOnly("time_series", "table");
  }
}
