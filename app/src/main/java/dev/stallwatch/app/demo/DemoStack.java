package dev.stallwatch.app.demo;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.app.embedded.Shutdown;
import dev.stallwatch.app.replay.BundlePublisher;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.query.IncidentFilter;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.notify.Notifier;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.incidents.web.Health;
import dev.stallwatch.incidents.web.IncidentService;
import dev.stallwatch.ingest.collector.CollectorHttpServer;
import dev.stallwatch.ingest.collector.CollectorMetrics;
import dev.stallwatch.ingest.publish.SpoolingPublisher;
import dev.stallwatch.ingest.upstream.UpstreamMetrics;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The whole embedded stack of {@code stallwatch demo --serve}, kept running: a KRaft broker, the
 * detection job (unbounded) on a Flink MiniCluster with Flink's Prometheus reporter, the incident
 * service (pages, API, alert and container-health ingestors, notifiers) on the store, and the
 * collector's {@code /metrics} for the bundle it publishes through the collector's spool. Every
 * component exports the series the dashboards in {@code dashboards/} plot.
 */
public final class DemoStack implements AutoCloseable {
  /** Prometheus job names of the components; the dashboards filter on them. */
  public static final String COLLECTOR_JOB = "stallwatch-collector";
  public static final String INCIDENTS_JOB = "stallwatch-incidents";
  public static final String FLINK_JOB = "stallwatch-flink";
  private static final int PARTITIONS = 2;
  /**
   * Detector options the demo runs with unless told otherwise: a bundle reaches Kafka in a second
   * and the traffic topic has one record, so with the live default (60 s) event time would wait a
   * minute for the idle partitions.
   */
  public static final Map<String, String> OPTION_DEFAULTS = Map.of("watermark.idleness", "5s");

  /** Where everything listens and what the job and the notifiers do. */
  public record Settings(DetectorOptions options, SignatureRules rules, Duration checkpointInterval,
                         InetSocketAddress serviceListen, InetSocketAddress collectorListen, int flinkMetricsPort,
                         ApiToken apiToken, List<Notifier> notifiers, Path spoolDir) {
    public Settings {
      Objects.requireNonNull(options, "options");
      Objects.requireNonNull(rules, "rules");
      Objects.requireNonNull(checkpointInterval, "checkpointInterval");
      Objects.requireNonNull(serviceListen, "serviceListen");
      Objects.requireNonNull(collectorListen, "collectorListen");
      Objects.requireNonNull(apiToken, "apiToken");
      notifiers = List.copyOf(notifiers);
      Objects.requireNonNull(spoolDir, "spoolDir");
    }
  }

  /** The addresses to print, and to point Prometheus and Grafana at. */
  public record Endpoints(URI incidentService, URI collectorMetrics, URI flinkMetrics, String kafka,
                          String postgresJdbcUrl) {
    public URI incidentMetrics() {
      return incidentService.resolve("/metrics");
    }

    /** A Prometheus configuration that scrapes every component under the job names the dashboards use. */
    public String prometheusConfig(Duration scrapeInterval) {
      long seconds = Math.max(1, scrapeInterval.toSeconds());
      return "# written by 'stallwatch demo --serve': the demo's components, as the dashboards expect them\n"
          + "global:\n"
          + "  scrape_interval: " + seconds + "s\n"
          + "  evaluation_interval: " + seconds + "s\n"
          + "scrape_configs:\n"
          + scrape(COLLECTOR_JOB, collectorMetrics)
          + scrape(INCIDENTS_JOB, incidentMetrics())
          + scrape(FLINK_JOB, flinkMetrics);
    }

    private static String scrape(String job, URI uri) {
      return "  - job_name: " + job + "\n"
          + "    metrics_path: " + uri.getPath() + "\n"
          + "    static_configs:\n"
          + "      - targets: ['" + uri.getHost() + ":" + uri.getPort() + "']\n";
    }
  }

  private final EmbeddedKafka kafka;
  private final IncidentService service;
  private final LocalFlink.RunningJob job;
  private final CollectorMetrics collectorMetrics;
  private final UpstreamMetrics upstreamMetrics;
  private final CollectorHttpServer collectorHttp;
  private final SpoolingPublisher spool;
  private final IncidentQuery query;
  private final DetectorOptions options;
  private final String postgresJdbcUrl;

  private DemoStack(EmbeddedKafka kafka, IncidentService service, LocalFlink.RunningJob job,
                    CollectorMetrics collectorMetrics, UpstreamMetrics upstreamMetrics,
                    CollectorHttpServer collectorHttp, SpoolingPublisher spool,
                    IncidentQuery query, DetectorOptions options, String postgresJdbcUrl) {
    this.kafka = kafka;
    this.service = service;
    this.job = job;
    this.collectorMetrics = collectorMetrics;
    this.upstreamMetrics = upstreamMetrics;
    this.collectorHttp = collectorHttp;
    this.spool = spool;
    this.query = query;
    this.options = options;
    this.postgresJdbcUrl = postgresJdbcUrl;
  }

  /**
   * Starts every component; the service takes over {@code database} and closes it. On a failure
   * what started is stopped again.
   *
   * @throws UncheckedIOException when an address cannot be bound
   */
  public static DemoStack start(Settings settings, IncidentDatabase database, Consumer<String> progress) {
    // the database first: closed with the rest on a failure until the service owns it
    List<AutoCloseable> started = new ArrayList<>(List.of(database));
    try {
      progress.accept("starting Kafka");
      EmbeddedKafka kafka = EmbeddedKafka.start();
      started.add(kafka);
      Topics topics = Topics.defaults();
      kafka.createTopics(topics, PARTITIONS);

      progress.accept("starting the incident service on " + settings.serviceListen());
      // the job starts after the service; until then /healthz says it is starting
      AtomicReference<LocalFlink.RunningJob> detectionJob = new AtomicReference<>();
      IncidentService service = IncidentService.builder()
          .healthCheck("detection-job", () -> jobHealth(detectionJob.get()))
          .database(database)
          .listen(settings.serviceListen())
          .apiToken(settings.apiToken())
          .notifiers(settings.notifiers())
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
          .topics(topics)
          .start();
      started.remove(database); // the service closes it
      started.add(service);

      progress.accept("starting the detection job on a Flink MiniCluster, unbounded");
      DeadlockDetectionJob detection = DeadlockDetectionJob.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
          .topics(topics)
          .options(settings.options())
          .rules(settings.rules())
          .checkpointInterval(settings.checkpointInterval())
          .build();
      LocalFlink.RunningJob job = LocalFlink.start(detection, DeadlockDetectionJob.JOB_NAME,
          LocalFlink.Settings.defaults().withMetricsPorts(Integer.toString(settings.flinkMetricsPort())));
      started.add(job);
      detectionJob.set(job);

      PrometheusRegistry registry = new PrometheusRegistry();
      CollectorMetrics collectorMetrics = new CollectorMetrics(registry);
      UpstreamMetrics upstreamMetrics = new UpstreamMetrics(registry);
      SpoolingPublisher spool = SpoolingPublisher.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
          .topics(topics)
          .spoolDir(settings.spoolDir())
          .registry(registry)
          .build();
      started.add(spool);
      CollectorHttpServer collectorHttp = CollectorHttpServer.start(settings.collectorListen(), registry);
      started.add(collectorHttp);

      return new DemoStack(kafka, service, job, collectorMetrics, upstreamMetrics, collectorHttp, spool,
          new IncidentQuery(database.readOnlyDataSource()), settings.options(), database.jdbcUrl());
    } catch (IOException e) {
      Shutdown.closeAll(Shutdown.newestFirst(started), e);
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      Shutdown.closeAll(Shutdown.newestFirst(started), e);
      throw e;
    } catch (Exception e) {
      Shutdown.closeAll(Shutdown.newestFirst(started), e);
      throw new IllegalStateException("could not start the detection job: " + e.getMessage(), e);
    }
  }

  private static Health jobHealth(LocalFlink.RunningJob job) {
    if (job == null) {
      return Health.ok("starting");
    }
    return job.endedOnItsOwn().map(Health::failing).orElseGet(() -> Health.ok("running " + job.jobId()));
  }

  /**
   * Completes when the detection job ends: with one line saying how when it ended on its own
   * (then {@code /healthz} fails), empty when {@link #close()} stopped it.
   */
  public CompletableFuture<Optional<String>> jobEnded() {
    return job.ended();
  }

  /** The detection job, e.g. for a test that ends it the way a failure would. */
  public LocalFlink.RunningJob job() {
    return job;
  }

  /** Publishes a bundle through the collector's path and spool, counting it in the collector's metrics. */
  public BundlePublisher.Stats publish(ReplayBundle bundle) {
    BundlePublisher publisher = new BundlePublisher(options.windowSize().toMillis(), collectorMetrics, upstreamMetrics);
    return publisher.publish(bundle, spool);
  }

  /** The incidents stored so far for {@code containerId}, newest first. */
  public List<Incident> incidents(String containerId) {
    return query.search(IncidentFilter.builder().container(containerId).build(), IncidentQuery.MAX_LIMIT, 0)
        .incidents();
  }

  public Endpoints endpoints() {
    InetSocketAddress collector = collectorHttp.address();
    return new Endpoints(service.baseUri(),
        URI.create("http://" + collector.getHostString() + ":" + collector.getPort() + CollectorHttpServer.METRICS_PATH),
        job.metricsUri(),
        kafka.bootstrapServers(), postgresJdbcUrl);
  }

  /** Stops the producers first, then the job, then the service that stores what they wrote. */
  @Override
  public void close() {
    List<AutoCloseable> order = List.of(collectorHttp, spool, job, service, kafka);
    RuntimeException failure = new RuntimeException("stopping the demo stack failed");
    Shutdown.closeAll(order, failure);
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }
}
