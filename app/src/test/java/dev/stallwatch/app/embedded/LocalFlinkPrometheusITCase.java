package dev.stallwatch.app.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.replay.AlertReader;
import dev.stallwatch.app.replay.BundlePublisher;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.JobMetrics;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo bundle through the job running UNBOUNDED on a MiniCluster with Flink's Prometheus
 * reporter: what a dashboard scrapes from /metrics while the job runs, and the alert the
 * unbounded job (watermarks with out-of-orderness and idleness) sends for the wedged container.
 */
class LocalFlinkPrometheusITCase {
  private static final String JOB_NAME = "stallwatch-metrics-it";
  private static final String JOB_LABEL = JobMetrics.prometheusLabel(JOB_NAME);
  /** Long enough for watermark.idleness (60 s) to free event time, and the checkpoint after it. */
  private static final Duration WAIT = Duration.ofMinutes(3);
  /** The last scrape, for the dashboards' authors to read. */
  private static final Path SCRAPE = Path.of("target", "LocalFlinkPrometheusITCase-metrics.txt");

  @TempDir
  Path dir;

  @Test
  @Timeout(300)
  void runningJobShowsItsMetricsOnPrometheusAndAlertsOnTheWedgedContainer() throws Exception {
    new DemoBundle().write(dir);
    DetectorOptions options = DetectorOptions.defaults();
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Topics topics = Topics.defaults();
      kafka.createTopics(topics.all(), 2);
      DeadlockDetectionJob job = DeadlockDetectionJob.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
          .topics(topics)
          .options(options)
          .bounded(false)
          .checkpointInterval(Duration.ofSeconds(1))
          .build();

      try (LocalFlink.RunningJob running =
               LocalFlink.start(job, JOB_NAME, LocalFlink.Settings.defaults().withParallelism(2).withMetricsPorts("0"))) {
        // the job is up before the data comes, as with collectors publishing live
        try (EventPublisher publisher = new EventPublisher(kafka.bootstrapServers(), topics, kafka.clientProperties())) {
          new BundlePublisher(options.windowSize().toMillis()).publish(ReplayBundle.load(dir), publisher);
        }

        // Event time waits for watermark.idleness (60 s): the traffic topic has one record, in one
        // of its two partitions, so the other holds event time back until it counts as idle, and the
        // one with the record holds it at the drain until that partition is idle too.
        Map<String, String> ofJob = Map.of("job_name", JOB_LABEL);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
          Scrape scrape = Scrape.of(running.metricsUri());
          Files.writeString(SCRAPE, scrape.text());
          assertThat(scrape.sum(JobMetrics.PROM_ALERTS_OPENED, ofJob)).isGreaterThanOrEqualTo(1);
          assertThat(scrape.sum(JobMetrics.PROM_CONTAINERS_IN_STATE, Map.of("job_name", JOB_LABEL,
              "operator_name", JobMetrics.prometheusLabel(DeadlockDetectionJob.DETECTOR), "detector_state", "ALERTING")))
              .isGreaterThanOrEqualTo(1);
          assertThat(scrape.sum(JobMetrics.PROM_COMPLETED_CHECKPOINTS, ofJob)).isGreaterThanOrEqualTo(1);
          for (String source : List.of(DeadlockDetectionJob.PROFILES_SOURCE, DeadlockDetectionJob.UPSTREAM_SOURCE,
              DeadlockDetectionJob.TRAFFIC_SOURCE)) {
            Map<String, String> ofSource = Map.of("job_name", JOB_LABEL, "operator_name", JobMetrics.sourceOperatorLabel(source));
            assertThat(scrape.sum(JobMetrics.PROM_RECORDS_OUT, ofSource)).as("records out of %s", source).isPositive();
            assertThat(scrape.sum(JobMetrics.PROM_SOURCE_RECORDS_IN, ofSource)).as("records into %s", source).isPositive();
          }
          assertThat(scrape.names()).containsAll(JobMetrics.PROM_ALL);
        });

        Scrape last = Scrape.of(running.metricsUri());
        Files.writeString(SCRAPE, last.text());
        assertThat(last.sum(JobMetrics.PROM_LATE_RECORDS_DROPPED, ofJob)).isZero();
        assertThat(last.sum(JobMetrics.PROM_DEAD_LETTERS, ofJob)).isZero();
        int containers = new DemoBundle().containerCount();
        assertThat(last.sum(JobMetrics.PROM_CONTAINERS_TRACKED, ofJob)).isEqualTo(containers);
        assertThat(last.sum(JobMetrics.PROM_CONTAINERS_IN_STATE, ofJob)).as("every container was judged").isEqualTo(containers);

        // exactly the wedged container's alert, as the bounded replay finds it
        List<DeadlockAlert> alerts = new ArrayList<>();
        await().atMost(WAIT).until(() -> {
          alerts.clear();
          alerts.addAll(AlertReader.readAll(kafka.bootstrapServers(), kafka.clientProperties(), topics.alerts(), Duration.ofSeconds(10)));
          return !alerts.isEmpty();
        });
        assertThat(alerts).singleElement().satisfies(alert -> {
          assertThat(alert.getEventType()).isEqualTo(AlertEventType.OPEN);
          assertThat(alert.getContainerId()).isEqualTo(DemoBundle.WEDGED);
        });
        assertThat(running.client().getJobExecutionResult()).as("unbounded: still running").isNotDone();

        int port = running.metricsPort().orElseThrow();
        running.close();
        assertThat(running.client().getJobExecutionResult()).isDone();
        assertThat(portIsFree(port)).as("the reporter's port after close()").isTrue();
      }
    }
  }

  private static boolean portIsFree(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** One scrape of a Prometheus text endpoint: samples by name, with their labels. */
  record Scrape(String text, List<Sample> samples) {
    record Sample(String name, Map<String, String> labels, double value) {}

    static Scrape of(URI uri) throws IOException, InterruptedException {
      HttpResponse<String> response = HttpClient.newHttpClient()
          .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      List<Sample> samples = new ArrayList<>();
      for (String line : response.body().split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          samples.add(parse(line));
        }
      }
      return new Scrape(response.body(), samples);
    }

    /** {@code name{k="v",...} value}; Flink's label values here hold no quote or comma. */
    private static Sample parse(String line) {
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      Map<String, String> labels = new LinkedHashMap<>();
      String name = brace < 0 ? line.substring(0, space) : line.substring(0, brace);
      if (brace >= 0) {
        String body = line.substring(brace + 1, line.lastIndexOf('}'));
        for (String pair : body.split("\",")) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            labels.put(pair.substring(0, eq), pair.substring(eq + 2).replaceAll("\"$", ""));
          }
        }
      }
      return new Sample(name, labels, Double.parseDouble(line.substring(space + 1)));
    }

    List<String> names() {
      return samples.stream().map(Sample::name).distinct().toList();
    }

    /** Sum over the samples of {@code name} whose labels include all of {@code labels}. */
    double sum(String name, Map<String, String> labels) {
      Predicate<Sample> matches = s -> s.name().equals(name)
          && labels.entrySet().stream().allMatch(e -> e.getValue().equals(s.labels().get(e.getKey())));
      return samples.stream().filter(matches).mapToDouble(Sample::value).sum();
    }
  }
}
