package dev.stallwatch.app.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.testing.ExternalProcess;
import dev.stallwatch.app.testing.ListeningSockets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code stallwatch demo --serve} as a person runs it, in a child JVM: it prints where everything
 * is, writes a Prometheus configuration whose every target answers with the component's series,
 * keeps serving, and stops cleanly on SIGTERM.
 */
class DemoServeITCase {
  private static final Pattern JOB = Pattern.compile(
      "- job_name: (\\S+)\\n\\s+metrics_path: (\\S+)\\n\\s+static_configs:\\n\\s+- targets: \\['([^']+)'\\]");

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void servesEveryComponentsMetricsUntilTerminated() throws Exception {
    Path prometheusConfig = dir.resolve("prometheus.yml");
    try (ServeProcess demo = ServeProcess.start(List.of("demo", "--serve",
        "--data-dir", dir.resolve("data").toString(),
        "--listen", "127.0.0.1:0",
        "--collector-listen", "127.0.0.1:0",
        "--flink-metrics-port", Integer.toString(ExternalProcess.freePort()),
        "--prometheus-config", prometheusConfig.toString()))) {
      URI pages = demo.awaitBaseUri(Duration.ofMinutes(5));
      await("serving").atMost(Duration.ofMinutes(1)).until(() -> demo.stderr().contains("stallwatch: serving; Ctrl-C to stop"));

      // the incident resolved after the recovery, and the Grafana link is for its container
      assertThat(demo.stderr()).anySatisfy(line -> assertThat(line)
          .startsWith("stallwatch: in Grafana:").contains("/d/stallwatch-container?var-container=" + DemoBundle.WEDGED));
      assertThat(demo.stderr()).anySatisfy(line -> assertThat(line).startsWith("stallwatch: the incident:").contains(pages.toString()));

      Map<String, URI> targets = new LinkedHashMap<>();
      Matcher job = JOB.matcher(Files.readString(prometheusConfig));
      while (job.find()) {
        targets.put(job.group(1), URI.create("http://" + job.group(3) + job.group(2)));
      }
      assertThat(targets).containsOnlyKeys("stallwatch-collector", "stallwatch-incidents", "stallwatch-flink");
      assertThat(get(targets.get("stallwatch-collector"))).contains("stallwatch_collector_samples_total",
          "stallwatch_spool_bytes", "stallwatch_upstream_windows_total");
      assertThat(get(targets.get("stallwatch-incidents"))).contains("stallwatch_ingest_records_total",
          "stallwatch_health_ingest_records_total");
      assertThat(get(targets.get("stallwatch-flink"))).contains("flink_taskmanager_job_task_operator_alertsOpened",
          "flink_jobmanager_job_numberOfCompletedCheckpoints");

      // issue 11: nothing of the demo (Kafka, Flink, the pages, the collector, PostgreSQL) listens beyond loopback
      long postgres = Long.parseLong(Files.readAllLines(dir.resolve("data/postgres/postmaster.pid")).get(0).trim());
      List<ListeningSockets.Listener> listeners = ListeningSockets.of(demo.pid(), postgres);
      assertThat(listeners).extracting(ListeningSockets.Listener::port)
          .contains(targets.values().stream().map(URI::getPort).toArray(Integer[]::new));
      assertThat(listeners).allSatisfy(listener -> assertThat(listener.loopback()).as("%s", listener).isTrue());
      // Grafana's login has a password of its own, in owner-only files the printed command reads
      Path grafanaEnv = dir.resolve("data/secrets/grafana.env");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("data/secrets/grafana.password"))))
          .isEqualTo("rw-------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(grafanaEnv))).isEqualTo("rw-------");
      assertThat(demo.stderr()).anySatisfy(line -> assertThat(line).startsWith("stallwatch: Grafana:")
          .contains("--env-file " + grafanaEnv.toAbsolutePath()).doesNotContain(Files.readString(grafanaEnv).strip()));

      // 128 + SIGTERM: the JVM ran its shutdown hooks and exited on the signal
      assertThat(demo.terminate(Duration.ofSeconds(90))).isEqualTo(143);
      assertThat(demo.stderr()).contains("stallwatch: stopped")
          .noneSatisfy(line -> assertThat(line).contains("internal error"));
      assertThat(dir.resolve("data/postgres/postmaster.pid")).as("the embedded PostgreSQL stopped").doesNotExist();
    }
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aTakenPortIsAUsageErrorAndStopsWhatStarted() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      StringWriter err = new StringWriter();
      CommandLine cli = Stallwatch.commandLine();
      cli.setErr(new PrintWriter(err, true));
      int exit = cli.execute("demo", "--serve", "--data-dir", dir.resolve("data").toString(),
          "--listen", "127.0.0.1:" + taken.getLocalPort(), "--collector-listen", "127.0.0.1:0",
          "--flink-metrics-port", Integer.toString(ExternalProcess.freePort()),
          "--prometheus-config", dir.resolve("prometheus.yml").toString());

      assertThat(exit).isEqualTo(2);
      assertThat(err.toString()).startsWith("stallwatch demo: cannot listen (").hasLineCount(1);
      assertThat(dir.resolve("data/postgres/postmaster.pid")).as("the embedded PostgreSQL stopped").doesNotExist();
      assertThat(dir.resolve("prometheus.yml")).as("no configuration for a stack that is not up").doesNotExist();
    }
  }

  private static String get(URI uri) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("GET %s", uri).isEqualTo(200);
    return response.body();
  }
}
