package dev.stallwatch.app.notify;

import static dev.stallwatch.app.notify.NotifyTestKit.committed;
import static dev.stallwatch.app.notify.NotifyTestKit.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.IncidentLinks;
import dev.stallwatch.incidents.notify.KafkaDeadLetterSink;
import dev.stallwatch.incidents.notify.PagerDutyNotifier;
import dev.stallwatch.incidents.notify.RetryPolicy;
import dev.stallwatch.incidents.notify.WebhookNotifier;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The notifier against a real in-process Kafka broker: offsets, restarts, retries, dead letters. */
@Timeout(60)
class AlertNotifierITCase {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final IncidentLinks LINKS = IncidentLinks.of("http://stallwatch.example:8080");
  private static final RetryPolicy FAST_RETRIES = new RetryPolicy(Duration.ofMillis(20), Duration.ofMillis(100),
      Duration.ofSeconds(20));

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stopKafka() {
    kafka.close();
  }

  @Test
  void anAlertNotYetDeliveredAtAKillIsDeliveredAfterRestartAndACleanCommitSendsNothingAgain() throws Exception {
    Topics topics = NotifyTestKit.topics(kafka, "restart");
    String group = "notifier-restart";
    DeadlockAlert open = NotifyTestKit.open("11111111-aaaa-3bbb-8ccc-000000000001");
    NotifyTestKit.produce(kafka, topics.alerts(), open);

    CountDownLatch firstArrived = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    try (HttpReceiver pagerDuty = new HttpReceiver()) {
      // the first attempt hangs until the notifier is gone, then fails; later ones succeed
      pagerDuty.respond((body, index) -> {
        if (index == 0) {
          firstArrived.countDown();
          releaseFirst.await();
          return 503;
        }
        return 202;
      });

      AlertNotifier killed = notifier(topics, group, pagerDuty).shutdownTimeout(Duration.ZERO).build();
      killed.start();
      assertThat(firstArrived.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      killed.close();
      releaseFirst.countDown();
      assertThat(committed(kafka, group, topics.alerts())).as("nothing delivered, nothing committed").isZero();
      assertThat(pagerDuty.accepted()).isEmpty();

      AlertNotifier restarted = notifier(topics, group, pagerDuty).build();
      restarted.start();
      await().atMost(WAIT).until(() -> pagerDuty.accepted().size() == 1);
      restarted.close();
      assertThat(restarted.failure()).isEmpty();
      assertThat(committed(kafka, group, topics.alerts())).isEqualTo(1);
      assertThat(pagerDuty.accepted()).singleElement().satisfies(trigger -> {
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("dedup_key").asText()).isEqualTo(open.getIncidentId());
      });

      int requestsSoFar = pagerDuty.received().size();
      AlertNotifier.DrainResult again = notifier(topics, group, pagerDuty).build().drainToEnd(WAIT);
      assertThat(again.alerts()).isZero();
      assertThat(pagerDuty.received()).hasSize(requestsSoFar);
    } finally {
      releaseFirst.countDown();
    }
  }

  @Test
  void aReceiverAnswering500And429ForAWhileGetsExactlyOneTrigger() throws Exception {
    Topics topics = NotifyTestKit.topics(kafka, "flaky");
    DeadlockAlert open = NotifyTestKit.open("22222222-aaaa-3bbb-8ccc-000000000002");
    NotifyTestKit.produce(kafka, topics.alerts(), open);
    try (HttpReceiver pagerDuty = new HttpReceiver()) {
      pagerDuty.respond((body, index) -> index < 4 ? new int[] {500, 502, 429, 503}[index] : 202);

      AlertNotifier notifier = notifier(topics, "notifier-flaky", pagerDuty).build();
      AlertNotifier.DrainResult result = notifier.drainToEnd(WAIT);

      assertThat(result.alerts()).isEqualTo(1);
      assertThat(result.delivered()).containsEntry("pagerduty", 1L);
      assertThat(result.deadLettered()).isZero();
      assertThat(pagerDuty.received()).hasSize(5);
      assertThat(pagerDuty.accepted()).singleElement().satisfies(trigger -> {
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("dedup_key").asText()).isEqualTo(open.getIncidentId());
      });
      assertThat(notifier.metrics().attemptErrors("pagerduty")).isEqualTo(4);
      assertThat(notifier.metrics().deliveries("pagerduty")).isEqualTo(1);
      assertThat(committed(kafka, "notifier-flaky", topics.alerts())).isEqualTo(1);
    }
  }

  @Test
  void a400IsNotRetriedAndIsDeadLetteredWhileTheOtherReceiverDelivers() throws Exception {
    Topics topics = NotifyTestKit.topics(kafka, "rejected");
    DeadlockAlert open = NotifyTestKit.open("33333333-aaaa-3bbb-8ccc-000000000003");
    NotifyTestKit.produce(kafka, topics.alerts(), open);
    try (HttpReceiver pagerDuty = new HttpReceiver(); HttpReceiver webhook = new HttpReceiver()) {
      pagerDuty.respond((body, index) -> 400);

      AlertNotifier.DrainResult result = notifier(topics, "notifier-rejected", pagerDuty)
          .notifier(WebhookNotifier.builder().url(webhook.url("/hook")).build())
          .build()
          .drainToEnd(WAIT);

      assertThat(result.delivered()).containsEntry("pagerduty", 0L).containsEntry("webhook", 1L);
      assertThat(result.deadLettered()).isEqualTo(1);
      assertThat(pagerDuty.received()).as("a 400 is not retried").hasSize(1);
      assertThat(webhook.accepted()).singleElement().satisfies(body ->
          assertThat(body.get("incidentId").asText()).isEqualTo(open.getIncidentId()));
      List<ConsumerRecord<byte[], byte[]>> letters = NotifyTestKit.readAll(kafka, topics.deadLetter());
      assertThat(letters).singleElement().satisfies(letter -> {
        assertThat(header(letter, KafkaDeadLetterSink.RECEIVER_HEADER)).isEqualTo("pagerduty");
        assertThat(header(letter, KafkaDeadLetterSink.STATUS_HEADER)).isEqualTo("400");
        assertThat(header(letter, KafkaDeadLetterSink.ERROR_HEADER)).startsWith("pagerduty: HTTP 400");
        assertThat(header(letter, KafkaDeadLetterSink.SOURCE_TOPIC_HEADER)).isEqualTo(topics.alerts());
        assertThat(letter.value()).isEqualTo(NotifyTestKit.bytes(open));
      });
      assertThat(committed(kafka, "notifier-rejected", topics.alerts())).isEqualTo(1);
    }
  }

  @Test
  void onlyCommittedAlertsArePagedAndRecordsThatAreNoAlertAreDeadLettered() throws Exception {
    Topics topics = NotifyTestKit.topics(kafka, "transactions");
    DeadlockAlert aborted = NotifyTestKit.open("44444444-aaaa-3bbb-8ccc-00000000000a");
    DeadlockAlert committed = NotifyTestKit.open("44444444-aaaa-3bbb-8ccc-00000000000c");
    Properties transactional = new Properties();
    transactional.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "alerts-writer");
    try (KafkaProducer<byte[], byte[]> producer = NotifyTestKit.producer(kafka, transactional)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(NotifyTestKit.record(topics.alerts(), aborted.getContainerId(), NotifyTestKit.bytes(aborted)));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(NotifyTestKit.record(topics.alerts(), committed.getContainerId(), NotifyTestKit.bytes(committed)));
      producer.send(NotifyTestKit.record(topics.alerts(), "garbage", new byte[] {0x42, 0x42}));
      producer.commitTransaction();
    }
    try (HttpReceiver pagerDuty = new HttpReceiver()) {
      AlertNotifier.DrainResult result = notifier(topics, "notifier-transactions", pagerDuty).build().drainToEnd(WAIT);

      assertThat(result.alerts()).isEqualTo(2);
      assertThat(pagerDuty.accepted()).singleElement().satisfies(trigger ->
          assertThat(trigger.get("dedup_key").asText()).isEqualTo(committed.getIncidentId()));
      assertThat(NotifyTestKit.readAll(kafka, topics.deadLetter())).singleElement().satisfies(letter -> {
        assertThat(header(letter, KafkaDeadLetterSink.RECEIVER_HEADER)).isEqualTo("decoder");
        assertThat(header(letter, KafkaDeadLetterSink.STATUS_HEADER)).isEqualTo("undecodable");
      });
    }
  }

  private static AlertNotifier.Builder notifier(Topics topics, String group, HttpReceiver pagerDuty) {
    return AlertNotifier.builder()
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
        .topics(topics)
        .groupId(group)
        .retryPolicy(FAST_RETRIES)
        .requestTimeout(Duration.ofSeconds(5))
        .notifier(PagerDutyNotifier.builder()
            .url(pagerDuty.url("/v2/enqueue"))
            .routingKey("R0UT1NGKEY0123456789abcdefABCDEF")
            .incidentLinks(LINKS)
            .build());
  }
}
