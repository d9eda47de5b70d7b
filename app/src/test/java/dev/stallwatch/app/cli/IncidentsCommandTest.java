package dev.stallwatch.app.cli;

import static dev.stallwatch.app.incidents.IncidentFixtures.DETECTED;
import static dev.stallwatch.app.incidents.IncidentFixtures.open;
import static dev.stallwatch.app.incidents.IncidentFixtures.resolved;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.incidents.IncidentFixtures;
import dev.stallwatch.incidents.query.IncidentFilter;
import dev.stallwatch.incidents.query.IncidentStatus;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code stallwatch incidents list|show}: argument checks (parsed, nothing started) and output
 * against an embedded store this class fills once; the commands join the server it runs.
 */
class IncidentsCommandTest {
  private static final String DEMO_ID = "b47101c4-d617-37c4-9adb-c2071b4d8ea3";

  @TempDir
  static Path dataDir;

  @TempDir
  Path files;

  private static IncidentDatabase database;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeAll
  static void fillStore() {
    database = IncidentDatabase.open(DatabaseOptions.embedded(dataDir));
    DeadlockAlert demo = open(DEMO_ID);
    DeadlockAlert older = open("a0a0a0a0-resolved", "c0ffee00c0ffee00", "node-b", DETECTED.minusSeconds(86_400));
    DeadlockAlert onAQuote = open("quoted-host", "d00d", "o'brien", DETECTED.minusSeconds(3600));
    database.store().write(List.of(demo, older, resolved(older, DETECTED.minusSeconds(86_000), "restored"),
        onAQuote));
  }

  @AfterAll
  static void stopStore() {
    database.close();
  }

  private int run(String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private int runOnStore(String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--data-dir";
    all[args.length + 1] = dataDir.toString();
    return run(all);
  }

  private static <T> T parse(Class<T> type, String... args) {
    CommandLine cli = Stallwatch.commandLine();
    CommandLine.ParseResult result = cli.parseArgs(args);
    while (result.hasSubcommand()) {
      result = result.subcommand();
    }
    return type.cast(result.commandSpec().userObject());
  }

  // --- arguments, parsed only -------------------------------------------------------------

  @Test
  void listOptionsBecomeTheFilter() {
    IncidentsListCommand list = parse(IncidentsListCommand.class, "incidents", "list", "--since", "7d",
        "--until", "2026-11-20", "--container", "3f9c2b7d81e4", "--host", "node-a", "--namespace", "shop",
        "--signature", "go-timer-livelock", "--status", "RESOLVED", "--limit", "10");
    list.clock = Clock.fixed(Instant.parse("2026-11-26T12:00:00Z"), ZoneOffset.UTC);
    assertThat(list.filter()).isEqualTo(new IncidentFilter(Instant.parse("2026-11-19T12:00:00Z"),
        Instant.parse("2026-11-20T00:00:00Z"), "3f9c2b7d81e4", "node-a", "shop", "go-timer-livelock",
        IncidentStatus.RESOLVED));
    assertThat(list.limit).isEqualTo(10);
    assertThat(list.store.databaseOptions(Map.of()).postgresDir())
        .isEqualTo(DatabaseOptions.defaultDataDir().resolve("postgres"));
  }

  @Test
  void aServerTakesItsPasswordFromTheEnvironmentOrAFile() throws Exception {
    IncidentsListCommand list = parse(IncidentsListCommand.class, "incidents", "list",
        "--jdbc-url", "jdbc:postgresql://db:5432/stallwatch", "--db-user", "reader");
    DatabaseOptions options = list.store.databaseOptions(Map.of(IncidentStoreOptions.PASSWORD_ENV, "from-env"));
    assertThat(options.isEmbedded()).isFalse();
    assertThat(options.user()).isEqualTo("reader");
    assertThat(options.describe()).isEqualTo("jdbc:postgresql://db:5432/stallwatch");

    Path secret = Files.writeString(files.resolve("password"), "from-file\n");
    IncidentsListCommand withFile = parse(IncidentsListCommand.class, "incidents", "list",
        "--jdbc-url", "jdbc:postgresql://db:5432/stallwatch", "--db-password-file", secret.toString());
    assertThat(withFile.store.databaseOptions(Map.of()).toString()).doesNotContain("from-file");
  }

  @Test
  void helpNamesBothCommands() {
    assertThat(run("incidents", "--help")).isZero();
    assertThat(out.toString()).contains("Usage: stallwatch incidents", "list", "show");
    assertThat(run("help")).isZero();
    assertThat(out.toString()).contains("incidents");
  }

  @Test
  void badFiltersExitTwoWithOneLineNamingTheOption() {
    assertUsageError(new String[] {"incidents", "list", "--since", "yesterday"},
        "stallwatch incidents list: --since: expected a duration back from now (7d, 12h, 30m) or an ISO-8601 date "
            + "or time (2026-11-02, 2026-11-02T10:00:00Z), got 'yesterday'");
    assertUsageError(new String[] {"incidents", "list", "--until", "2026-02-30"},
        "stallwatch incidents list: --until: expected a duration back from now (7d, 12h, 30m) or an ISO-8601 date "
            + "or time (2026-11-02, 2026-11-02T10:00:00Z), got '2026-02-30'");
    assertUsageError(new String[] {"incidents", "list", "--status", "closed"},
        "stallwatch incidents list: --status: expected open or resolved, got 'closed'");
    assertUsageError(new String[] {"incidents", "list", "--format", "xml"},
        "stallwatch incidents list: --format: expected table, json or csv, got 'xml'");
    assertUsageError(new String[] {"incidents", "list", "--since", "1d", "--until", "2d"},
        "stallwatch incidents list: --since 1d is not before --until 2d");
    assertUsageError(new String[] {"incidents", "list", "--limit", "0"},
        "stallwatch incidents list: --limit: expected 1 to 1000, got 0");
    assertUsageError(new String[] {"incidents", "show", "x", "--format", "yaml"},
        "stallwatch incidents show: --format: expected text or json, got 'yaml'");
  }

  @Test
  void contradictoryStoreOptionsExitTwo() {
    assertUsageError(new String[] {"incidents", "list", "--data-dir", "d", "--jdbc-url", "jdbc:postgresql://x/y"},
        "stallwatch incidents list: give --data-dir (the embedded store) or --jdbc-url (a server), not both");
    assertUsageError(new String[] {"incidents", "list", "--db-user", "u"},
        "stallwatch incidents list: --db-user and --db-password-file go with --jdbc-url; the embedded store needs "
            + "neither");
    assertUsageError(new String[] {"incidents", "list", "--jdbc-url", "mysql://db/x"},
        "stallwatch incidents list: --jdbc-url: expected a PostgreSQL JDBC URL like "
            + "jdbc:postgresql://HOST:5432/stallwatch, got 'mysql://db/x'");
    assertUsageError(new String[] {"incidents", "list", "--jdbc-url", "jdbc:postgresql://db/x",
        "--db-password-file", files.resolve("absent").toString()},
        "stallwatch incidents list: --db-password-file " + files.resolve("absent") + ": no such file");
  }

  @Test
  void anUnreachableServerExitsTwoWithoutThePassword() {
    assertThat(run("incidents", "list", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/stallwatch?password=hunter2"))
        .isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch incidents list: cannot connect to the incident store "
        + "(jdbc:postgresql://127.0.0.1:1/stallwatch?password=***)").doesNotContain("hunter2");
    assertThat(err.toString().lines()).hasSize(1);
  }

  @Test
  void aMissingSubcommandIsAUsageError() {
    assertThat(run("incidents")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch incidents: missing command: list or show");
  }

  private void assertUsageError(String[] args, String line) {
    StringWriter errors = new StringWriter();
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(errors, true));
    assertThat(cli.execute(args)).as(String.join(" ", args)).isEqualTo(2);
    assertThat(errors.toString()).as(String.join(" ", args)).isEqualTo(line + "\n");
  }

  // --- against the store ------------------------------------------------------------------

  @Test
  void listIsANewestFirstTable() {
    assertThat(runOnStore("incidents", "list")).isZero();
    List<String> lines = out.toString().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).startsWith("DETECTED").contains("STATUS", "CONTAINER", "INCIDENT");
    assertThat(lines.get(1)).startsWith("2021-12-29T12:53:30Z  OPEN").contains("3f9c2b7d81e4  node-a")
        .endsWith(DEMO_ID);
    assertThat(lines.get(2)).contains("quoted-host");
    assertThat(lines.get(3)).contains("RESOLVED", "a0a0a0a0-resolved");
  }

  @Test
  void listFiltersAndFormatsAsJsonLinesAndCsv() throws Exception {
    assertThat(runOnStore("incidents", "list", "--status", "open", "--host", "o'brien", "--format", "json"))
        .isZero();
    List<String> lines = out.toString().lines().toList();
    assertThat(lines).hasSize(1);
    JsonNode json = new ObjectMapper().readTree(lines.get(0));
    assertThat(json.get("incidentId").asText()).isEqualTo("quoted-host");
    assertThat(json.get("host").asText()).isEqualTo("o'brien");
    assertThat(json.get("topStacks")).hasSize(2);

    out.getBuffer().setLength(0);
    assertThat(runOnStore("incidents", "list", "--format", "csv", "--since", "2021-12-29", "--until",
        "2021-12-29T12:53:30Z")).isZero();
    assertThat(out.toString().lines()).hasSize(2).first().asString().startsWith("incident_id,status,detected_at");
    assertThat(out.toString()).contains("quoted-host,OPEN,2021-12-29T11:53:30Z,d00d,o'brien,");
  }

  @Test
  void anEmptyResultSaysSoOnStderr() {
    assertThat(runOnStore("incidents", "list", "--container", "ffff")).isZero();
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString()).isEqualTo("stallwatch: no incidents match\n");
  }

  @Test
  void pagesTellWhereTheNextOneStarts() {
    assertThat(runOnStore("incidents", "list", "--limit", "1", "--format", "json")).isZero();
    assertThat(out.toString().lines()).hasSize(1);
    assertThat(err.toString()).isEqualTo("stallwatch: incidents 1-1 of 3; next page: --offset 1\n");
  }

  @Test
  void showTellsTheWholeStory() {
    assertThat(runOnStore("incidents", "show", DEMO_ID)).isZero();
    String text = out.toString();
    assertThat(text).startsWith("status OPEN; recorded ")
        .contains("DEADLOCK ALERT  Go 1.14 timer self-deadlock")
        .contains("T  +0s  latency spike: 1844 timeouts in 3075 requests")
        .contains("drained (requests)")
        .contains("stuck: CPU stays up")
        .contains("cpu before drain  0.99 cores")
        .contains("cpu after drain   1.00 cores")
        .contains("% of samples in go-timer-livelock")
        .contains("runtime           go1.14.1")
        .contains("matches golang/go#38023 (fixed in go1.14.2)  https://github.com/golang/go/issues/38023")
        .contains("runtime.adjusttimers;runtime.osyield");
  }

  @Test
  void showOfAResolvedIncidentByPrefixEndsTheTimeline() {
    assertThat(runOnStore("incidents", "show", "a0a0a0a0")).isZero();
    assertThat(out.toString()).startsWith("status RESOLVED (restored)").contains("resolved (restored)");
  }

  @Test
  void showAsJsonIsTheListObject() throws Exception {
    assertThat(runOnStore("incidents", "show", DEMO_ID, "--format", "json")).isZero();
    JsonNode json = new ObjectMapper().readTree(out.toString());
    assertThat(json.get("containerId").asText()).isEqualTo(IncidentFixtures.CONTAINER);
    assertThat(json.get("knownIssues").get(0).get("id").asText()).isEqualTo("golang/go#38023");
  }

  @Test
  void showWritesTheEvidenceAsFoldedStacksAndAFlameGraph() throws Exception {
    Path folded = files.resolve("evidence.folded");
    Path svg = files.resolve("evidence.svg");
    assertThat(runOnStore("incidents", "show", DEMO_ID, "--folded", folded.toString(), "--flamegraph",
        svg.toString())).isZero();
    assertThat(Files.readAllLines(folded)).containsExactly(
        IncidentFixtures.OSYIELD_STACK + " 18272727090",
        IncidentFixtures.FUTEX_STACK + " 3080808050");
    var document = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
    assertThat(document.getDocumentElement().getTagName()).isEqualTo("svg");
    assertThat(Files.readString(svg)).contains("runtime.osyield", "runtime.futex", DEMO_ID);
  }

  @Test
  void anUnknownIdOrAnUnwritableFileExitsTwo() {
    assertThat(runOnStore("incidents", "show", "no-such-incident")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch incidents show: no incident no-such-incident in the embedded "
        + "PostgreSQL in " + dataDir.resolve("postgres"));
    assertThat(err.toString().lines()).hasSize(1);

    StringWriter errors = new StringWriter();
    CommandLine cli = Stallwatch.commandLine();
    cli.setErr(new PrintWriter(errors, true));
    assertThat(cli.execute("incidents", "show", "a0a0a0a0-resolved", "--folded",
        files.resolve("no/such/dir/x.folded").toString(), "--data-dir", dataDir.toString())).isEqualTo(2);
    assertThat(errors.toString()).contains("--folded " + files.resolve("no/such/dir/x.folded") + ": no such directory");
  }

  @Test
  void aServerUrlReachesTheSameStore() {
    String url = database.jdbcUrl();
    Path password = DatabaseOptions.embedded(dataDir).superuserPasswordFile();
    assertThat(run("incidents", "list", "--jdbc-url", url, "--db-user", "postgres", "--db-password-file",
        password.toString(), "--format", "csv")).isZero();
    assertThat(out.toString().lines()).hasSize(4);
  }
}
