package dev.stallwatch.app.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.stallwatch.app.dashboards.Dashboards.Dashboard;
import dev.stallwatch.app.dashboards.Dashboards.Kind;
import dev.stallwatch.app.dashboards.Dashboards.Panel;
import dev.stallwatch.app.dashboards.Dashboards.Query;
import dev.stallwatch.ingest.collector.CollectorMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import dev.stallwatch.jobs.JobMetrics;
import org.junit.jupiter.api.Test;

/** Checks the dashboards and their provisioning without a Grafana: structure, references, queries. */
class DashboardLintTest {
  /**
   * LATEST_VERSION of Grafana's dashboard migrations (apps/dashboard/pkg/migration/schemaversion):
   * older Grafanas run no migration for a newer version, and v43 on Grafana's main branch (formatTime
   * transformations to convertFieldType) changes nothing in these dashboards.
   */
  static final int SCHEMA_VERSION = 42;

  static final Set<String> DASHBOARD_UIDS = Set.of("stallwatch-fleet", "stallwatch-container", "stallwatch-pipeline");

  /** The Flink job's metrics as Flink's Prometheus reporter names them; each is also in a real scrape. */
  static final Set<String> FLINK_EXPECTED_METRICS = Set.copyOf(JobMetrics.PROM_ALL);

  /** Series Prometheus writes itself for every target. */
  static final Set<String> PROMETHEUS_OWN_SERIES = Set.of("up");

  /** The collector's per-container gauges: one series per container, never for a fleet panel. */
  static final Set<String> PER_CONTAINER_SERIES =
      Set.of("stallwatch_collector_container_cpu_cores", "stallwatch_collector_container_samples");

  static final Set<String> JOBS = Set.of("stallwatch-collector", "stallwatch-incidents", "stallwatch-flink");
  static final Set<String> SQL_TABLES = Set.of("incidents", "container_health");

  static final Path ROOT = Dashboards.repoRoot();
  static final Path DATASOURCES = ROOT.resolve("deploy/grafana/provisioning/datasources/stallwatch.yaml");
  static final Path PROVIDERS = ROOT.resolve("deploy/grafana/provisioning/dashboards/stallwatch.yaml");
  static final Path DEPLOY_README = ROOT.resolve("deploy/grafana/README.md");
  static final List<Dashboard> DASHBOARDS = Dashboards.all();

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void everyDashboardParsesAndTheThreeAreThere() {
    assertThat(DASHBOARDS).extracting(Dashboard::uid).containsExactlyInAnyOrderElementsOf(DASHBOARD_UIDS);
    for (Dashboard dashboard : DASHBOARDS) {
      assertThat(dashboard.title()).as(dashboard.file().toString()).isNotBlank();
      assertThat(dashboard.file().getFileName().toString()).isEqualTo(dashboard.uid() + ".json");
      assertThat(dashboard.panels()).as(dashboard.uid()).isNotEmpty();
      assertThat(dashboard.json().path("id").isMissingNode() || dashboard.json().path("id").isNull())
          .as("%s: no database id in a provisioned dashboard", dashboard.uid()).isTrue();
    }
  }

  @Test
  void uidsAreUniqueAndStable() {
    assertThat(DASHBOARDS).extracting(Dashboard::uid).doesNotHaveDuplicates()
        .allSatisfy(uid -> assertThat(uid).matches("^[a-z0-9-]{1,40}$"));
  }

  @Test
  void schemaVersionIsTheChosenOne() {
    for (Dashboard dashboard : DASHBOARDS) {
      assertThat(dashboard.json().path("schemaVersion").asInt()).as(dashboard.uid()).isEqualTo(SCHEMA_VERSION);
    }
  }

  @Test
  void panelIdsAreUniquePerDashboard() {
    for (Dashboard dashboard : DASHBOARDS) {
      assertThat(dashboard.panels()).extracting(Panel::id).as(dashboard.uid())
          .doesNotContain(-1).doesNotHaveDuplicates();
    }
  }

  @Test
  void everyPanelHasTitleDescriptionUnitAndDatasource() {
    for (Dashboard dashboard : DASHBOARDS) {
      for (Panel panel : dashboard.panels()) {
        String where = dashboard.uid() + " panel " + panel.id() + " '" + panel.title() + "'";
        assertThat(panel.title()).as(where).isNotBlank();
        if (panel.isRow()) {
          continue;
        }
        assertThat(panel.description()).as(where + " description").isNotBlank();
        assertThat(panel.unit()).as(where + " unit").isNotBlank();
        assertThat(panel.json().path("datasource").isObject()).as(where + " datasource").isTrue();
        assertThat(panel.targets()).as(where + " targets").isNotEmpty();
        for (JsonNode target : panel.targets()) {
          assertThat(target.path("datasource").isObject()).as(where + " target datasource").isTrue();
          assertThat(target.path("refId").asText()).as(where + " refId").isNotBlank();
        }
        assertThat(panel.targets()).extracting(target -> target.path("refId").asText()).as(where)
            .doesNotHaveDuplicates();
      }
    }
  }

  @Test
  void everyDatasourceReferenceResolvesToAProvisionedOne() throws IOException {
    Map<String, String> provisioned = provisionedDatasources();
    for (Dashboard dashboard : DASHBOARDS) {
      Map<String, JsonNode> variables = new HashMap<>();
      for (JsonNode variable : dashboard.variables()) {
        if ("datasource".equals(variable.path("type").asText())) {
          variables.put(variable.path("name").asText(), variable);
          String uid = variable.path("current").path("value").asText();
          assertThat(provisioned).as("%s: variable %s defaults to a provisioned uid", dashboard.uid(),
              variable.path("name").asText()).containsEntry(uid, variable.path("query").asText());
        }
      }
      List<JsonNode> references = new ArrayList<>();
      collectDatasourceReferences(dashboard.json(), references);
      assertThat(references).as(dashboard.uid()).isNotEmpty();
      for (JsonNode reference : references) {
        String type = reference.path("type").asText();
        String uid = reference.path("uid").asText();
        Matcher variable = Pattern.compile("^\\$\\{(\\w+)}$|^\\$(\\w+)$").matcher(uid);
        if (variable.matches()) {
          String name = variable.group(1) != null ? variable.group(1) : variable.group(2);
          assertThat(variables).as("%s: %s names a datasource variable", dashboard.uid(), reference).containsKey(name);
          assertThat(variables.get(name).path("query").asText()).as("%s: %s type", dashboard.uid(), reference)
              .isEqualTo(type);
        } else {
          assertThat(provisioned).as("%s: %s is provisioned", dashboard.uid(), reference).containsEntry(uid, type);
        }
      }
    }
  }

  @Test
  void variablesAndAnnotationsHaveDatasources() {
    for (Dashboard dashboard : DASHBOARDS) {
      for (JsonNode variable : dashboard.variables()) {
        if ("query".equals(variable.path("type").asText())) {
          assertThat(variable.path("datasource").isObject()).as("%s variable %s", dashboard.uid(),
              variable.path("name").asText()).isTrue();
        }
      }
      for (JsonNode annotation : dashboard.annotations()) {
        assertThat(annotation.path("datasource").isObject()).as("%s annotation %s", dashboard.uid(),
            annotation.path("name").asText()).isTrue();
        assertThat(annotation.path("target").path("datasource").isObject()).as("%s annotation %s target",
            dashboard.uid(), annotation.path("name").asText()).isTrue();
      }
    }
  }

  @Test
  void sqlTargetsAreRawCodeQueries() {
    for (Dashboard dashboard : DASHBOARDS) {
      List<JsonNode> targets = new ArrayList<>();
      dashboard.panels().forEach(panel -> targets.addAll(panel.targets()));
      dashboard.annotations().forEach(annotation -> targets.add(annotation.path("target")));
      for (JsonNode target : targets) {
        if (!target.has("rawSql")) {
          assertThat(target.path("datasource").path("type").asText()).as("%s: %s", dashboard.uid(), target)
              .isNotEqualTo(Dashboards.POSTGRES_TYPE);
          continue;
        }
        assertThat(target.path("rawQuery").asBoolean()).as("%s rawQuery: %s", dashboard.uid(), target).isTrue();
        assertThat(target.path("editorMode").asText()).as("%s editorMode: %s", dashboard.uid(), target).isEqualTo("code");
        assertThat(target.path("format").asText()).as("%s format: %s", dashboard.uid(), target)
            .isIn("time_series", "table");
      }
    }
  }

  @Test
  void sqlReadsOnlyTheIncidentsAndContainerHealthTables() {
    for (Query query : queries(Kind.SQL)) {
      assertThat(tablesRead(query.text())).as("%s / %s", query.dashboardUid(), query.where())
          .isNotEmpty().isSubsetOf(SQL_TABLES);
    }
  }

  @Test
  void everyContainerHealthQueryIsBoundedByTheTimeRange() {
    // daily partitions by window_end: without a window_end range every partition is read
    Pattern timeFilter = Pattern.compile("\\$__timeFilter\\((\\w+\\.)?window_end\\)");
    for (Query query : queries(Kind.SQL)) {
      if (query.text().contains("container_health")) {
        assertThat(timeFilter.matcher(query.text()).find()).as("%s / %s", query.dashboardUid(), query.where()).isTrue();
      }
    }
  }

  @Test
  void fleetWideContainerHealthQueriesReadOnlyNotableWindows() {
    // at 100k containers a range holds 36M rows an hour; a fleet query reads one container's rows
    // (primary key) or only the windows of the partial index in dashboards/README.md
    Pattern oneContainer = Pattern.compile("container_id = '\\$container'");
    Pattern notable = Pattern.compile(
        "detector_state <> 'HEALTHY'|detector_state IN \\(|signature_id IS NOT NULL|timeouts > 0");
    for (Query query : queries(Kind.SQL)) {
      if (query.text().contains("container_health") && !oneContainer.matcher(query.text()).find()) {
        assertThat(notable.matcher(query.text()).find()).as("%s / %s", query.dashboardUid(), query.where()).isTrue();
      }
    }
  }

  @Test
  void everyQueryUsesOnlyItsDashboardsVariablesAndKnownMacros() {
    Instant from = Instant.parse("2021-12-29T12:45:00Z");
    Instant to = Instant.parse("2021-12-29T13:05:00Z");
    for (Dashboard dashboard : DASHBOARDS) {
      Map<String, String> vars = new LinkedHashMap<>();
      for (JsonNode variable : dashboard.variables()) {
        vars.put(variable.path("name").asText(), "value-of-" + variable.path("name").asText());
      }
      for (Query query : dashboard.queries()) {
        String where = dashboard.uid() + " / " + query.where();
        assertThatCode(() -> {
          String expanded = query.kind() == Kind.SQL
              ? Dashboards.expandSql(query.text(), from, to, vars)
              : Dashboards.expandPromQl(query.text(), Duration.ofMinutes(1), vars);
          assertThat(expanded).as(where).doesNotContain("$");
        }).as(where).doesNotThrowAnyException();
      }
    }
  }

  @Test
  void everyPromQlMetricIsOneTheProjectExports() {
    Set<String> exported = new TreeSet<>();
    exported.addAll(ExportedMetrics.collector());
    exported.addAll(ExportedMetrics.incidentService());
    exported.addAll(FLINK_EXPECTED_METRICS);
    exported.addAll(PROMETHEUS_OWN_SERIES);
    Set<String> used = new TreeSet<>();
    for (Query query : queries(Kind.PROMQL)) {
      Set<String> names = Dashboards.promQlMetricNames(query.text());
      assertThat(names).as("%s / %s: %s", query.dashboardUid(), query.where(), query.text())
          .isNotEmpty().isSubsetOf(exported);
      used.addAll(names);
    }
    assertThat(used).as("the pipeline dashboard reads the collector, the incident service and Flink")
        .contains("stallwatch_collector_samples_total", "stallwatch_notifier_failures_total",
            "flink_jobmanager_job_lastCheckpointDuration");
  }

  @Test
  void flinkSelectorsMatchSeriesOfARealFlinkScrape() throws IOException {
    // flink-scrape-sample.txt: a trimmed real scrape of Flink 2.3's Prometheus reporter running the
    // detection job (LocalFlinkPrometheusITCase): the names and the label values as the reporter writes them
    List<Map.Entry<String, Map<String, String>>> samples = flinkScrapeSample();
    Set<String> sampleNames = samples.stream().map(Map.Entry::getKey).collect(Collectors.toSet());
    assertThat(sampleNames).containsAll(FLINK_EXPECTED_METRICS);
    Pattern selector = Pattern.compile("(flink_\\w+)\\{([^}]*)}");
    Pattern matcher = Pattern.compile("(\\w+)\\s*(=~|!~|!=|=)\\s*\"([^\"]*)\"");
    int selectors = 0;
    for (Query query : queries(Kind.PROMQL)) {
      Matcher m = selector.matcher(query.text());
      while (m.find()) {
        selectors++;
        String name = m.group(1);
        List<String[]> matchers = new ArrayList<>();
        Matcher label = matcher.matcher(m.group(2));
        while (label.find()) {
          if (!label.group(1).equals("job")) { // Prometheus adds job at scrape time
            matchers.add(new String[] {label.group(1), label.group(2), label.group(3)});
          }
        }
        boolean matched = samples.stream().anyMatch(sample -> sample.getKey().equals(name)
            && matchers.stream().allMatch(x -> labelMatches(sample.getValue().getOrDefault(x[0], ""), x[1], x[2])));
        assertThat(matched).as("%s / %s: %s matches a series of the real scrape", query.dashboardUid(), query.where(),
            m.group()).isTrue();
        // and the labels the query groups by are labels of that series
        Matcher by = Pattern.compile("\\bby\\s*\\(([^)]*)\\)").matcher(query.text());
        while (by.find()) {
          for (String grouped : by.group(1).split(",")) {
            assertThat(samples.stream().filter(sample -> sample.getKey().equals(name))
                .anyMatch(sample -> sample.getValue().containsKey(grouped.strip())))
                .as("%s / %s: %s has the label %s", query.dashboardUid(), query.where(), name, grouped.strip()).isTrue();
          }
        }
      }
    }
    assertThat(selectors).isPositive();
  }

  @Test
  void noPromQlReadsPerContainerSeries() {
    assertThat(ExportedMetrics.collector()).containsAll(PER_CONTAINER_SERIES);
    for (Query query : queries(Kind.PROMQL)) {
      assertThat(Dashboards.promQlMetricNames(query.text())).as("%s / %s", query.dashboardUid(), query.where())
          .doesNotContainAnyElementsOf(PER_CONTAINER_SERIES);
      assertThat(query.text()).as("%s / %s", query.dashboardUid(), query.where())
          .doesNotContain(CollectorMetrics.CONTAINER_LABEL);
    }
  }

  @Test
  void promQlSelectsByJobAndRatesOverTheRateInterval() {
    Pattern job = Pattern.compile("job=~?\"([^\"]+)\"");
    Pattern range = Pattern.compile("\\b(rate|increase|irate|delta|deriv)\\(([^\\[]*)\\[([^]]*)]");
    for (Query query : queries(Kind.PROMQL)) {
      String where = query.dashboardUid() + " / " + query.where();
      Matcher jobs = job.matcher(query.text());
      assertThat(jobs.find()).as(where + " filters by job").isTrue();
      do {
        assertThat(Set.of(jobs.group(1).split("\\|"))).as(where).isSubsetOf(JOBS);
      } while (jobs.find());
      Matcher ranges = range.matcher(query.text());
      while (ranges.find()) {
        assertThat(ranges.group(3)).as(where).isEqualTo("$__rate_interval");
      }
    }
  }

  @Test
  void linksToDashboardsResolve() {
    Pattern link = Pattern.compile("/d/([a-z0-9-]+)");
    for (Dashboard dashboard : DASHBOARDS) {
      Matcher m = link.matcher(dashboard.json().toString());
      while (m.find()) {
        assertThat(DASHBOARD_UIDS).as("%s links to /d/%s", dashboard.uid(), m.group(1)).contains(m.group(1));
      }
    }
  }

  @Test
  void datasourceProvisioningHasBothSourcesFromTheEnvironment() throws IOException {
    JsonNode file = YAML.readTree(DATASOURCES.toFile());
    assertThat(file.path("apiVersion").asInt()).isEqualTo(1);
    assertThat(provisionedDatasources()).containsOnly(
        Map.entry(Dashboards.PROMETHEUS_UID, Dashboards.PROMETHEUS_TYPE),
        Map.entry(Dashboards.POSTGRES_UID, Dashboards.POSTGRES_TYPE));
    JsonNode postgres = datasource(file, Dashboards.POSTGRES_UID);
    assertThat(postgres.path("jsonData").path("database").asText()).isEqualTo("stallwatch");
    assertThat(postgres.path("jsonData").path("sslmode").asText()).isEqualTo("disable");
    assertThat(postgres.path("url").asText()).contains("$STALLWATCH_POSTGRES_HOST");
    assertThat(postgres.path("user").asText()).isEqualTo("$STALLWATCH_POSTGRES_USER");
    assertThat(postgres.path("secureJsonData").path("password").asText()).startsWith("$");
    assertThat(datasource(file, Dashboards.PROMETHEUS_UID).path("url").asText()).isEqualTo("$STALLWATCH_PROMETHEUS_URL");
  }

  @Test
  void everyEnvironmentVariableOfTheProvisioningIsDocumented() throws IOException {
    String readme = Files.readString(DEPLOY_README);
    Pattern env = Pattern.compile("\\$\\{?([A-Z][A-Z0-9_]*)}?");
    for (Path file : List.of(DATASOURCES, PROVIDERS)) {
      // values only: the comments may say $NAME
      Matcher m = env.matcher(Files.readString(file).replaceAll("(?m)#.*$", ""));
      while (m.find()) {
        assertThat(readme).as("%s uses $%s", file.getFileName(), m.group(1))
            .contains("`" + m.group(1) + "`").contains("-e " + m.group(1) + "=");
      }
    }
  }

  @Test
  void dashboardProviderLoadsTheMountedDashboardsFolder() throws IOException {
    JsonNode file = YAML.readTree(PROVIDERS.toFile());
    assertThat(file.path("apiVersion").asInt()).isEqualTo(1);
    assertThat(file.path("providers")).hasSize(1);
    JsonNode provider = file.path("providers").get(0);
    assertThat(provider.path("type").asText()).isEqualTo("file");
    assertThat(provider.path("folder").asText()).isEqualTo("Stallwatch");
    assertThat(provider.path("allowUiUpdates").isBoolean()).isTrue();
    assertThat(provider.path("allowUiUpdates").asBoolean()).isFalse();
    String path = provider.path("options").path("path").asText();
    assertThat(path).startsWith("/");
    // the README's docker run mounts the repository's dashboards/ and both provisioning folders there
    String readme = Files.readString(DEPLOY_README);
    assertThat(readme)
        .contains("\"$PWD/dashboards:" + path + ":ro\"")
        .contains("\"$PWD/deploy/grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro\"")
        .contains("\"$PWD/deploy/grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro\"");
    assertThat(ROOT.resolve("dashboards")).isDirectory();
  }

  // --- helpers ---

  private static List<Query> queries(Kind kind) {
    List<Query> queries = DASHBOARDS.stream().flatMap(dashboard -> dashboard.queries().stream())
        .filter(query -> query.kind() == kind).toList();
    assertThat(queries).as("%s queries", kind).isNotEmpty();
    return queries;
  }

  private static boolean labelMatches(String value, String op, String operand) {
    return switch (op) {
      case "=" -> value.equals(operand);
      case "!=" -> !value.equals(operand);
      case "=~" -> value.matches(operand); // anchored, as in PromQL
      case "!~" -> !value.matches(operand);
      default -> throw new IllegalArgumentException(op);
    };
  }

  /** The sample lines of the Flink scrape: name and labels. */
  private static List<Map.Entry<String, Map<String, String>>> flinkScrapeSample() throws IOException {
    String text;
    try (var in = DashboardLintTest.class.getResourceAsStream("flink-scrape-sample.txt")) {
      assertThat(in).as("flink-scrape-sample.txt beside this test").isNotNull();
      text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    Pattern line = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+\\S+$");
    Pattern label = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    List<Map.Entry<String, Map<String, String>>> samples = new ArrayList<>();
    for (String sampleLine : text.split("\n")) {
      Matcher m = line.matcher(sampleLine.strip());
      if (sampleLine.startsWith("#") || !m.matches()) {
        continue;
      }
      Map<String, String> labels = new HashMap<>();
      if (m.group(2) != null) {
        Matcher l = label.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      samples.add(Map.entry(m.group(1), labels));
    }
    assertThat(samples).as("samples in flink-scrape-sample.txt").isNotEmpty();
    return samples;
  }

  /** uid to type of every provisioned data source. */
  private static Map<String, String> provisionedDatasources() throws IOException {
    Map<String, String> datasources = new LinkedHashMap<>();
    for (JsonNode datasource : YAML.readTree(DATASOURCES.toFile()).path("datasources")) {
      datasources.put(datasource.path("uid").asText(), datasource.path("type").asText());
    }
    return datasources;
  }

  private static JsonNode datasource(JsonNode file, String uid) {
    for (JsonNode datasource : file.path("datasources")) {
      if (uid.equals(datasource.path("uid").asText())) {
        return datasource;
      }
    }
    throw new AssertionError("no data source " + uid + " in " + DATASOURCES);
  }

  /** Every {@code "datasource"} object anywhere in the dashboard (panels, targets, variables, annotations). */
  private static void collectDatasourceReferences(JsonNode node, List<JsonNode> into) {
    if (node.isObject()) {
      node.fields().forEachRemaining(field -> {
        if (field.getKey().equals("datasource")) {
          assertThat(field.getValue().isObject()).as("datasource reference as an object: %s", field.getValue()).isTrue();
          into.add(field.getValue());
        } else {
          collectDatasourceReferences(field.getValue(), into);
        }
      });
    } else if (node.isArray()) {
      node.forEach(element -> collectDatasourceReferences(element, into));
    }
  }

  private static final Pattern FROM_OR_JOIN = Pattern.compile("(?i)\\b(?:from|join)\\s+([a-z_][a-z0-9_.]*|\\()");
  private static final Pattern EXTRACT = Pattern.compile("(?i)\\bextract\\s*\\(\\s*\\w+\\s+from\\b");
  private static final Pattern CTE = Pattern.compile("(?i)(?:\\bwith|,)\\s*([a-z_][a-z0-9_]*)\\s+as\\s*\\(");

  /** The tables a query reads: names after FROM and JOIN, less its CTEs and EXTRACT(... FROM ...). */
  static Set<String> tablesRead(String sql) {
    String text = EXTRACT.matcher(sql).replaceAll("extract(");
    Set<String> ctes = new HashSet<>();
    Matcher cte = CTE.matcher(text);
    while (cte.find()) {
      ctes.add(cte.group(1).toLowerCase());
    }
    Set<String> tables = new TreeSet<>();
    Matcher m = FROM_OR_JOIN.matcher(text);
    while (m.find()) {
      String name = m.group(1).toLowerCase();
      if (!name.equals("(") && !ctes.contains(name)) {
        tables.add(name);
      }
    }
    return tables.stream().collect(Collectors.toCollection(TreeSet::new));
  }
}
