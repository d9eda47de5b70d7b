package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class StallwatchCliTest {
  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void helpListsTheCommands() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("demo", "replay", "fold", "job", "collect", "drain", "incidents", "serve");
  }

  @Test
  void everyCommandHasHelp() {
    for (String command : new String[] {"demo", "replay", "fold", "job", "collect", "drain", "incidents", "serve"}) {
      StringWriter commandOut = new StringWriter();
      CommandLine cli = Stallwatch.commandLine();
      cli.setOut(new PrintWriter(commandOut, true));
      assertThat(cli.execute(command, "--help")).as(command).isZero();
      assertThat(commandOut.toString()).as(command).contains("Usage: stallwatch " + command);
    }
  }

  @Test
  void unknownCommandIsAUsageError() {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch: Unmatched argument");
  }

  @Test
  void demoServeOptionsWithoutServeAreAUsageError() {
    assertThat(run("demo", "--flink-metrics-port", "9300")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch demo: --listen, --collector-listen, --flink-metrics-port and "
        + "--prometheus-config go with --serve\n");
  }

  @Test
  void demoServeChecksItsAddressesBeforeStartingAnything() {
    assertThat(run("demo", "--serve", "--data-dir", dir.resolve("data").toString(), "--collector-listen", "9464"))
        .isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo("stallwatch demo: --collector-listen: expected HOST:PORT like 127.0.0.1:8080, got '9464'\n");
    assertThat(run("demo", "--serve", "--data-dir", dir.resolve("data").toString(), "--flink-metrics-port", "http"))
        .isEqualTo(2);
    assertThat(err.toString()).endsWith("stallwatch demo: --flink-metrics-port: the port 'http' is not a number\n");
    assertThat(dir.resolve("data")).as("nothing started, nothing written").doesNotExist();
  }

  @Test
  void replayOfAMissingBundleExitsTwoWithOneLine() {
    assertThat(run("replay", dir.resolve("absent").toString())).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch replay: " + dir.resolve("absent") + ": missing directory\n");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void replayOfABadRowNamesFileAndLine() throws Exception {
    Files.createDirectories(dir.resolve("perf/h"));
    Files.writeString(dir.resolve("perf/h/x.txt"), "");
    Files.writeString(dir.resolve("containers.csv"), "pid,container_id,host,pod,namespace\n1,c,h,,\n");
    Files.writeString(dir.resolve("upstream.csv"), "window_start_ms,window_end_ms,container_id,requests,timeouts\n"
        + "1700000000000,1700000010000,c,1,1\n1700000000000,1700000010000,c,1\n");
    assertThat(run("replay", dir.toString())).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "stallwatch replay: " + dir.resolve("upstream.csv") + " line 3: expected 5 columns, got 4\n");
  }

  @Test
  void badDetectorOptionIsAUsageError() {
    assertThat(run("replay", dir.toString(), "--set", "stuck.sustain=forever")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch replay: ").contains("stuck.sustain");
    assertThat(err.toString().lines().count()).isEqualTo(1);
  }

  @Test
  void foldOfAMissingFileIsAUsageError() {
    assertThat(run("fold", dir.resolve("nope.txt").toString())).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch fold: " + dir.resolve("nope.txt") + ": no such file\n");
  }

  @Test
  void foldOfATruncatedGzipExitsTwoWithOneLine() throws java.io.IOException {
    java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(gz)) {
      for (int i = 0; i < 2_000; i++) {
        out.write(("app 1/1 [000] 1." + String.format("%06d", i) + ": 1 cpu-clock:\n\t1 f" + i + " (/x)\n\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      }
    }
    byte[] bytes = gz.toByteArray();
    java.nio.file.Path file = dir.resolve("cut.perf.txt.gz");
    java.nio.file.Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));

    assertThat(run("fold", file.toString())).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch fold: " + file
        + ": truncated gzip: the input ends inside the compressed data\n");
  }

  @Test
  void listOptionsPrintsTheDefaults() {
    // DetectorOptions.describe() goes to System.out; the command must succeed and not need Kafka
    assertThat(run("job", "--list-options")).isZero();
  }

  @Test
  void jobWithoutBootstrapServersIsAUsageError() {
    assertThat(run("job")).isEqualTo(2);
    assertThat(err.toString()).contains("--bootstrap-servers is required");
  }
}
