package dev.stallwatch.app.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.IncidentLinks;
import dev.stallwatch.incidents.notify.JdbcDeliveryLog;
import dev.stallwatch.incidents.notify.NotifierMetrics;
import dev.stallwatch.incidents.notify.PagerDutyNotifier;
import dev.stallwatch.incidents.notify.WebhookNotifier;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.ingest.publish.WindowManifests;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WeightUnit;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerts are written at least once: a job restarted from a checkpoint taken before an alert
 * raises it again, with the same incident ID. The pager still sends exactly one PagerDuty
 * trigger per incident and the webhook sees one incident ID, also when the notifier itself
 * restarts, because the delivery log in PostgreSQL remembers what went out.
 */
@Timeout(240)
class PagingAcrossRestartsITCase {
  private static final long WINDOW = 10_000L;
  private static final long T0 = Instant.parse("2026-03-02T03:00:00Z").toEpochMilli();
  private static final String CONTAINER = NotifyTestKit.CONTAINER;
  private static final String HOST = "node-a";
  private static final int SPIKE = 3;
  private static final int DRAIN = SPIKE + 1;
  /** The sixth stuck window: its evaluation raises the alert. */
  private static final int LAST_STUCK = DRAIN + 5;

  @Test
  void oneTriggerPerIncidentAcrossAJobFailoverFromACheckpointAndANotifierRestart(@TempDir Path dir) throws Exception {
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
    MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
        .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(4).build());
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
         IncidentDatabase database = IncidentDatabase.open(DatabaseOptions.embedded(dir.resolve("postgres")));
         HttpReceiver pagerDuty = new HttpReceiver();
         HttpReceiver webhook = new HttpReceiver()) {
      Topics topics = Topics.defaults().withSuffix(".failover");
      kafka.createTopics(topics.all(), 1);
      cluster.start();
      JobClient job = DeadlockDetectionJob.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties()).topics(topics)
          .groupId("failover-detector").transactionalIdPrefix("failover-alerts")
          // only the checkpoint this test takes
          .checkpointInterval(Duration.ofHours(1))
          .build().executeAsync(new TestStreamEnvironment(cluster, 1));
      JobID jobId = job.getJobID();
      NotifierMetrics metrics = NotifierMetrics.register(new PrometheusRegistry());
      AlertNotifier notifier = notifier(kafka, topics, database, pagerDuty, webhook, metrics);
      notifier.start();

      try (EventPublisher kafkaSink = new EventPublisher(kafka.bootstrapServers(), topics, kafka.clientProperties())) {
        // a collector's manifests; the clock only bounds timestamps, finish() sends what was noted
        WindowManifests collector = new WindowManifests(kafkaSink, HOST, Duration.ofMillis(WINDOW), Duration.ZERO,
            WindowManifests.DEFAULT_KEEP_REPORTING, Clock.fixed(Instant.ofEpochMilli(T0 + 3_600_000), ZoneOffset.UTC));
        for (int w = 0; w < LAST_STUCK; w++) {
          publishWindow(collector, w);
        }
        collector.finish();
        kafkaSink.flush();

        // everything before the alert is judged: checkpoint that state
        await().atMost(Duration.ofSeconds(60)).until(() -> healthWindows(kafka, topics).contains(start(LAST_STUCK - 1)));
        cluster.triggerCheckpoint(jobId).get();

        publishWindow(collector, LAST_STUCK);
        collector.finish();
        kafkaSink.flush();
        await().atMost(Duration.ofSeconds(60)).until(() -> triggers(pagerDuty).size() == 1);
        String incidentId = triggers(pagerDuty).get(0).get("dedup_key").asText();

        // the task manager dies; the job restarts from the checkpoint and raises the alert again
        cluster.terminateTaskManager(0).get();
        cluster.startTaskManager();
        await().atMost(Duration.ofSeconds(90)).until(() -> openAlerts(kafka, topics).size() >= 2);
        assertThat(openAlerts(kafka, topics)).extracting(DeadlockAlert::getIncidentId).containsOnly(incidentId);
        await().atMost(Duration.ofSeconds(30)).until(() -> metrics.duplicates(PagerDutyNotifier.NAME) >= 1
            && metrics.duplicates(WebhookNotifier.NAME) >= 1);

        // and the notifier restarts with the alerts uncommitted: it reads them all again
        notifier.close();
        produceAgain(kafka, topics);
        NotifierMetrics restartedMetrics = NotifierMetrics.register(new PrometheusRegistry());
        try (AlertNotifier restarted = notifier(kafka, topics, database, pagerDuty, webhook, restartedMetrics)) {
          restarted.start();
          await().atMost(Duration.ofSeconds(30)).until(() -> restartedMetrics.duplicates(PagerDutyNotifier.NAME) >= 1);
        }

        assertThat(triggers(pagerDuty)).hasSize(1);
        assertThat(webhook.accepted()).extracting(b -> b.get("incidentId").asText()).containsExactly(incidentId);
        assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
      } finally {
        job.cancel().get();
      }
    } finally {
      cluster.close();
    }
  }

  private static AlertNotifier notifier(EmbeddedKafka kafka, Topics topics, IncidentDatabase database,
                                        HttpReceiver pagerDuty, HttpReceiver webhook, NotifierMetrics metrics) {
    IncidentLinks links = IncidentLinks.of("http://127.0.0.1:8080/");
    return AlertNotifier.builder()
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties()).topics(topics).groupId("failover-notifier")
        .notifier(PagerDutyNotifier.builder().url(pagerDuty.url("/v2/enqueue")).routingKey("routing-key")
            .incidentLinks(links).build())
        .notifier(WebhookNotifier.builder().url(webhook.url("/hook")).incidentLinks(links).build())
        .deliveryLog(new JdbcDeliveryLog(database.dataSource()))
        .metrics(metrics)
        .build();
  }

  /** The alerts once more, as a second writer of the topic (or a replayed topic) would send them. */
  private static void produceAgain(EmbeddedKafka kafka, Topics topics) throws Exception {
    NotifyTestKit.produce(kafka, topics.alerts(), openAlerts(kafka, topics).get(0));
  }

  private static List<JsonNode> triggers(HttpReceiver pagerDuty) {
    return pagerDuty.accepted().stream().filter(b -> b.get("event_action").asText().equals("trigger")).toList();
  }

  private static List<DeadlockAlert> openAlerts(EmbeddedKafka kafka, Topics topics) {
    return NotifyTestKit.readAll(kafka, topics.alerts()).stream()
        .map(PagingAcrossRestartsITCase::decode)
        .filter(a -> a.getEventType() == AlertEventType.OPEN)
        .toList();
  }

  private static DeadlockAlert decode(ConsumerRecord<byte[], byte[]> record) {
    try {
      return DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(record.value()));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<Long> healthWindows(EmbeddedKafka kafka, Topics topics) {
    return NotifyTestKit.readAll(kafka, topics.containerHealth()).stream()
        .map(r -> {
          try {
            return ContainerHealth.parseFrom(r.value()).getWindowStartMs();
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          }
        })
        .toList();
  }

  private static long start(int window) {
    return T0 + window * WINDOW;
  }

  /** Window {@code w} of the incident: busy, a spike of timeouts, drained by an event, then spinning. */
  private static void publishWindow(WindowManifests collector, int w) {
    long start = start(w);
    boolean spinning = w >= SPIKE;
    if (w == DRAIN) {
      collector.publish(TrafficEvent.newBuilder().setContainerId(CONTAINER).setTimestampMs(start)
          .setAction(TrafficAction.TRAFFIC_ACTION_DRAINED).setActor("lb-hook:test").build());
    }
    if (w < DRAIN) {
      collector.publish(UpstreamWindow.newBuilder().setSource("nginx").setHost(HOST).setContainerId(CONTAINER)
          .setWindowStartMs(start).setWindowEndMs(start + WINDOW)
          .setRequests(1000).setTimeouts(w == SPIKE ? 500 : 0).build());
    }
    long weight = Math.round((spinning ? 1.0 : 0.4) * WINDOW * 1_000_000);
    List<String> frames = spinning
        ? List.of("", "orders", "runtime.morestack", "runtime.newstack", "runtime.adjusttimers", "runtime.osyield")
        : List.of("", "orders", "runtime.goexit", "main.handle", "runtime.mallocgc");
    Stack.Builder stack = Stack.newBuilder().setWeight(weight).setSamples(weight / 10_101_010L);
    for (int i = 1; i < frames.size(); i++) {
      stack.addFrames(i);
    }
    collector.publish(ProfileWindow.newBuilder().setHost(HOST).setContainerId(CONTAINER)
        .setWindowStartMs(start).setWindowEndMs(start + WINDOW).addAllStrings(frames).addStacks(stack)
        .setTotalWeight(weight).setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS).setSampleFrequencyHz(99)
        .build());
  }
}
