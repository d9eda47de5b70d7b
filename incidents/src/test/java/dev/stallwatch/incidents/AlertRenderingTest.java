package dev.stallwatch.incidents;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlertRenderingTest {
  private static final Instant SPIKE = Instant.parse("2021-12-29T12:52:00Z");

  static DeadlockAlert open() {
    return DeadlockAlert.newBuilder()
        .setEventType(AlertEventType.OPEN)
        .setIncidentId("b47101c4-d617-37c4-9adb-c2071b4d8ea3")
        .setContainerId("3f9c2b7d81e4")
        .setHost("node-a")
        .setPod(null)
        .setNamespace("shop")
        .setSignatureId("go-timer-livelock")
        .setSignatureTitle("Go 1.14 timer self-deadlock")
        .setSpikeStartedAt(SPIKE)
        .setDrainedAt(SPIKE.plusSeconds(30))
        .setDrainedBy("requests")
        .setStuckSince(SPIKE.plusSeconds(30))
        .setDetectedAt(SPIKE.plusSeconds(90))
        .setCpuCoresBeforeDrain(0.98765)
        .setCpuCoresAfterDrain(1.0)
        .setSignatureShare(0.8555)
        .setTimeoutsAtSpike(1844)
        .setRequestsAtSpike(3075)
        .setTopStacks(List.of(new WeightedStack("orders-svc;runtime.morestack;runtime.newstack;runtime.osyield",
            100L, 0.8555)))
        .setRuntimeVersion("go1.14.1")
        .setKnownIssues(List.of(new KnownIssue("golang/go#38023", "https://github.com/golang/go/issues/38023",
            "timer livelock", "go1.14.2", true)))
        .setRemediation("upgrade")
        .build();
  }

  @Test
  void jsonHasEveryFieldWithIsoTimestampsAndNullsForTheAbsent() throws Exception {
    JsonNode json = new ObjectMapper().readTree(AlertJson.line(open(), null));
    assertThat(json.get("containerId").asText()).isEqualTo("3f9c2b7d81e4");
    assertThat(json.get("status").asText()).isEqualTo("OPEN");
    assertThat(json.get("spikeStartedAt").asText()).isEqualTo("2021-12-29T12:52:00Z");
    assertThat(json.get("detectedAt").asText()).isEqualTo("2021-12-29T12:53:30Z");
    assertThat(json.get("pod").isNull()).isTrue();
    assertThat(json.get("resolvedAt").isNull()).isTrue();
    assertThat(json.get("cpuCoresBeforeDrain").asDouble()).isEqualTo(0.988);
    assertThat(json.get("topStacks").get(0).get("folded").asText()).endsWith(";runtime.osyield");
    assertThat(json.get("knownIssues").get(0).get("fixedIn").asText()).isEqualTo("go1.14.2");
    assertThat(json.fieldNames()).toIterable().contains("incidentId", "host", "namespace", "signatureId",
        "drainedAt", "signatureShare", "timeoutsAtSpike", "runtimeVersion");
  }

  @Test
  void jsonOfAResolvedIncidentCarriesTheResolution() throws Exception {
    DeadlockAlert resolved = DeadlockAlert.newBuilder(open()).setEventType(AlertEventType.RESOLVED)
        .setResolvedAt(SPIKE.plusSeconds(300)).setResolveReason("healthy-windows").build();
    JsonNode json = new ObjectMapper().readTree(AlertJson.line(open(), resolved));
    assertThat(json.get("status").asText()).isEqualTo("RESOLVED");
    assertThat(json.get("resolvedAt").asText()).isEqualTo("2021-12-29T12:57:00Z");
    assertThat(json.get("resolveReason").asText()).isEqualTo("healthy-windows");
  }

  @Test
  void reportTellsTheTimelineAndTheKnownIssue() {
    String report = AlertReport.render(open(), null);
    assertThat(report).contains("container         3f9c2b7d81e4")
        .contains("runtime           go1.14.1")
        .contains("2021-12-29T12:52:00Z  T  +0s  latency spike: 1844 timeouts in 3075 requests")
        .contains("T +30s  drained (requests)")
        .contains("T +90s  detected: stuck for 60 s")
        .contains("matches golang/go#38023 (fixed in go1.14.2)")
        .contains(" 85.6%  orders-svc;runtime.morestack;runtime.newstack;runtime.osyield");
  }

  @Test
  void reportSaysWhenTheVersionIsUnknown() {
    DeadlockAlert alert = DeadlockAlert.newBuilder(open()).setRuntimeVersion(null)
        .setKnownIssues(List.of(new KnownIssue("golang/go#38023", "u", "t", "go1.14.2", false))).build();
    assertThat(AlertReport.render(alert, null)).contains("runtime           unknown")
        .contains("signature of golang/go#38023");
  }
}
