package dev.stallwatch.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import dev.stallwatch.jobs.events.Observation;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The detector's per-window container-health side output, as the dashboards will read it. */
class ContainerHealthTest extends DetectorTestBase {

  /** Baseline, spike, an explicit drain inside the T0+20s window, then stuck windows. */
  private static List<Observation> drainedMidWindowThenStuck(String container, long until) {
    List<Observation> events = new ArrayList<>(baseline(container));
    events.addAll(spike(container));
    events.add(drained(container, at(25), "lb-hook:haproxy-3"));
    events.add(profileWindow(container, at(20), HOST, SPIKE_CORES, SPIKE_SHARE, GO_1_14_1));
    events.add(upstream(container, at(20), 5, 0));
    for (long t = at(30); t < until; t += WINDOW) {
      events.add(stuckWindow(container, t));
      events.add(upstream(container, t, 0, 0));
    }
    return events;
  }

  @Test
  void wedgedContainerGoesFromHealthyThroughStuckToAlerting() throws Exception {
    Harness h = harness().send(drainedMidWindowThenStuck(WEDGED, at(110))).evaluateUntil(at(110));

    List<ContainerHealth> health = h.health();
    // 30 baseline windows, 2 spike windows, the drain window, 8 stuck windows
    assertThat(health).hasSize(30 + 2 + 1 + 8);
    assertThat(health).extracting(ContainerHealth::getWindowStartMs)
        .isSortedAccordingTo(Long::compare)
        .startsWith(T0 - 5 * MINUTE)
        .endsWith(at(100));
    assertThat(health.subList(0, 30)).allSatisfy(w -> {
      assertThat(w.getDetectorState()).isEqualTo(DetectorState.HEALTHY);
      assertThat(w.getCpuCores()).isCloseTo(BASELINE_CORES, within(1e-9));
      assertThat(w.getRequests()).isEqualTo(1000);
      assertThat(w.getTimeouts()).isZero();
      assertThat(w.getSignatureId()).isEmpty();
      assertThat(w.getSignatureShare()).isZero();
      assertThat(w.getIncidentId()).isEmpty();
    });

    String incident = DeadlockDetector.incidentId(WEDGED, at(25), RULE);
    assertThat(health.subList(30, health.size()))
        .extracting(ContainerHealth::getWindowStartMs, ContainerHealth::getDetectorState,
            ContainerHealth::getRequests, ContainerHealth::getTimeouts, ContainerHealth::getIncidentId)
        .containsExactly(
            tuple(at(0), DetectorState.SPIKING, 1000L, 200L, ""),
            tuple(at(10), DetectorState.SPIKING, 900L, 300L, ""),
            // the drain came at T0+25s: this window is not judged stuck, the next ones are
            tuple(at(20), DetectorState.DRAINED, 5L, 0L, ""),
            tuple(at(30), DetectorState.STUCK, 0L, 0L, ""),
            tuple(at(40), DetectorState.STUCK, 0L, 0L, ""),
            tuple(at(50), DetectorState.STUCK, 0L, 0L, ""),
            tuple(at(60), DetectorState.STUCK, 0L, 0L, ""),
            tuple(at(70), DetectorState.STUCK, 0L, 0L, ""),
            // the sixth stuck window opens the alert
            tuple(at(80), DetectorState.ALERTING, 0L, 0L, incident),
            tuple(at(90), DetectorState.ALERTING, 0L, 0L, incident),
            tuple(at(100), DetectorState.ALERTING, 0L, 0L, incident));
    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getIncidentId()).isEqualTo(incident));

    assertThat(health.subList(30, 33)).allSatisfy(w -> {
      assertThat(w.getCpuCores()).isCloseTo(SPIKE_CORES, within(1e-9));
      assertThat(w.getSignatureId()).isEqualTo(RULE);
      assertThat(w.getSignatureShare()).isCloseTo(SPIKE_SHARE, within(1e-9));
    });
    assertThat(health.subList(33, health.size())).allSatisfy(w -> {
      assertThat(w.getCpuCores()).isCloseTo(STUCK_CORES, within(1e-9));
      assertThat(w.getSignatureId()).isEqualTo(RULE);
      assertThat(w.getSignatureShare()).isCloseTo(STUCK_SHARE, within(1e-9));
      assertThat(w.getContainerId()).isEqualTo(WEDGED);
      assertThat(w.getHost()).isEqualTo(HOST);
      assertThat(w.getPod()).isEqualTo(POD);
      assertThat(w.getNamespace()).isEqualTo(NAMESPACE);
      assertThat(w.getWindowEndMs()).isEqualTo(w.getWindowStartMs() + WINDOW);
    });
  }

  @Test
  void healthyContainerReportsEveryWindowHealthy() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(HEALTHY));
    for (long t = at(0); t < at(60); t += WINDOW) {
      events.add(normalWindow(HEALTHY, t));
      events.add(upstream(HEALTHY, t, 1000, 2));
    }

    Harness h = harness().send(events).evaluateUntil(at(60));

    assertThat(h.health()).hasSize(30 + 6).allSatisfy(w -> {
      assertThat(w.getContainerId()).isEqualTo(HEALTHY);
      assertThat(w.getDetectorState()).isEqualTo(DetectorState.HEALTHY);
      assertThat(w.getCpuCores()).isCloseTo(BASELINE_CORES, within(1e-9));
      assertThat(w.getRequests()).isEqualTo(1000);
      assertThat(w.getSignatureId()).isEmpty();
      assertThat(w.getIncidentId()).isEmpty();
    });
    assertThat(h.health().subList(30, 36)).extracting(ContainerHealth::getTimeouts).containsOnly(2L);
    assertThat(h.alerts()).isEmpty();
  }

  @Test
  void windowsWithoutProfileOrUpstreamAreNotReported() throws Exception {
    Harness h = harness()
        .send(normalWindow(HEALTHY, at(0)), upstream(HEALTHY, at(0), 1000, 0),
            // a window with a traffic event only, then a gap, then data again
            drained(HEALTHY, at(15), "operator:alice"),
            normalWindow(HEALTHY, at(40)))
        .evaluateUntil(at(50));

    assertThat(h.health()).extracting(ContainerHealth::getWindowStartMs).containsExactly(at(0), at(40));
    assertThat(h.health().get(1).getRequests()).as("no upstream count in the window").isZero();
  }

  @Test
  void resolvingWindowIsHealthyAndStateStillFallsToZero() throws Exception {
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    // after the alert at T0+80s: CPU falls for resolve.healthy-windows windows
    for (long t = at(80); t < at(80) + OPTIONS.resolveHealthyWindows() * WINDOW; t += WINDOW) {
      events.add(idleWindow(WEDGED, t));
    }

    Harness h = harness().send(events).endOfInput();

    List<ContainerHealth> health = h.health();
    ContainerHealth last = health.get(health.size() - 1);
    assertThat(last.getDetectorState()).isEqualTo(DetectorState.HEALTHY);
    assertThat(last.getIncidentId()).isEmpty();
    assertThat(health.get(health.size() - 2).getDetectorState()).isEqualTo(DetectorState.ALERTING);
    assertThat(h.alerts()).hasSize(2);
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
  }
}
