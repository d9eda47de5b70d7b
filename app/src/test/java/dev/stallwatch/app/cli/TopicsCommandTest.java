package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.schemas.TopicSpec;
import dev.stallwatch.schemas.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code stallwatch topics} without a cluster: the declaration and the usage errors. */
class TopicsCommandTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void listPrintsEveryDeclaredTopic() {
    assertThat(run("topics", "list")).isZero();

    assertThat(out.toString().lines()).hasSize(1 + Topics.defaults().specs().size() + 1);
    for (TopicSpec spec : Topics.defaults().specs()) {
      assertThat(out.toString()).containsPattern(spec.name() + " +" + spec.partitions() + "  " + spec.cleanupPolicy()
          + " +" + TopicsCommand.retention(spec.retention()) + " ");
    }
    assertThat(out.toString()).contains("every key: container ID");
  }

  @Test
  void createNeedsTheCluster() {
    assertThat(run("topics", "create")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '--bootstrap-servers");
  }

  @Test
  void partitionsOutOfRangeIsAUsageErrorBeforeKafkaIsAsked() {
    assertThat(run("topics", "create", "--bootstrap-servers", "127.0.0.1:9", "--partitions", "0")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch topics create: --partitions must be between 1 and 10000, got 0\n");
  }

  @Test
  void anUnreachableClusterIsOneLineWithinTheTimeout() {
    assertThat(run("topics", "describe", "--bootstrap-servers", "127.0.0.1:9", "--timeout", "1s")).isEqualTo(2);
    assertThat(err.toString()).hasLineCount(1).startsWith("stallwatch topics describe: ")
        .contains("127.0.0.1:9");
  }

  @Test
  void retentionReadsAsTheDeclarationDoes() {
    assertThat(TopicsCommand.retention(Topics.Role.PROFILES.retention())).isEqualTo("12h");
    assertThat(TopicsCommand.retention(Topics.Role.ALERTS.retention())).isEqualTo("365d");
  }
}
