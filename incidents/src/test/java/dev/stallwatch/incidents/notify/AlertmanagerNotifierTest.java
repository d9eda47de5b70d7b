package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AlertmanagerNotifierTest {
  private static final String INCIDENT = "b47101c4-d617-37c4-9adb-c2071b4d8ea3";
  private static final IncidentLinks LINKS = IncidentLinks.of("http://stallwatch.example:8080");

  @Test
  void firingAlertHasTheLabelsAnnotationsAndNoEnd() {
    AlertmanagerNotifier notifier = builder().url("http://alertmanager:9093/").build();
    assertThat(notifier.alertsUrl()).hasToString("http://alertmanager:9093/api/v2/alerts");

    JsonNode alert = notifier.alert(TestAlerts.open(INCIDENT));
    JsonNode labels = alert.get("labels");
    assertThat(labels.get("alertname").asText()).isEqualTo("StallwatchDeadlock");
    assertThat(labels.get("container_id").asText()).isEqualTo(TestAlerts.CONTAINER);
    assertThat(labels.get("host").asText()).isEqualTo("node-a");
    assertThat(labels.get("namespace").asText()).isEqualTo("shop");
    assertThat(labels.get("pod").asText()).isEqualTo("orders-7f9c6d5b8-x2k4q");
    assertThat(labels.get("signature").asText()).isEqualTo("go-timer-livelock");
    assertThat(labels.get("severity").asText()).isEqualTo("critical");
    assertThat(labels.get("incident_id").asText()).isEqualTo(INCIDENT);
    JsonNode annotations = alert.get("annotations");
    assertThat(annotations.get("summary").asText()).contains(TestAlerts.CONTAINER, "node-a", "go-timer-livelock");
    assertThat(annotations.get("description").asText()).contains("golang/go#38023", "go1.14.2");
    assertThat(annotations.get("incident_url").asText())
        .isEqualTo("http://stallwatch.example:8080/incidents/" + INCIDENT);
    assertThat(annotations.has("runbook_url")).isFalse();
    assertThat(alert.get("startsAt").asText()).isEqualTo("2021-12-29T12:53:30Z");
    assertThat(alert.has("endsAt")).isFalse();
    assertThat(alert.get("generatorURL").asText()).isEqualTo("http://stallwatch.example:8080/incidents/" + INCIDENT);
  }

  @Test
  void resolvedAlertEndsAtItsResolution() {
    AlertmanagerNotifier notifier = builder().url("http://alertmanager:9093")
        .runbookUrl(java.net.URI.create("https://runbooks.example/stuck-runtime")).build();
    JsonNode alert = notifier.alert(TestAlerts.resolved(TestAlerts.open(INCIDENT)));
    assertThat(alert.get("endsAt").asText()).isEqualTo("2021-12-29T13:02:00Z");
    assertThat(alert.get("labels").get("incident_id").asText()).isEqualTo(INCIDENT);
    assertThat(alert.get("annotations").get("runbook_url").asText()).isEqualTo("https://runbooks.example/stuck-runtime");
  }

  @Test
  void withoutNamespaceThereIsNoNamespaceLabel() {
    DeadlockAlert open = TestAlerts.open(INCIDENT);
    open.setNamespace(null);
    open.setPod(null);
    JsonNode labels = builder().url("http://alertmanager:9093").build().alert(open).get("labels");
    assertThat(labels.has("namespace")).isFalse();
    assertThat(labels.has("pod")).isFalse();
  }

  @Test
  void resendsFiringIncidentsUntilTheyResolve() throws Exception {
    try (TestReceiver alertmanager = TestReceiver.start()) {
      AlertmanagerNotifier notifier = builder().url(alertmanager.url("")).resendInterval(Duration.ofMillis(100))
          .build();
      DeadlockAlert first = TestAlerts.open(INCIDENT);
      DeadlockAlert second = TestAlerts.open("6a1e2c3d-0000-3000-8000-000000000002");
      try (FanOutHarness harness = new FanOutHarness(notifier)) {
        CountDownLatch opened = new CountDownLatch(2);
        harness.fanOut.submit(first, FanOutHarness.source(0), opened::countDown);
        harness.fanOut.submit(second, FanOutHarness.source(1), opened::countDown);
        assertThat(opened.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(notifier.firing()).extracting(DeadlockAlert::getIncidentId)
            .containsExactly(INCIDENT, "6a1e2c3d-0000-3000-8000-000000000002");

        // a re-send carries every firing incident in one array
        await().atMost(Duration.ofSeconds(10)).until(() -> resends(alertmanager, 2) >= 2);
        assertThat(harness.metrics.resends("alertmanager")).isGreaterThanOrEqualTo(2);

        CountDownLatch resolved = new CountDownLatch(1);
        harness.fanOut.submit(TestAlerts.resolved(first), FanOutHarness.source(2), resolved::countDown);
        assertThat(resolved.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(notifier.firing()).extracting(DeadlockAlert::getIncidentId)
            .containsExactly("6a1e2c3d-0000-3000-8000-000000000002");
        // later re-sends carry only the incident still open
        int seen = alertmanager.received().size();
        await().atMost(Duration.ofSeconds(10)).until(() -> alertmanager.received().size() > seen + 1);
        JsonNode last = alertmanager.received().get(alertmanager.received().size() - 1).json();
        assertThat(last).hasSize(1);
        assertThat(last.get(0).get("labels").get("incident_id").asText())
            .isEqualTo("6a1e2c3d-0000-3000-8000-000000000002");
        assertThat(last.get(0).has("endsAt")).isFalse();
      }
      List<TestReceiver.Request> posts = alertmanager.received();
      assertThat(posts).allSatisfy(request -> assertThat(request.path()).isEqualTo("/api/v2/alerts"));
      // the RESOLVED alert itself went out with its end
      assertThat(posts).anySatisfy(request -> {
        JsonNode body = request.json();
        assertThat(body).hasSize(1);
        assertThat(body.get(0).path("endsAt").asText()).isEqualTo("2021-12-29T13:02:00Z");
      });
    }
  }

  @Test
  void nothingFiringMeansNoResend() {
    AlertmanagerNotifier notifier = builder().url("http://alertmanager:9093").build();
    assertThat(notifier.resendInterval()).contains(Duration.ofSeconds(60));
    assertThat(notifier.resendRequest()).isEmpty();
    DeadlockAlert open = TestAlerts.open(INCIDENT);
    notifier.accepted(open);
    assertThat(notifier.resendRequest()).isPresent();
    notifier.accepted(TestAlerts.resolved(open));
    assertThat(notifier.resendRequest()).isEmpty();
  }

  @Test
  void theFiringSetIsBoundedAndDropsTheOldest() {
    AlertmanagerNotifier notifier = builder().url("http://alertmanager:9093").maxFiring(2).build();
    notifier.accepted(TestAlerts.open("incident-1"));
    notifier.accepted(TestAlerts.open("incident-2"));
    notifier.accepted(TestAlerts.open("incident-3"));
    assertThat(notifier.firing()).extracting(DeadlockAlert::getIncidentId).containsExactly("incident-2", "incident-3");
  }

  @Test
  void incidentsOpenAtStartUpAreResent() {
    AlertmanagerNotifier notifier = builder().url("http://alertmanager:9093")
        .firing(List.of(TestAlerts.open(INCIDENT))).build();
    assertThat(notifier.firing()).extracting(DeadlockAlert::getIncidentId).containsExactly(INCIDENT);
    assertThatThrownBy(() -> builder().firing(List.of(TestAlerts.resolved(TestAlerts.open(INCIDENT)))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("OPEN");
  }

  @Test
  void buildSaysWhatIsMissing() {
    assertThatThrownBy(() -> AlertmanagerNotifier.builder().incidentLinks(LINKS).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("--alertmanager-url");
    assertThatThrownBy(() -> AlertmanagerNotifier.builder().url("http://alertmanager:9093").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("incidentLinks");
    assertThatThrownBy(() -> builder().url("http://alertmanager:9093").resendInterval(Duration.ZERO).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("resend interval");
  }

  private static int resends(TestReceiver alertmanager, int incidents) {
    return (int) alertmanager.received().stream().filter(request -> request.json().size() == incidents).count();
  }

  private static AlertmanagerNotifier.Builder builder() {
    return AlertmanagerNotifier.builder().incidentLinks(LINKS);
  }
}
