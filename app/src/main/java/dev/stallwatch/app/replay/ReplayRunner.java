package dev.stallwatch.app.replay;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Replays a bundle through the real pipeline: an in-process Kafka broker, the collector's
 * publishing path, and the detection job on a Flink MiniCluster, bounded to the end of the input.
 */
public final class ReplayRunner {
  /** One incident: its OPEN alert and, if it ended within the bundle's data, its RESOLVED alert. */
  public record Incident(DeadlockAlert open, DeadlockAlert resolved) {}

  /** What a replay found, with the figures for the log and the benchmarks. */
  public record Result(List<Incident> incidents, BundlePublisher.Stats stats, Duration publishTime,
                       Duration jobTime, Instant dataEnd) {}

  private final DetectorOptions options;
  private final SignatureRules rules;
  private final Consumer<String> progress;

  public ReplayRunner(DetectorOptions options, SignatureRules rules, Consumer<String> progress) {
    this.options = options;
    this.rules = rules;
    this.progress = progress;
  }

  public Result run(ReplayBundle bundle) throws Exception {
    progress.accept("starting Kafka");
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      return run(bundle, kafka);
    }
  }

  public Result run(ReplayBundle bundle, EmbeddedKafka kafka) throws Exception {
    Topics topics = Topics.defaults();
    kafka.createTopics(topics, 2);

    long t0 = System.nanoTime();
    progress.accept("publishing " + bundle.dir() + " through the collector path");
    BundlePublisher.Stats stats;
    Instant dataEnd;
    try (EventPublisher publisher = new EventPublisher(kafka.bootstrapServers(), topics, kafka.clientProperties())) {
      BundlePublisher bundlePublisher = new BundlePublisher(options.windowSize().toMillis());
      stats = bundlePublisher.publish(bundle, publisher);
      dataEnd = bundlePublisher.lastDataTime();
    }
    Duration publishTime = Duration.ofNanos(System.nanoTime() - t0);
    progress.accept(String.format("published %d samples (%d outside any container, %d of other events, %d malformed "
            + "lines skipped) as %d profile windows, %d upstream windows, %d traffic events in %d ms",
        stats.samples(), stats.unattributedSamples(), stats.otherEventSamples(), stats.malformedLines(),
        stats.profileWindows(),
        stats.upstreamWindows(), stats.trafficEvents(), publishTime.toMillis()));

    long t1 = System.nanoTime();
    progress.accept("running the detection job on a Flink MiniCluster");
    DeadlockDetectionJob job = DeadlockDetectionJob.builder()
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
        .topics(topics)
        .options(options)
        .rules(rules)
        .bounded(true)
        .build();
    LocalFlink.runToCompletion(job, "stallwatch-replay");
    Duration jobTime = Duration.ofNanos(System.nanoTime() - t1);

    List<DeadlockAlert> alerts = AlertReader.readAll(kafka.bootstrapServers(), kafka.clientProperties(), topics.alerts(), Duration.ofSeconds(30));
    progress.accept("job finished in " + jobTime.toMillis() + " ms; " + alerts.size() + " alert events on "
        + topics.alerts());
    return new Result(incidents(alerts, dataEnd), stats, publishTime, jobTime, dataEnd);
  }

  /**
   * Pairs OPEN and RESOLVED alerts by incident. A resolution after the end of the bundle's data
   * is the silence rule firing on the end of the input, not evidence, so it is left out.
   */
  static List<Incident> incidents(List<DeadlockAlert> alerts, Instant dataEnd) {
    Map<String, DeadlockAlert> open = new LinkedHashMap<>();
    Map<String, DeadlockAlert> resolved = new LinkedHashMap<>();
    for (DeadlockAlert alert : alerts) {
      if (alert.getEventType() == AlertEventType.OPEN) {
        open.putIfAbsent(alert.getIncidentId(), alert);
      } else if (alert.getResolvedAt() != null && !alert.getResolvedAt().isAfter(dataEnd)) {
        resolved.putIfAbsent(alert.getIncidentId(), alert);
      }
    }
    List<Incident> incidents = new ArrayList<>();
    open.forEach((id, alert) -> incidents.add(new Incident(alert, resolved.get(id))));
    incidents.sort(Comparator.comparing((Incident i) -> i.open().getDetectedAt())
        .thenComparing(i -> i.open().getContainerId()));
    return incidents;
  }
}
