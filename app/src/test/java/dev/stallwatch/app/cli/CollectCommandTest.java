package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.app.Stallwatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CollectCommandTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private static CollectCommand parse(String... args) {
    CollectCommand command = new CollectCommand();
    new CommandLine(command).parseArgs(args);
    return command;
  }

  @Test
  void defaultsSamplePerfAt99HzIntoTenSecondWindowsWithMetricsOnLoopback() {
    CollectCommand command = parse();

    assertThat(command.perfSettings().describe()).isEqualTo(
        "perf record -k CLOCK_REALTIME -e cpu-clock -F 99 --call-graph fp -a --control fd:0 -o -"
            + " | perf script -i - -F comm,pid,tid,cpu,time,period,event,ip,sym,dso");
    assertThat(command.window).isEqualTo(Duration.ofSeconds(10));
    assertThat(command.grace).isEqualTo(Duration.ofSeconds(2));
    assertThat(command.listenAddress()).hasValueSatisfying(a -> assertThat(a.getPort()).isEqualTo(9464));
    assertThat(command.dryRun).isFalse();
    assertThat(command.duration).isNull();
    assertThat(command.procRoot).isEqualTo(Path.of("/proc"));
    assertThat(command.cgroupRoot).isEqualTo(Path.of("/sys/fs/cgroup"));
  }

  @Test
  void thePushTokenComesFromAPrivateFileOrTheEnvironmentAndWithoutOnePushesAreOff() throws Exception {
    String token = "collect-push-token-0123456789";
    assertThat(parse().pushAccess(Map.of()).bearer()).isEmpty();

    var fromEnv = parse("--http-allowed-host", "Node-7").pushAccess(Map.of("STALLWATCH_PUSH_TOKEN", token + "\n"));
    assertThat(fromEnv.bearer()).hasValueSatisfying(check -> {
      assertThat(check.test("Bearer " + token)).isTrue();
      assertThat(check.test("Bearer " + token + "x")).isFalse();
      assertThat(check.test(null)).isFalse();
    });
    assertThat(fromEnv.hostNames()).containsExactly("node-7");

    Path file = Files.writeString(dir.resolve("push-token"), token + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
    assertThatThrownBy(() -> parse("--push-token-file", file.toString()).pushAccess(Map.of()))
        .isInstanceOf(UserError.class)
        .hasMessage("--push-token-file " + file + ": the token file is rw-r-----; it must be readable by its owner only"
            + " (chmod 600 " + file + ")");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    assertThat(parse("--push-token-file", file.toString()).pushAccess(Map.of("STALLWATCH_PUSH_TOKEN", "other-token-0000000"))
        .bearer()).hasValueSatisfying(check -> assertThat(check.test("Bearer " + token)).isTrue());

    assertThatThrownBy(() -> parse().pushAccess(Map.of("STALLWATCH_PUSH_TOKEN", "short")))
        .isInstanceOf(UserError.class).hasMessageStartingWith("STALLWATCH_PUSH_TOKEN: the push token has 5 characters");
    assertThatThrownBy(() -> parse("--http-allowed-host", "node-7").pushAccess(Map.of()))
        .isInstanceOf(UserError.class).hasMessageContaining("need a token");
    assertThatThrownBy(() -> parse("--push-token-file", dir.resolve("none").toString()).pushAccess(Map.of()))
        .isInstanceOf(UserError.class).hasMessage("--push-token-file " + dir.resolve("none") + ": no such file");
  }

  @Test
  void perfOptionsAndDurationsAreParsed() {
    CollectCommand command = parse("--dry-run", "--duration", "20s", "--include-host-processes", "--frequency", "49",
        "--event", "task-clock", "--call-graph", "dwarf", "--perf-mmap-pages", "128", "--perf", "/opt/perf",
        "--window-grace", "1500ms", "--http-address", "off", "--host", "node-7");

    assertThat(command.dryRun).isTrue();
    assertThat(command.duration).isEqualTo(Duration.ofSeconds(20));
    assertThat(command.includeHostProcesses).isTrue();
    assertThat(command.grace).isEqualTo(Duration.ofMillis(1500));
    assertThat(command.host).isEqualTo("node-7");
    assertThat(command.listenAddress()).isEmpty();
    assertThat(command.perfSettings().describe())
        .startsWith("/opt/perf record -k CLOCK_REALTIME -e task-clock -F 49 --call-graph dwarf -a -m 128 --control fd:0 -o - |");
    assertThat(parse("--duration", "PT1M").duration).isEqualTo(Duration.ofMinutes(1));
    assertThat(parse("--perf-flush-interval", "0s").perfSettings().describe()).doesNotContain("--control");
  }

  @Test
  void aPerfCommandReplacesThePipeline() {
    assertThat(parse("--perf-command", "zcat capture.txt.gz").perfSettings().describe())
        .isEqualTo("/bin/sh -c zcat capture.txt.gz");
  }

  @Test
  void badValuesAreUsageErrors() {
    assertThatThrownBy(() -> parse("--duration", "soon")).hasMessageContaining("such as 500ms, 20s");
    assertThatThrownBy(() -> parse("--call-graph", "lbr").perfSettings())
        .isInstanceOf(UserError.class).hasMessageContaining("fp or dwarf");
    assertThat(run("collect", "--dry-run", "--http-address", "9464")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "stallwatch collect: --http-address: HTTP address must be HOST:PORT (or off), got '9464'\n");
  }

  @Test
  void aMissingPerfExitsTwoWithOneLineSayingHowToInstallIt() {
    Path perf = dir.resolve("bin/perf");

    assertThat(run("collect", "--dry-run", "--http-address", "off", "--perf", perf.toString())).isEqualTo(2);

    assertThat(err.toString()).isEqualTo("stallwatch collect: perf is not installed: " + perf + " does not exist;"
        + " install it (Debian: linux-perf; Ubuntu: linux-tools-$(uname -r); Fedora/RHEL: perf) or give its path with --perf\n");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void aRefusedPerfExitsTwoWithOneLineSayingWhatToGrant() throws Exception {
    // perf's own words as an unprivileged user with kernel.perf_event_paranoid = 2
    Path perf = dir.resolve("perf");
    Files.writeString(perf, """
        #!/bin/sh
        if [ "$1" = record ]; then
          echo 'Error:' >&2
          echo 'Access to performance monitoring and observability operations is limited.' >&2
          echo 'Consider adjusting /proc/sys/kernel/perf_event_paranoid setting to open' >&2
          echo 'perf_event_paranoid setting is 2:' >&2
          exit 255
        fi
        cat >/dev/null
        echo 'incompatible file format (rerun with -v to learn more)' >&2
        exit 255
        """);
    Files.setPosixFilePermissions(perf, PosixFilePermissions.fromString("rwxr-xr-x"));

    assertThat(run("collect", "--dry-run", "--http-address", "off", "--perf", perf.toString())).isEqualTo(2);

    assertThat(err.toString()).startsWith("stallwatch collect: perf is not permitted")
        .contains("kernel.perf_event_paranoid is", "CAP_PERFMON", "sysctl -w kernel.perf_event_paranoid=0");
    assertThat(err.toString().lines()).hasSize(1);
  }

  @Test
  void publishingNeedsKafkaUnlessItIsADryRun() {
    assertThat(run("collect", "--http-address", "off")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "stallwatch collect: no Kafka to publish to: give --bootstrap-servers HOST:PORT, or --dry-run to print the windows\n");
  }

  @Test
  void spoolAndUpstreamOptionsAreParsed() {
    CollectCommand command = parse("--spool-dir", "/var/lib/stallwatch/spool", "--spool-max-bytes", "64MB",
        "--upstream-map", "/etc/stallwatch/upstreams.csv", "--nginx-log", "/var/log/nginx/a.log",
        "--nginx-log", "/var/log/nginx/b.log", "--envoy-log", "/var/log/envoy.json", "--scrape-envoy",
        "http://127.0.0.1:9901/stats/prometheus", "--nginx-slow", "5s");

    assertThat(command.spoolDir).isEqualTo(Path.of("/var/lib/stallwatch/spool"));
    assertThat(command.spoolMaxBytes).isEqualTo(64L << 20);
    assertThat(command.nginxLogs).containsExactly(Path.of("/var/log/nginx/a.log"), Path.of("/var/log/nginx/b.log"));
    assertThat(command.envoyLogs).containsExactly(Path.of("/var/log/envoy.json"));
    assertThat(command.envoyScrapes).hasSize(1);
    assertThat(command.nginxSlow).isEqualTo(Duration.ofSeconds(5));
    assertThat(parse().spoolMaxBytes).isEqualTo(256L << 20);
    assertThatThrownBy(() -> parse("--spool-max-bytes", "lots")).hasMessageContaining("such as 256MB");
  }

  @Test
  void logSourcesNeedTheUpstreamMap() {
    assertThat(run("collect", "--dry-run", "--http-address", "off", "--nginx-log", "/var/log/nginx/access.log"))
        .isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch collect: --nginx-log, --envoy-log, --scrape-envoy and"
        + " --haproxy-socket report upstream addresses, not containers: give --upstream-map FILE with"
        + " address,container_id lines\n");
  }

  @Test
  void haproxySocketsAreRepeatableAndPolledEverySecondUnlessTold() {
    CollectCommand command = parse("--upstream-map", "/etc/stallwatch/upstreams.csv",
        "--haproxy-socket", "/run/haproxy/admin.sock", "--haproxy-socket", "/run/haproxy/edge.sock");

    assertThat(command.haproxySockets).containsExactly(Path.of("/run/haproxy/admin.sock"),
        Path.of("/run/haproxy/edge.sock"));
    assertThat(command.haproxyPollInterval).isEqualTo(Duration.ofSeconds(1));
    assertThat(parse("--haproxy-poll-interval", "250ms").haproxyPollInterval).isEqualTo(Duration.ofMillis(250));
    assertThat(run("collect", "--dry-run", "--http-address", "off", "--haproxy-socket", "/run/haproxy/admin.sock"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--haproxy-socket report upstream addresses");
  }

  @Test
  void aMissingKafkaConfigFileIsAUsageError() {
    Path config = dir.resolve("producer.properties");

    assertThat(run("collect", "--http-address", "off", "--bootstrap-servers", "127.0.0.1:9", "--kafka-config",
        config.toString())).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch collect: " + config + ": no such file\n");
  }
}
