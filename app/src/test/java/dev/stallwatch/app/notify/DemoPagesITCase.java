package dev.stallwatch.app.notify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.app.replay.ReplayRunner;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.IncidentLinks;
import dev.stallwatch.incidents.notify.PagerDutyNotifier;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code stallwatch demo --pagerduty-url ... --pagerduty-routing-key ...} does: the demo's
 * alerts, written by the Flink job in exactly-once transactions, drained to a PagerDuty listener.
 */
@Timeout(120)
class DemoPagesITCase {
  @TempDir
  Path dir;

  @Test
  void theDemoSendsOneTriggerWithTheIncidentIdAsDedupKey() throws Exception {
    new DemoBundle().write(dir);
    try (EmbeddedKafka kafka = EmbeddedKafka.start(); HttpReceiver pagerDuty = new HttpReceiver()) {
      ReplayRunner.Result result = new ReplayRunner(DetectorOptions.defaults(), SignatureRules.defaults(), line -> {})
          .run(ReplayBundle.load(dir), kafka);
      String incidentId = result.incidents().get(0).open().getIncidentId();

      AlertNotifier.DrainResult drained = AlertNotifier.builder()
          .bootstrapServers(kafka.bootstrapServers())
          .topics(Topics.defaults())
          .notifier(PagerDutyNotifier.builder()
              .url(pagerDuty.url("/v2/enqueue"))
              .routingKey("demo-routing-key")
              .incidentLinks(IncidentLinks.of("http://127.0.0.1:8080"))
              .build())
          .build()
          .drainToEnd(Duration.ofSeconds(60));

      assertThat(drained.delivered()).containsEntry("pagerduty", 1L);
      assertThat(pagerDuty.accepted()).singleElement().satisfies(trigger -> {
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("routing_key").asText()).isEqualTo("demo-routing-key");
        assertThat(trigger.get("dedup_key").asText()).isEqualTo(incidentId);
        assertThat(trigger.get("payload").get("summary").asText()).contains(DemoBundle.WEDGED, "node-a");
        assertThat(trigger.get("payload").get("custom_details").get("runtime_version").asText()).isEqualTo("go1.14.1");
      });
    }
  }
}
