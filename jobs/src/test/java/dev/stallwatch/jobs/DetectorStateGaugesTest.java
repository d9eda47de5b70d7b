package dev.stallwatch.jobs;

import static dev.stallwatch.schemas.v1.DetectorState.ALERTING;
import static dev.stallwatch.schemas.v1.DetectorState.DRAINED;
import static dev.stallwatch.schemas.v1.DetectorState.SPIKING;
import static dev.stallwatch.schemas.v1.DetectorState.STUCK;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.jobs.events.Observation;
import dev.stallwatch.schemas.v1.DetectorState;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.junit.jupiter.api.Test;

/** The containers-by-state and containersTracked gauges of the detector, through Flink's harness. */
class DetectorStateGaugesTest extends DetectorTestBase {

  /** The per-state gauges, every state listed (zeros too). */
  private static Map<DetectorState, Long> gauges(Harness h) {
    Map<DetectorState, Long> counts = new EnumMap<>(DetectorState.class);
    for (DetectorState state : TrackedContainers.STATES) {
      counts.put(state, h.containersIn(state));
    }
    return counts;
  }

  /** Every state at zero but the ones given. */
  private static Map<DetectorState, Long> expected(DetectorState a, int n, DetectorState b, int m) {
    Map<DetectorState, Long> counts = expected(a, n);
    counts.put(b, (long) m);
    return counts;
  }

  private static Map<DetectorState, Long> expected(DetectorState a, int n) {
    Map<DetectorState, Long> counts = expected();
    counts.put(a, (long) n);
    return counts;
  }

  private static Map<DetectorState, Long> expected() {
    Map<DetectorState, Long> counts = new EnumMap<>(DetectorState.class);
    TrackedContainers.STATES.forEach(state -> counts.put(state, 0L));
    return counts;
  }

  /** The wedged container's incident and a healthy neighbour over the same time. */
  private static List<Observation> wedgedAndHealthy() {
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    for (long t = T0 - 5 * MINUTE; t < at(80); t += WINDOW) {
      events.add(normalWindow(HEALTHY, t));
      events.add(upstream(HEALTHY, t, 1000, 0));
    }
    return events;
  }

  @Test
  void eachContainerCountsInTheStateItsLastWindowLeftItIn() throws Exception {
    Harness h = harness().send(wedgedAndHealthy());
    assertThat(h.metric(JobMetrics.CONTAINERS_TRACKED)).isEqualTo(2);
    assertThat(gauges(h)).as("no window evaluated yet").isEqualTo(expected());

    h.evaluateUntil(T0);
    assertThat(gauges(h)).isEqualTo(expected(DetectorState.HEALTHY, 2));
    h.evaluateUntil(at(10));
    assertThat(gauges(h)).isEqualTo(expected(DetectorState.HEALTHY, 1, SPIKING, 1));
    h.evaluateUntil(at(30));
    // drained by requests at T0+20s, and that window already burns in the signature
    assertThat(gauges(h)).isEqualTo(expected(DetectorState.HEALTHY, 1, STUCK, 1));
    h.evaluateUntil(at(80));
    assertThat(gauges(h)).isEqualTo(expected(DetectorState.HEALTHY, 1, ALERTING, 1));
    assertThat(h.metric(JobMetrics.CONTAINERS_TRACKED)).isEqualTo(2);
  }

  @Test
  void drainedWithoutStuckWindowIsDrained() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    events.add(idleWindow(WEDGED, at(20)));
    events.add(upstream(WEDGED, at(20), 5, 0));

    Harness h = harness().send(events).evaluateUntil(at(30));

    assertThat(gauges(h)).isEqualTo(expected(DRAINED, 1));
  }

  @Test
  void containersTheDetectorForgetsLeaveEveryGauge() throws Exception {
    Harness h = harness().send(wedgedAndHealthy()).evaluateUntil(at(80));
    assertThat(gauges(h)).isEqualTo(expected(DetectorState.HEALTHY, 1, ALERTING, 1));

    // no more data: resolve.silence drops both containers
    h.evaluateUntil(at(80) + 6 * MINUTE);

    assertThat(h.stateEntries()).isZero();
    assertThat(gauges(h)).isEqualTo(expected());
    assertThat(h.metric(JobMetrics.CONTAINERS_TRACKED)).isZero();
  }

  @Test
  void resolvedAlertCountsAsHealthyAgain() throws Exception {
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    for (long t = at(80); t < at(80) + (OPTIONS.resolveHealthyWindows() + 2) * WINDOW; t += WINDOW) {
      events.add(idleWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 1000, 0));
    }
    Harness h = harness().send(events);

    h.evaluateUntil(at(80) + (OPTIONS.resolveHealthyWindows() + 2) * WINDOW);

    assertThat(h.metric(JobMetrics.ALERTS_RESOLVED)).isEqualTo(1);
    assertThat(gauges(h)).isEqualTo(expected(DetectorState.HEALTHY, 1));
  }

  @Test
  void afterARestoreTheGaugesStartEmptyAndConvergeWithoutGoingNegative() throws Exception {
    Harness before = harness().send(wedgedAndHealthy()).evaluateUntil(at(50));
    assertThat(gauges(before)).isEqualTo(expected(DetectorState.HEALTHY, 1, STUCK, 1));
    OperatorSubtaskState snapshot = before.snapshot();

    Harness after = restored(snapshot);
    assertThat(after.stateEntries()).isEqualTo(before.stateEntries());
    assertThat(gauges(after)).as("transient: nothing judged since the restore").isEqualTo(expected());
    assertThat(after.metric(JobMetrics.CONTAINERS_TRACKED)).isZero();

    // one window of event time later every container with state was evaluated again
    after.evaluateUntil(at(60));
    assertThat(gauges(after)).isEqualTo(expected(DetectorState.HEALTHY, 1, STUCK, 1));
    assertThat(after.metric(JobMetrics.CONTAINERS_TRACKED)).isEqualTo(2);

    after.evaluateUntil(at(80));
    assertThat(after.alerts()).hasSize(1);
    assertThat(gauges(after)).isEqualTo(expected(DetectorState.HEALTHY, 1, ALERTING, 1));
  }

  @Test
  void containersThatEndAfterARestoreLeaveEveryGaugeAtZero() throws Exception {
    OperatorSubtaskState snapshot = harness().send(wedgedAndHealthy()).evaluateUntil(at(80)).snapshot();

    Harness after = restored(snapshot);
    // the input ends at once: both containers are evaluated to their end and cleared
    after.endOfInput();

    assertThat(after.stateEntries()).isZero();
    assertThat(gauges(after)).isEqualTo(expected());
    assertThat(after.metric(JobMetrics.CONTAINERS_TRACKED)).isZero();
  }
}
