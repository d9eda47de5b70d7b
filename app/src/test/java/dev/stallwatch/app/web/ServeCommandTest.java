package dev.stallwatch.app.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * {@code stallwatch serve}'s usage errors: exit 2 with one line, before anything starts (every
 * case here fails in the argument checks, so no store or server is started).
 */
class ServeCommandTest {
  @TempDir
  Path dir;

  private record Run(int exit, String stdout, String stderr) {}

  private Run serve(List<String> arguments) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    List<String> args = new ArrayList<>(List.of("serve", "--data-dir", dir.resolve("data").toString()));
    args.addAll(arguments);
    int exit = cli.execute(args.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  private Path tokenFile(String token) throws IOException {
    Path file = Files.writeString(dir.resolve("token"), token + "\n");
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  @ParameterizedTest(name = "--listen {0}")
  @CsvSource(delimiter = '|', value = {
      "8080             | expected HOST:PORT like 127.0.0.1:8080",
      "127.0.0.1:       | expected HOST:PORT",
      "127.0.0.1:http   | is not a number",
      "127.0.0.1:70000  | port 70000 is out of range",
  })
  void aBadListenAddressIsAUsageError(String listen, String message) {
    Run run = serve(List.of("--listen", listen));
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).startsWith("stallwatch serve: --listen").contains(message).hasLineCount(1);
  }

  @Test
  void aTokenFileThatIsMissingOrWeakIsAUsageError() throws IOException {
    Run missing = serve(List.of("--api-token-file", dir.resolve("nope").toString()));
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.stderr()).contains("--api-token-file").contains("no such file").hasLineCount(1);

    Run weak = serve(List.of("--api-token-file", tokenFile("hunter2").toString()));
    assertThat(weak.exit()).isEqualTo(2);
    assertThat(weak.stderr()).contains("has 7 characters; use at least 16").doesNotContain("hunter2").hasLineCount(1);
  }

  @Test
  void aTokenFileOthersCanReadIsAUsageError() throws IOException {
    Path file = tokenFile("0123456789abcdef0123");
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));

    Run run = serve(List.of("--api-token-file", file.toString()));

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).startsWith("stallwatch serve: --api-token-file " + file)
        .contains("rw-r--r--", "chmod 600").doesNotContain("0123456789abcdef0123").hasLineCount(1);
  }

  @Test
  void receiversNeedTheAlertsTopic() throws IOException {
    Run run = serve(List.of("--api-token-file", tokenFile("0123456789abcdef0123").toString(),
        "--webhook-url", "http://127.0.0.1:9/hook"));
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).contains("give --bootstrap-servers too").hasLineCount(1);
  }

  @Test
  void kafkaSettingsNeedKafka() throws IOException {
    Path config = Files.writeString(dir.resolve("kafka.properties"), "security.protocol=SSL\n");
    Run run = serve(List.of("--api-token-file", tokenFile("0123456789abcdef0123").toString(),
        "--kafka-config", config.toString()));
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).contains("--kafka-config goes with --bootstrap-servers").hasLineCount(1);
  }

  @ParameterizedTest(name = "--health-retention {0}")
  @CsvSource(delimiter = '|', value = {
      "soon   | --health-retention: expected a duration such as 500ms, 20s, 5m, 1h or 3d, got 'soon'",
      "3w     | --health-retention: expected a duration such as",
      "0d     | --health-retention must be positive, got '0d'",
  })
  void aBadHealthRetentionIsAUsageError(String retention, String message) throws IOException {
    // 127.0.0.1:9 is never asked: the value is checked before the store or Kafka is touched
    Run run = serve(List.of("--api-token-file", tokenFile("0123456789abcdef0123").toString(),
        "--bootstrap-servers", "127.0.0.1:9", "--health-retention", retention));
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).startsWith("stallwatch serve: " + message).hasLineCount(1);
  }

  @Test
  void healthRetentionNeedsKafka() throws IOException {
    Run run = serve(List.of("--api-token-file", tokenFile("0123456789abcdef0123").toString(),
        "--health-retention", "36h"));
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).contains("--health-retention goes with --bootstrap-servers").hasLineCount(1);
  }

  @Test
  void helpNamesTheOptions() {
    Run run = serve(List.of("--help"));
    assertThat(run.exit()).isZero();
    assertThat(run.stdout()).contains("--listen", "--bootstrap-servers", "--api-token-file", "--jdbc-url",
        "--pagerduty-routing-key", "--alertmanager-url", "--webhook-url", "STALLWATCH_API_TOKEN", "--health-retention");
  }
}
