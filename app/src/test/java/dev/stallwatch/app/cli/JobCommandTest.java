package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;
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
}
