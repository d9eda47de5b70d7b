package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DrainCommandTest {
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";

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

  private static DrainCommand parse(String... args) {
    DrainCommand command = new DrainCommand();
    new CommandLine(command).parseArgs(args);
    command.clock = Clock.fixed(Instant.parse("2024-03-05T10:15:42Z"), ZoneOffset.UTC);
    return command;
  }

  @Test
  void drainIsACommandWithHelp() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("drain");
    assertThat(run("drain", "--help")).isZero();
    assertThat(out.toString()).contains("Usage: stallwatch drain", "--restore", "--actor", "--kafka-config");
  }

  @Test
  void argumentsBecomeTheTrafficEvent() {
    TrafficEvent drained = parse(ORDERS, "--bootstrap-servers", "kafka:9092", "--actor", "lb-hook:haproxy-3",
        "--reason", "upstream timeouts").event();
    TrafficEvent restored = parse(ORDERS, "--restore", "--bootstrap-servers", "kafka:9092").event();

    assertThat(drained).isEqualTo(TrafficEvent.newBuilder().setContainerId(ORDERS)
        .setAction(TrafficAction.TRAFFIC_ACTION_DRAINED).setActor("lb-hook:haproxy-3").setReason("upstream timeouts")
        .setTimestampMs(Instant.parse("2024-03-05T10:15:42Z").toEpochMilli()).build());
    assertThat(restored.getAction()).isEqualTo(TrafficAction.TRAFFIC_ACTION_RESTORED);
    assertThat(restored.getActor()).isEqualTo("operator:" + System.getProperty("user.name"));
    assertThat(restored.getReason()).isEmpty();
  }

  @Test
  void timeoutsAreDurations() {
    assertThat(parse(ORDERS, "--timeout", "500ms").timeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(parse(ORDERS, "--timeout", "2m").timeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(parse(ORDERS).timeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void withoutBootstrapServersItIsAUsageErrorOnOneLine() {
    assertThat(run("drain", ORDERS)).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch drain: --bootstrap-servers is required\n");
  }

  @Test
  void badArgumentsAreUsageErrorsOnOneLine() {
    assertThat(run("drain", " ", "--bootstrap-servers", "kafka:9092")).isEqualTo(2);
    assertThat(run("drain", ORDERS, "--bootstrap-servers", "kafka:9092", "--timeout", "soon")).isEqualTo(2);
    assertThat(run("drain", ORDERS, "--bootstrap-servers", "kafka:9092", "--actor", "")).isEqualTo(2);
    assertThat(run("drain", ORDERS, "--bootstrap-servers", "kafka:9092", "--kafka-config",
        dir.resolve("client.properties").toString())).isEqualTo(2);

    assertThat(err.toString().lines()).containsExactly(
        "stallwatch drain: CONTAINER_ID must not be empty, start or end with a space, or hold control characters, "
            + "got ' '",
        "stallwatch drain: --timeout: expected a duration such as 500ms, 30s or 2m, got 'soon'",
        "stallwatch drain: --actor must not be empty",
        "stallwatch drain: " + dir.resolve("client.properties") + ": no such file");
  }

  @Test
  void aMissingContainerIdIsAUsageError() {
    assertThat(run("drain", "--bootstrap-servers", "kafka:9092")).isEqualTo(2);
    assertThat(err.toString()).startsWith("stallwatch drain: Missing required parameter: 'CONTAINER_ID'");
  }

  @Test
  void anUnreachableKafkaFailsWithOneLineWithinTheTimeout() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    assertThat(run("drain", ORDERS, "--bootstrap-servers", "127.0.0.1:" + port, "--timeout", "500ms")).isEqualTo(1);
    assertThat(err.toString()).startsWith("stallwatch drain: could not publish to stallwatch.traffic.v1 at 127.0.0.1:"
        + port + " within 500ms: ");
    assertThat(err.toString().lines().count()).isEqualTo(1);
  }
}
