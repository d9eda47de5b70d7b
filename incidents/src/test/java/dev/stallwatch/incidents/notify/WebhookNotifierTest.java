package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.incidents.AlertJson;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WebhookNotifierTest {
  private static final String INCIDENT = "b47101c4-d617-37c4-9adb-c2071b4d8ea3";

  @Test
  void postsTheAlertJsonWithItsEventType() throws Exception {
    try (TestReceiver hook = TestReceiver.start()) {
      WebhookNotifier notifier = WebhookNotifier.builder()
          .url(hook.url("/hooks/stallwatch"))
          .incidentLinks(IncidentLinks.of("http://stallwatch.example:8080"))
          .build();
      DeadlockAlert open = TestAlerts.open(INCIDENT);
      CountDownLatch done = new CountDownLatch(2);
      try (FanOutHarness harness = new FanOutHarness(notifier)) {
        harness.fanOut.submit(open, FanOutHarness.source(0), done::countDown);
        harness.fanOut.submit(TestAlerts.resolved(open), FanOutHarness.source(1), done::countDown);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      }

      assertThat(hook.received()).hasSize(2);
      JsonNode opened = hook.received().get(0).json();
      JsonNode expected = new ObjectMapper().readTree(AlertJson.line(open, null));
      expected.fieldNames().forEachRemaining(field ->
          assertThat(opened.get(field)).as(field).isEqualTo(expected.get(field)));
      assertThat(opened.get("eventType").asText()).isEqualTo("OPEN");
      assertThat(opened.get("status").asText()).isEqualTo("OPEN");
      assertThat(opened.get("incidentUrl").asText()).isEqualTo("http://stallwatch.example:8080/incidents/" + INCIDENT);

      JsonNode resolved = hook.received().get(1).json();
      assertThat(resolved.get("eventType").asText()).isEqualTo("RESOLVED");
      assertThat(resolved.get("status").asText()).isEqualTo("RESOLVED");
      assertThat(resolved.get("incidentId").asText()).isEqualTo(INCIDENT);
      assertThat(resolved.get("resolvedAt").asText()).isEqualTo("2021-12-29T13:02:00Z");
      assertThat(resolved.get("resolveReason").asText()).isEqualTo("healthy-windows");
      assertThat(resolved.get("topStacks")).hasSize(2);
    }
  }

  @Test
  void buildSaysWhatIsMissing() {
    assertThatThrownBy(() -> WebhookNotifier.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("--webhook-url");
    assertThatThrownBy(() -> WebhookNotifier.builder().url("https://hooks.example/x").header("Content-Type", "text/plain")
        .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Content-Type");
  }
}
