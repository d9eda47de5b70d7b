package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The options of 'stallwatch up' that are checked before anything starts. */
class UpCommandTest {
  @TempDir Path dir;

  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void optionsAfterTheDoubleDashGoToTheCollectorWithThisBrokerAndASpoolInTheDataDir() {
    UpCommand up = new UpCommand();
    new CommandLine(up).parseArgs("--data-dir", dir.toString(), "--collector-listen", "127.0.0.1:0", "--",
        "--haproxy-socket", "/run/haproxy/admin.sock", "--upstream-map", "/etc/stallwatch/upstreams.csv",
        "--haproxy-poll-interval", "500ms");

    CollectCommand collect = up.collectCommand(dir);
    assertThat(collect.haproxySockets).containsExactly(Path.of("/run/haproxy/admin.sock"));
    assertThat(collect.haproxyPollInterval).isEqualTo(Duration.ofMillis(500));
    assertThat(collect.spoolDir).isEqualTo(dir.resolve("spool"));
    assertThat(collect.httpAddress).isEqualTo("127.0.0.1:0");
    assertThat(collect.bootstrapServers).isNull(); // up sets its broker's once it runs
  }

  @Test
  void theBrokerAndTheRunTimeAreUpsOwn() {
    assertThat(run("up", "--data-dir", dir.toString(), "--", "--bootstrap-servers", "kafka:9092")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch up: collector option: --bootstrap-servers, --dry-run and "
        + "--duration are up's own: the collector publishes to this broker until up stops\n");
    assertThat(dir.resolve("kafka")).doesNotExist();
  }

  @Test
  void badCollectorOptionsAndNoCollectWithCollectorOptionsAreUsageErrors() {
    assertThat(run("up", "--data-dir", dir.toString(), "--", "--frequency", "often")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch up: collector option: ");
    StringWriter second = new StringWriter();
    CommandLine cli = Stallwatch.commandLine();
    cli.setErr(new PrintWriter(second, true));
    assertThat(cli.execute("up", "--data-dir", dir.toString(), "--no-collect", "--", "--include-host-processes"))
        .isEqualTo(2);
    assertThat(second.toString()).isEqualTo("stallwatch up: --no-collect runs no collector: collector options and "
        + "--collector-listen do not apply\n");
  }

  @Test
  void aTokenFileThatIsTooShortIsAUsageErrorBeforeAnythingStarts() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "short\n");
    assertThat(run("up", "--data-dir", dir.resolve("data").toString(), "--no-collect", "--api-token-file",
        token.toString())).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch up: " + token + ": ");
    assertThat(dir.resolve("data").resolve("kafka")).doesNotExist();
  }
}
