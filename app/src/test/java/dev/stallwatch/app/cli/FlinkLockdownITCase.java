package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.demo.DemoStack;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.testing.ExternalProcess;
import dev.stallwatch.app.testing.ListeningSockets;
import dev.stallwatch.app.testing.ListeningSockets.Listener;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, finding 2: Flink's REST API, blob server and Prometheus reporter listened on every
 * interface without authentication; {@code PATCH /jobs/ID?mode=cancel} from any local user
 * cancelled the detection job, and {@code demo --serve} went on with {@code /healthz} "ok".
 */
class FlinkLockdownITCase {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void theDemoStackListensOnLoopbackOnlyItsRestApiCannotCancelAndAnEndedJobFailsHealthzAndTheProcess()
      throws Exception {
    IncidentDatabase database = IncidentDatabase.open(DatabaseOptions.embedded(dir.resolve("data")));
    int flinkMetricsPort = ExternalProcess.freePort();
    DemoStack.Settings settings = new DemoStack.Settings(
        DetectorOptions.defaults().withOverrides(DemoStack.OPTION_DEFAULTS), SignatureRules.defaults(),
        Duration.ofSeconds(1),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        flinkMetricsPort, ApiToken.of("flink-lockdown-test-token-0123456789"), List.of(), dir.resolve("spool"));
    DemoStack stack = DemoStack.start(settings, database, message -> System.err.println("[demo] " + message));
    boolean closed = false;
    try {
      URI rest = stack.job().restAddress();
      URI healthz = stack.endpoints().incidentService().resolve("/healthz");
      long postgres = Long.parseLong(Files.readAllLines(dir.resolve("data/postgres/postmaster.pid")).get(0).trim());
      int postgresPort = URI.create(stack.endpoints().postgresJdbcUrl().substring("jdbc:".length())).getPort();

      // every listening socket of this JVM (Kafka, Flink, the service, the collector) and of PostgreSQL
      List<Listener> listeners = ListeningSockets.of(ProcessHandle.current().pid(), postgres);
      assertThat(listeners).extracting(Listener::port).contains(rest.getPort(), flinkMetricsPort, postgresPort,
          stack.endpoints().incidentService().getPort(), Integer.parseInt(stack.endpoints().kafka().split(":")[1]));
      assertThat(listeners).allSatisfy(listener -> assertThat(listener.loopback()).as("%s", listener).isTrue());

      // the REST API still reads, but cancels, stops and submits nothing
      String jobId = stack.job().jobId().toString();
      assertThat(send("GET", rest.resolve("/jobs/overview"))).satisfies(r -> {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains(jobId);
      });
      for (String[] attempt : List.of(
          new String[] {"PATCH", "/jobs/" + jobId + "?mode=cancel"},
          new String[] {"PATCH", "/jobs/" + jobId},
          new String[] {"GET", "/jobs/" + jobId + "/yarn-cancel"},
          new String[] {"POST", "/jobs/" + jobId + "/stop"},
          new String[] {"POST", "/jobs/" + jobId + "/savepoints"},
          new String[] {"POST", "/jars/upload"},
          new String[] {"POST", "/jobs"})) {
        HttpResponse<String> refused = send(attempt[0], rest.resolve(attempt[1]));
        assertThat(refused.statusCode()).as("%s %s: %s", attempt[0], attempt[1], refused.body()).isGreaterThanOrEqualTo(400);
      }
      assertThat(stack.job().client().getJobStatus().get(1, TimeUnit.MINUTES)).isEqualTo(JobStatus.RUNNING);
      assertThat(send("GET", healthz).statusCode()).isEqualTo(200);

      // a job that ends anyway (here through the in-process client, as a bug or a failure would end it)
      stack.job().client().cancel().get(1, TimeUnit.MINUTES);
      await("/healthz failing").atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
        HttpResponse<String> health = send("GET", healthz);
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(health.body()).contains("detection-job").contains("was cancelled");
      });
      Optional<String> ended = stack.jobEnded().get(1, TimeUnit.MINUTES);
      assertThat(ended).hasValueSatisfying(line -> assertThat(line).contains(jobId).endsWith("was cancelled"));

      // demo --serve's wait returns 1 at once and stops everything; stallwatch job's says so in one line
      closed = true;
      assertThat(ServeCommand.runUntilStopped(stack, stack.jobEnded())).isEqualTo(1);
      assertThat(Files.exists(dir.resolve("data/postgres/postmaster.pid"))).as("the store stopped").isFalse();
      PrintStream stderr = System.err;
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      int exit;
      try {
        exit = JobCommand.awaitEnd(stack.job());
      } finally {
        System.setErr(stderr);
      }
      assertThat(exit).isEqualTo(1);
      assertThat(captured.toString(StandardCharsets.UTF_8))
          .isEqualTo("stallwatch job: the detection job " + jobId + " was cancelled" + System.lineSeparator());
    } finally {
      if (!closed) {
        stack.close();
      }
    }
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void stallwatchJobListensOnLoopbackOnly() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopics(Topics.defaults().all(), 1);
      Path log = dir.resolve("job.log");
      Process job = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx512m", "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
          "-cp", System.getProperty("java.class.path"), Stallwatch.class.getName(),
          "job", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString(),
          "--metrics-port", "0")
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      try {
        await("the job running").atMost(Duration.ofMinutes(2)).until(() -> {
          assertThat(job.isAlive()).as("stallwatch job exited early:\n%s", Files.readString(log)).isTrue();
          return Files.readString(log).contains("running the detection job against");
        });
        List<Listener> listeners = ListeningSockets.of(job.pid());
        String output = Files.readString(log);
        int metricsPort = Integer.parseInt(output.replaceAll("(?s).*Flink metrics for Prometheus on http://127\\.0\\.0\\.1:(\\d+)/metrics.*", "$1"));
        int restPort = Integer.parseInt(output.replaceAll("(?s).*Flink REST API \\(read-only\\) on http://127\\.0\\.0\\.1:(\\d+).*", "$1"));
        assertThat(listeners).extracting(Listener::port).contains(metricsPort, restPort);
        assertThat(listeners).allSatisfy(listener -> assertThat(listener.loopback()).as("%s", listener).isTrue());
      } finally {
        job.destroy();
        if (!job.waitFor(60, TimeUnit.SECONDS)) {
          job.destroyForcibly().waitFor();
        }
      }
    }
  }

  private static HttpResponse<String> send(String method, URI uri) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
        .method(method, HttpRequest.BodyPublishers.ofString("{}")).header("Content-Type", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
