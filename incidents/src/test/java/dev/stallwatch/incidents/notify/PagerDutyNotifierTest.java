package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PagerDutyNotifierTest {
  private static final String INCIDENT = "b47101c4-d617-37c4-9adb-c2071b4d8ea3";
  private static final String ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF";
  private static final IncidentLinks LINKS = IncidentLinks.of("https://stallwatch.example:8443/");

  @Test
  void triggerThenResolveOnTheWire() throws Exception {
    try (TestReceiver pagerDuty = TestReceiver.start()) {
      PagerDutyNotifier notifier = PagerDutyNotifier.builder()
          .url(pagerDuty.url("/v2/enqueue"))
          .routingKey(ROUTING_KEY)
          .incidentLinks(LINKS)
          .build();
      DeadlockAlert open = TestAlerts.open(INCIDENT);
      CountDownLatch done = new CountDownLatch(2);
      try (FanOutHarness harness = new FanOutHarness(notifier)) {
        harness.fanOut.submit(open, FanOutHarness.source(0), done::countDown);
        harness.fanOut.submit(TestAlerts.resolved(open), FanOutHarness.source(1), done::countDown);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(harness.metrics.deliveries("pagerduty")).isEqualTo(2);
      }

      assertThat(pagerDuty.received()).hasSize(2).allSatisfy(request -> {
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/v2/enqueue");
        assertThat(request.contentType()).isEqualTo("application/json");
      });
      JsonNode trigger = pagerDuty.received().get(0).json();
      assertThat(trigger.get("routing_key").asText()).isEqualTo(ROUTING_KEY);
      assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
      assertThat(trigger.get("dedup_key").asText()).isEqualTo(INCIDENT);
      JsonNode payload = trigger.get("payload");
      assertThat(payload.get("summary").asText())
          .contains(TestAlerts.CONTAINER, "node-a", "go-timer-livelock", "shop/orders-7f9c6d5b8-x2k4q")
          .hasSizeLessThanOrEqualTo(1024);
      assertThat(payload.get("source").asText()).isEqualTo("node-a");
      assertThat(payload.get("severity").asText()).isEqualTo("critical");
      assertThat(payload.get("timestamp").asText()).isEqualTo("2021-12-29T12:53:30Z");
      assertThat(payload.get("component").asText()).isEqualTo("orders-7f9c6d5b8-x2k4q");
      assertThat(payload.get("group").asText()).isEqualTo("shop");
      assertThat(payload.get("class").asText()).isEqualTo("go-timer-livelock");
      JsonNode details = payload.get("custom_details");
      assertThat(details.get("incident_id").asText()).isEqualTo(INCIDENT);
      assertThat(details.get("container_id").asText()).isEqualTo(TestAlerts.CONTAINER);
      assertThat(details.get("cpu_cores_before_drain").asDouble()).isEqualTo(0.99);
      assertThat(details.get("cpu_cores_after_drain").asDouble()).isEqualTo(0.997);
      assertThat(details.get("signature_share").asDouble()).isEqualTo(0.855);
      assertThat(details.get("timeouts_at_spike").asLong()).isEqualTo(1844);
      assertThat(details.get("runtime_version").asText()).isEqualTo("go1.14.1");
      assertThat(details.get("known_issues").get(0).get("id").asText()).isEqualTo("golang/go#38023");
      assertThat(details.get("known_issues").get(0).get("fixed_in").asText()).isEqualTo("go1.14.2");
      assertThat(details.get("top_stacks")).hasSize(2);
      assertThat(details.get("top_stacks").get(0).get("folded").asText()).isEqualTo(TestAlerts.LIVELOCK_STACK);
      assertThat(details.get("top_stacks").get(0).get("share").asDouble()).isEqualTo(0.855);
      assertThat(trigger.get("links").get(0).get("href").asText())
          .isEqualTo("https://stallwatch.example:8443/incidents/" + INCIDENT);
      assertThat(trigger.get("links").get(0).get("text").asText()).contains(INCIDENT);
      assertThat(trigger.get("links").get(1).get("href").asText()).isEqualTo("https://github.com/golang/go/issues/38023");
      assertThat(trigger.get("client").asText()).isEqualTo("Stallwatch");
      assertThat(trigger.get("client_url").asText()).isEqualTo("https://stallwatch.example:8443");

      JsonNode resolve = pagerDuty.received().get(1).json();
      assertThat(resolve.get("routing_key").asText()).isEqualTo(ROUTING_KEY);
      assertThat(resolve.get("event_action").asText()).isEqualTo("resolve");
      assertThat(resolve.get("dedup_key").asText()).isEqualTo(INCIDENT);
    }
  }

  @Test
  void withoutPodOrNamespaceTheComponentIsTheContainer() {
    DeadlockAlert alert = TestAlerts.open(INCIDENT);
    alert.setPod(null);
    alert.setNamespace(null);
    JsonNode payload = notifier().event(alert).get("payload");
    assertThat(payload.get("component").asText()).isEqualTo(TestAlerts.CONTAINER);
    assertThat(payload.has("group")).isFalse();
  }

  @Test
  void defaultsToThePublicEndpoint() {
    assertThat(notifier().url()).hasToString("https://events.pagerduty.com/v2/enqueue");
    assertThat(notifier().toString()).doesNotContain(ROUTING_KEY);
  }

  @Test
  void buildSaysWhatIsMissing() {
    assertThatThrownBy(() -> PagerDutyNotifier.builder().incidentLinks(LINKS).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("--pagerduty-routing-key");
    assertThatThrownBy(() -> PagerDutyNotifier.builder().routingKey(ROUTING_KEY).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("incidentLinks");
    assertThatThrownBy(() -> PagerDutyNotifier.builder().routingKey(ROUTING_KEY).incidentLinks(LINKS)
        .url("ftp://example/v2/enqueue").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("http(s)");
    assertThatThrownBy(() -> PagerDutyNotifier.builder().routingKey(null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void longIncidentIdsAreDeadLetteredNotSent() throws Exception {
    try (TestReceiver pagerDuty = TestReceiver.start()) {
      PagerDutyNotifier notifier = PagerDutyNotifier.builder().url(pagerDuty.url("/v2/enqueue"))
          .routingKey(ROUTING_KEY).incidentLinks(LINKS).build();
      CountDownLatch done = new CountDownLatch(1);
      try (FanOutHarness harness = new FanOutHarness(notifier)) {
        harness.fanOut.submit(TestAlerts.open("x".repeat(300)), FanOutHarness.source(7), done::countDown);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(harness.deadLetters.letters()).singleElement().satisfies(letter -> {
          assertThat(letter.receiver()).isEqualTo("pagerduty");
          assertThat(letter.status()).isEqualTo("invalid");
          assertThat(letter.error()).contains("dedup_key");
        });
      }
      assertThat(pagerDuty.received()).isEmpty();
    }
  }

  private static PagerDutyNotifier notifier() {
    return PagerDutyNotifier.builder().routingKey(ROUTING_KEY).incidentLinks(LINKS).build();
  }
}
