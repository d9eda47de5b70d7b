package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class JobCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void metricsPortIsAnOptionWithHelp() {
    assertThat(run("job", "--help")).isZero();
    assertThat(out.toString()).contains("--metrics-port=PORT", "Prometheus");
  }

  @Test
  void metricsPortIsParsed() {
    JobCommand command = new JobCommand();
    new CommandLine(command).parseArgs("--bootstrap-servers", "localhost:9092", "--metrics-port", "9250-9260");

    assertThat(command.metricsPort).isEqualTo("9250-9260");
  }

  @Test
  void metricsPortThatIsNoPortIsAUsageErrorBeforeAnythingStarts() {
    assertThat(run("job", "--bootstrap-servers", "localhost:9", "--metrics-port", "nine")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch job: --metrics-port nine: ");
  }

  @Test
  void metricsPortThatIsTakenIsAUsageError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      String port = String.valueOf(taken.getLocalPort());
      assertThat(run("job", "--bootstrap-servers", "localhost:9", "--metrics-port", port)).isEqualTo(2);
      assertThat(err.toString()).contains("--metrics-port " + port + ": no free port");
    }
  }

  @Test
  void fromSavepointNeedsACluster() {
    assertThat(run("job", "--bootstrap-servers", "localhost:9", "--from-savepoint", "/tmp/sp")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch job: --from-savepoint needs --flink-rest");
  }

  @Test
  void submitChecksTheJarTheFlagsAndTheClusterBeforeAnythingRuns(@TempDir Path dir) throws Exception {
    assertThat(run("job", "--flink-rest", "http://127.0.0.1:9", "--bootstrap-servers", "k:9",
        "--job-jar", dir.resolve("none.jar").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--job-jar " + dir.resolve("none.jar") + ": no such file");

    Path jar = Files.write(dir.resolve("job.jar"), new byte[] {1});
    assertThat(run("job", "--flink-rest", "http://127.0.0.1:9", "--bootstrap-servers", "k:9",
        "--job-jar", jar.toString(), "--state-backend", "leveldb")).isEqualTo(2);
    assertThat(err.toString()).contains("--state-backend: expected rocksdb or hashmap, got 'leveldb'");

    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    assertThat(run("job", "--flink-rest", "http://127.0.0.1:" + closed, "--bootstrap-servers", "k:9",
        "--job-jar", jar.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--flink-rest http://127.0.0.1:" + closed + ": cannot connect");
  }

  @Test
  void stopNeedsAJobId() {
    assertThat(run("job", "stop", "not-a-job", "--flink-rest", "http://127.0.0.1:9")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch job stop: JOB_ID: expected 32 hex digits, got 'not-a-job'");
  }

  @Test
  void theJarsOldOptionsSpellingStillWorks(@TempDir Path dir) throws Exception {
    Path options = Files.writeString(dir.resolve("d.conf"), "stuck.sustain=30s\n");
    JobCommand command = new JobCommand();
    new CommandLine(command).parseArgs("--bootstrap-servers", "k:9", "--options", options.toString());

    assertThat(command.job.builder().build().options().stuckWindowsToAlert()).isEqualTo(3);
  }
}
