package dev.stallwatch.incidents.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.incidents.store.Evidence;
import dev.stallwatch.incidents.store.TestAlerts;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class IncidentFormatsTest {
  private static final Instant RECORDED = Instant.parse("2026-11-26T10:00:00Z");

  static Incident incident(DeadlockAlert open, DeadlockAlert resolvedOrNull) {
    return new Incident(open.getIncidentId(),
        resolvedOrNull == null ? IncidentStatus.OPEN : IncidentStatus.RESOLVED, open.getContainerId(),
        open.getHost(), open.getPod(), open.getNamespace(), open.getSignatureId(), open.getSignatureTitle(),
        open.getSpikeStartedAt(), open.getDrainedAt(), open.getDrainedBy(), open.getStuckSince(),
        open.getDetectedAt(), resolvedOrNull == null ? null : resolvedOrNull.getResolvedAt(),
        resolvedOrNull == null ? null : resolvedOrNull.getResolveReason(), open.getCpuCoresBeforeDrain(),
        open.getCpuCoresAfterDrain(), open.getSignatureShare(), open.getTimeoutsAtSpike(), open.getRequestsAtSpike(),
        Evidence.of(open), open.getRemediation(), RECORDED, RECORDED);
  }

  @Test
  void jsonIsTheReplayObjectPlusStoreTimes() throws Exception {
    DeadlockAlert open = TestAlerts.open("b47101c4");
    JsonNode json = new ObjectMapper().readTree(IncidentJson.line(incident(open, null)));
    assertThat(json.get("incidentId").asText()).isEqualTo("b47101c4");
    assertThat(json.get("status").asText()).isEqualTo("OPEN");
    assertThat(json.get("containerId").asText()).isEqualTo(TestAlerts.CONTAINER);
    assertThat(json.get("topStacks").get(0).get("weight").asLong()).isEqualTo(18_272_727_090L);
    assertThat(json.get("knownIssues").get(0).get("url").asText()).isEqualTo("https://github.com/golang/go/issues/38023");
    assertThat(json.get("recordedAt").asText()).isEqualTo("2026-11-26T10:00:00Z");
    assertThat(json.get("resolvedAt").isNull()).isTrue();
  }

  @Test
  void aPageSaysWhereTheNextStarts() {
    Incident one = incident(TestAlerts.open("one"), null);
    JsonNode more = IncidentJson.page(new IncidentPage(List.of(one), 3, 1, 1));
    assertThat(more.get("incidents").get(0).get("incidentId").asText()).isEqualTo("one");
    assertThat(more.get("total").asLong()).isEqualTo(3);
    assertThat(more.get("nextOffset").asInt()).isEqualTo(2);
    assertThat(IncidentJson.page(new IncidentPage(List.of(one), 1, 10, 0)).get("nextOffset").isNull()).isTrue();
  }

  @Test
  void csvQuotesWhatNeedsQuoting() {
    DeadlockAlert open = DeadlockAlert.newBuilder(TestAlerts.open("x")).setHost("o'brien, \"the\" host").build();
    String row = IncidentCsv.row(incident(open, null));
    assertThat(IncidentCsv.header()).startsWith("incident_id,status,detected_at,container_id,host,");
    assertThat(row).startsWith("x,OPEN,2021-12-29T12:53:30Z," + TestAlerts.CONTAINER + ",\"o'brien, \"\"the\"\" host\",")
        .contains(",go1.14.1,golang/go#38023,")
        .endsWith(",0.990,0.997,0.855,1844");
    assertThat(IncidentCsv.row(incident(open, null)).split(",", -1)).hasSize(IncidentCsv.HEADER.size() + 1);
  }

  @Test
  void tableAlignsColumnsAndShortensContainerIds() {
    DeadlockAlert a = TestAlerts.open("b47101c4-d617-37c4-9adb-c2071b4d8ea3");
    DeadlockAlert b = DeadlockAlert.newBuilder(TestAlerts.open("other")).setNamespace(null).setPod(null)
        .setRuntimeVersion(null).setHost("a-much-longer-host-name").build();
    String table = IncidentTable.render(List.of(incident(a, null),
        incident(b, TestAlerts.resolved(b, Instant.parse("2021-12-29T13:00:00Z"), "restored"))));
    List<String> lines = table.lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).startsWith("DETECTED              STATUS    CONTAINER     HOST  ");
    assertThat(lines.get(1)).startsWith("2021-12-29T12:53:30Z  OPEN      3f9c2b7d81e4  node-a  ")
        .contains("shop/orders-7f9c6d5b8-x2k4q").contains("go1.14.1").endsWith("b47101c4-d617-37c4-9adb-c2071b4d8ea3");
    assertThat(lines.get(2)).contains("RESOLVED").contains("-/-").contains("unknown");
    assertThat(lines.get(1).indexOf("go-timer-livelock")).isEqualTo(lines.get(2).indexOf("go-timer-livelock"));
  }

  @Test
  void statusParsesEitherCase() {
    assertThat(IncidentStatus.parse("open")).isEqualTo(IncidentStatus.OPEN);
    assertThat(IncidentStatus.parse("RESOLVED")).isEqualTo(IncidentStatus.RESOLVED);
    assertThatThrownBy(() -> IncidentStatus.parse("closed"))
        .hasMessage("expected open or resolved, got 'closed'");
  }
}
