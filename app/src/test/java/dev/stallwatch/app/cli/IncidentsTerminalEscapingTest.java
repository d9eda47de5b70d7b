package dev.stallwatch.app.cli;

import static dev.stallwatch.app.incidents.IncidentFixtures.DETECTED;
import static dev.stallwatch.app.incidents.IncidentFixtures.open;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Stored text with terminal control sequences (a fake table line, a title change, a bell, a
 * bidi override) is shown escaped by {@code incidents list} and {@code show}; JSON stays JSON
 * (escaped by the encoder, the same text when parsed) and CSV stays RFC 4180.
 */
class IncidentsTerminalEscapingTest {
  private static final String ID = "e5c0e5c0-hostile";
  private static final String HOSTILE_POD = "orders\u001b]0;owned\u0007\r\n2021-12-29T12:53:30Z  RESOLVED  fake";
  private static final String HOSTILE_HOST = "node-a\u001b[2J\u009b31m";
  private static final String HOSTILE_STACK = "orders;main.main\u001b[1A;runtime.osyield\u202e";

  @TempDir
  static Path dataDir;

  private static IncidentDatabase database;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeAll
  static void storeAHostileIncident() {
    database = IncidentDatabase.open(DatabaseOptions.embedded(dataDir));
    DeadlockAlert alert = DeadlockAlert.newBuilder(open(ID, "c0c0c0c0c0c0", HOSTILE_HOST, DETECTED))
        .setPod(HOSTILE_POD)
        .setDrainedBy("lb\u0007hook")
        .setTopStacks(List.of(new WeightedStack(HOSTILE_STACK, 100L, 1.0)))
        .build();
    database.store().write(List.of(alert));
  }

  @AfterAll
  static void stopStore() {
    database.close();
  }

  @Test
  void listEscapesControlCharactersInTheTable() {
    assertThat(run("incidents", "list")).isZero();
    String table = out.toString();
    assertNoRawControls(table);
    assertThat(table.lines()).hasSize(2);
    assertThat(table).contains("node-a\\x1b[2J\\x9b31m")
        .contains("orders\\x1b]0;owned\\x07\\r\\n2021-12-29T12:53:30Z  RESOLVED  fake");
  }

  @Test
  void showEscapesControlCharactersEverywhere() {
    assertThat(run("incidents", "show", ID)).isZero();
    String text = out.toString();
    assertNoRawControls(text);
    assertThat(text).contains("orders\\x1b]0;owned\\x07\\r\\n").contains("node-a\\x1b[2J\\x9b31m")
        .contains("main.main\\x1b[1A").contains("runtime.osyield\\u202e");
  }

  @Test
  void jsonStaysJsonAndCsvStaysRfc4180() throws Exception {
    assertThat(run("incidents", "list", "--format", "json")).isZero();
    String json = out.toString();
    assertThat(json).doesNotContain("\u001b", "\u0007", "\r").hasLineCount(1);
    assertThat(new ObjectMapper().readTree(json).get("pod").asText()).isEqualTo(HOSTILE_POD);

    out.getBuffer().setLength(0);
    assertThat(run("incidents", "list", "--format", "csv")).isZero();
    // the CR LF inside the pod is inside a quoted field: one header and one record
    assertThat(out.toString()).contains(",\"" + HOSTILE_POD + "\",");
  }

  private static void assertNoRawControls(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      assertThat(c != '\n' && (Character.isISOControl(c) || c == '\u202e'))
          .as("raw U+%04X at %d in%n%s", (int) c, i, text).isFalse();
    }
  }

  private int run(String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--data-dir";
    all[args.length + 1] = dataDir.toString();
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(all);
  }
}
