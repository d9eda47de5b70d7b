package dev.stallwatch.app.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.AlertmanagerNotifier;
import dev.stallwatch.incidents.notify.IncidentLinks;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerts through the real pipeline pieces to a real Alertmanager: Kafka → notifier → Alertmanager
 * → the webhook receiver its route sends to, firing first and resolved at the end.
 */
@Timeout(60)
class AlertmanagerITCase {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String INCIDENT = "55555555-aaaa-3bbb-8ccc-000000000005";

  @TempDir
  Path dir;

  @Test
  void alertmanagerRoutesTheFiringAlertWithItsLabelsThenTheResolution() throws Exception {
    try (HttpReceiver hook = new HttpReceiver();
         AlertmanagerProcess alertmanager = AlertmanagerProcess.start(dir, config(hook));
         EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Topics topics = NotifyTestKit.topics(kafka, "alertmanager");
      DeadlockAlert open = NotifyTestKit.open(INCIDENT);
      NotifyTestKit.produce(kafka, topics.alerts(), open);

      AlertmanagerNotifier receiver = AlertmanagerNotifier.builder()
          .url(alertmanager.url())
          .incidentLinks(IncidentLinks.of("http://stallwatch.example:8080"))
          .resendInterval(Duration.ofMillis(300))
          .build();
      AlertNotifier notifier = AlertNotifier.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
          .topics(topics)
          .groupId("notifier-alertmanager")
          .notifier(receiver)
          .build();
      notifier.start();
      try {
        JsonNode firing = await("firing notification").atMost(WAIT)
            .until(() -> notification(hook, "firing"), Optional::isPresent).orElseThrow();
        JsonNode labels = firing.get("labels");
        assertThat(labels.get("alertname").asText()).isEqualTo("StallwatchDeadlock");
        assertThat(labels.get("container_id").asText()).isEqualTo(NotifyTestKit.CONTAINER);
        assertThat(labels.get("host").asText()).isEqualTo("node-a");
        assertThat(labels.get("namespace").asText()).isEqualTo("shop");
        assertThat(labels.get("signature").asText()).isEqualTo("go-timer-livelock");
        assertThat(labels.get("severity").asText()).isEqualTo("critical");
        assertThat(labels.get("incident_id").asText()).isEqualTo(INCIDENT);
        assertThat(firing.get("annotations").get("summary").asText()).contains(NotifyTestKit.CONTAINER, "node-a");
        assertThat(firing.get("annotations").get("incident_url").asText())
            .isEqualTo("http://stallwatch.example:8080/incidents/" + INCIDENT);
        assertThat(firing.get("generatorURL").asText()).isEqualTo("http://stallwatch.example:8080/incidents/" + INCIDENT);
        assertThat(Instant.parse(firing.get("startsAt").asText())).isEqualTo(open.getDetectedAt());

        // re-sends keep pushing Alertmanager's end of the alert (now + resolve_timeout) forward
        Instant firstEnd = endsAt(alertmanager);
        await("a re-send").atMost(WAIT).until(() -> endsAt(alertmanager).isAfter(firstEnd));
        assertThat(notifier.metrics().resends("alertmanager")).isPositive();

        DeadlockAlert resolved = NotifyTestKit.resolved(open, Instant.now());
        NotifyTestKit.produce(kafka, topics.alerts(), resolved);
        JsonNode ended = await("resolved notification").atMost(WAIT)
            .until(() -> notification(hook, "resolved"), Optional::isPresent).orElseThrow();
        assertThat(ended.get("labels").get("incident_id").asText()).isEqualTo(INCIDENT);
        assertThat(Instant.parse(ended.get("endsAt").asText())).isEqualTo(resolved.getResolvedAt());
        assertThat(receiver.firing()).isEmpty();
      } finally {
        notifier.close();
      }
      assertThat(notifier.failure()).isEmpty();
    }
  }

  /** Routes everything to the test's webhook quickly, resolved notifications included. */
  private static String config(HttpReceiver hook) {
    return """
        global:
          resolve_timeout: 5m
        route:
          receiver: stallwatch-test
          group_by: [incident_id]
          group_wait: 100ms
          group_interval: 500ms
          repeat_interval: 1h
        receivers:
          - name: stallwatch-test
            webhook_configs:
              - url: %s
                send_resolved: true
        """.formatted(hook.url("/alertmanager"));
  }

  /** The first alert of ours in a notification with this status, if one came. */
  private static Optional<JsonNode> notification(HttpReceiver hook, String status) {
    return hook.received().stream()
        .filter(body -> status.equals(body.path("status").asText()))
        .flatMap(body -> StreamSupport.stream(body.path("alerts").spliterator(), false))
        .filter(alert -> status.equals(alert.path("status").asText())
            && INCIDENT.equals(alert.path("labels").path("incident_id").asText()))
        .findFirst();
  }

  private static Instant endsAt(AlertmanagerProcess alertmanager) throws Exception {
    List<JsonNode> alerts = StreamSupport.stream(MAPPER.readTree(alertmanager.get("/api/v2/alerts")).spliterator(),
        false).filter(alert -> INCIDENT.equals(alert.path("labels").path("incident_id").asText())).toList();
    assertThat(alerts).hasSize(1);
    assertThat(alerts.get(0).path("status").path("state").asText()).isEqualTo("active");
    return Instant.parse(alerts.get(0).get("endsAt").asText());
  }
}
