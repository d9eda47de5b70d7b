package dev.stallwatch.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.stallwatch.jobs.events.Observation;
import dev.stallwatch.jobs.rules.SignatureRule;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadlockDetectorTest extends DetectorTestBase {

  private static final SignatureRule LIVELOCK = RULES.byId(RULE).orElseThrow();

  // --- the positive path --------------------------------------------------------------------

  @Test
  void wedgedContainerOpensOneAlertWithTheEvidence() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));

    assertThat(h.alerts()).hasSize(1);
    DeadlockAlert alert = h.alerts().get(0);
    assertThat(alert.getEventType()).isEqualTo(AlertEventType.OPEN);
    assertThat(alert.getIncidentId()).isEqualTo(DeadlockDetector.incidentId(WEDGED, at(20), RULE));
    assertThat(alert.getContainerId()).isEqualTo(WEDGED);
    assertThat(alert.getHost()).isEqualTo(HOST);
    assertThat(alert.getPod()).isEqualTo(POD);
    assertThat(alert.getNamespace()).isEqualTo(NAMESPACE);
    assertThat(alert.getSignatureId()).isEqualTo(RULE);
    assertThat(alert.getSignatureTitle()).isEqualTo(LIVELOCK.title());
    assertThat(alert.getSpikeStartedAt()).isEqualTo(Instant.ofEpochMilli(at(0)));
    assertThat(alert.getDrainedAt()).isEqualTo(Instant.ofEpochMilli(at(20)));
    assertThat(alert.getDrainedBy()).isEqualTo("requests");
    assertThat(alert.getStuckSince()).isEqualTo(Instant.ofEpochMilli(at(20)));
    assertThat(alert.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(80)));
    assertThat(alert.getResolvedAt()).isNull();
    assertThat(alert.getResolveReason()).isNull();
    assertThat(alert.getCpuCoresBeforeDrain()).isCloseTo(SPIKE_CORES, within(1e-9));
    assertThat(alert.getCpuCoresAfterDrain()).isCloseTo(STUCK_CORES, within(1e-9));
    assertThat(alert.getSignatureShare()).isCloseTo(STUCK_SHARE, within(1e-9));
    assertThat(alert.getTimeoutsAtSpike()).isEqualTo(200 + 300);
    assertThat(alert.getRequestsAtSpike()).isEqualTo(1000 + 900);
    long windowWeight = 19_000_000_000L;
    assertThat(alert.getTopStacks()).extracting(WeightedStack::getFolded, WeightedStack::getWeight)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(DEADLOCK_STACK, 6 * 17_100_000_000L),
            org.assertj.core.groups.Tuple.tuple(WORK_STACK, 6 * (windowWeight - 17_100_000_000L)));
    assertThat(alert.getTopStacks().get(0).getShare()).isCloseTo(0.9, within(1e-9));
    assertThat(alert.getTopStacks().get(1).getShare()).isCloseTo(0.1, within(1e-9));
    assertThat(alert.getRuntimeVersion()).isEqualTo(GO_1_14_1);
    assertThat(alert.getKnownIssues())
        .extracting(KnownIssue::getId, KnownIssue::getUrl, KnownIssue::getFixedIn, KnownIssue::getVersionAffected)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("golang/go#38023",
                "https://github.com/golang/go/issues/38023", "go1.14.2", true),
            org.assertj.core.groups.Tuple.tuple("golang/go#38070",
                "https://github.com/golang/go/issues/38070", "go1.14.2", true));
    assertThat(alert.getRemediation()).contains("go1.14.2").contains("restart the container");
    assertThat(h.metric(JobMetrics.ALERTS_OPENED)).isEqualTo(1);
  }

  @Test
  void alertComesWithTheSixthStuckWindowNotBefore() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED));

    h.evaluateUntil(at(80) - 1);
    assertThat(h.alerts()).isEmpty();

    h.evaluateUntil(at(80));
    assertThat(h.alerts()).hasSize(1);
  }

  @Test
  void incidentIdIsDeterministic() {
    // MD5 name-based UUID (v3) of "stallwatch/deadlock/v1|container|drainedAt|signatureId"
    assertThat(DeadlockDetector.incidentId("c-1", 1_772_420_420_000L, RULE))
        .isEqualTo(DeadlockDetector.incidentId("c-1", 1_772_420_420_000L, RULE))
        .isEqualTo("fce11708-7609-3c8a-bb28-748eea9da022")
        .isNotEqualTo(DeadlockDetector.incidentId("c-1", 1_772_420_430_000L, RULE))
        .isNotEqualTo(DeadlockDetector.incidentId("c-2", 1_772_420_420_000L, RULE));
  }

  @Test
  void explicitDrainEventIsTheDrainAndNamesItsActor() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    events.add(drained(WEDGED, at(25), "lb-hook:haproxy-3"));
    // the proxy still counts health checks: requests stay high, the explicit drain holds
    for (long t = at(20); t < at(100); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 1000, 0));
    }

    Harness h = harness().send(events).evaluateUntil(at(100));

    assertThat(h.alerts()).singleElement().satisfies(a -> {
      assertThat(a.getDrainedAt()).isEqualTo(Instant.ofEpochMilli(at(25)));
      assertThat(a.getDrainedBy()).isEqualTo("lb-hook:haproxy-3");
      // the first window starting at or after the drain
      assertThat(a.getStuckSince()).isEqualTo(Instant.ofEpochMilli(at(30)));
      assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(90)));
      assertThat(a.getIncidentId()).isEqualTo(DeadlockDetector.incidentId(WEDGED, at(25), RULE));
    });
  }

  @Test
  void drainedEventWithoutActorIsDrainedByTrafficEvent() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    events.add(drained(WEDGED, at(20), ""));
    for (long t = at(20); t < at(80); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
    }

    Harness h = harness().send(events).evaluateUntil(at(80));

    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getDrainedBy()).isEqualTo("traffic-event"));
  }

  @Test
  void profileWithoutUpstreamCountsAsZeroRequests() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(80); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t)); // the proxy stopped reporting this container
    }

    Harness h = harness().send(events).evaluateUntil(at(80));

    assertThat(h.alerts()).singleElement().satisfies(a -> {
      assertThat(a.getDrainedAt()).isEqualTo(Instant.ofEpochMilli(at(20)));
      assertThat(a.getDrainedBy()).isEqualTo("requests");
    });
  }

  @Test
  void withoutRequestHistoryTheSpikeWindowsAreTheBaseline() throws Exception {
    List<Observation> events = new ArrayList<>(spike(WEDGED)); // median 950 -> threshold 19
    for (long t = at(20); t < at(80); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 19, 0));
    }

    Harness h = harness().send(events).evaluateUntil(at(80));

    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getDrainedAt()).isEqualTo(Instant.ofEpochMilli(at(20))));
  }

  @Test
  void windowsFromDifferentHostsAreSummed() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(80); t += WINDOW) {
      // 0.95 cores each: one host alone is below 0.5 x 2.0 cores, both together are not
      events.add(profileWindow(WEDGED, t, "node-a", STUCK_CORES / 2, STUCK_SHARE, GO_1_14_1));
      events.add(profileWindow(WEDGED, t, "node-b", STUCK_CORES / 2, STUCK_SHARE, GO_1_14_1));
      events.add(upstream(WEDGED, t, 0, 0));
    }

    Harness h = harness().send(events).evaluateUntil(at(80));

    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getCpuCoresAfterDrain()).isCloseTo(STUCK_CORES, within(1e-9)));
  }

  // --- what must not alert ------------------------------------------------------------------

  @Test
  void noAlertWithoutDrain() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(20) + 20 * MINUTE; t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 1000, 5)); // still serving
    }

    Harness h = harness().send(events).evaluateUntil(at(20) + 20 * MINUTE);

    assertThat(h.alerts()).isEmpty();
    assertThat(h.timers()).isEqualTo(1);
  }

  @Test
  void noAlertWhenCpuFallsAfterDrain() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(20) + 3 * MINUTE; t += WINDOW) {
      events.add(idleWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 0, 0));
    }

    Harness h = harness().send(events).evaluateUntil(at(20) + 3 * MINUTE);

    assertThat(h.alerts()).isEmpty();
  }

  @Test
  void noAlertWhenCpuHalvesAfterDrain() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(20) + 3 * MINUTE; t += WINDOW) {
      // 0.9 cores all in the signature: above stuck.min-cores, below 0.5 x 2.0 spike cores
      events.add(profileWindow(WEDGED, t, HOST, 0.9, 1.0, GO_1_14_1));
    }

    Harness h = harness().send(events).evaluateUntil(at(20) + 3 * MINUTE);

    assertThat(h.alerts()).isEmpty();
  }

  @Test
  void noAlertWhenSignatureShareIsLow() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(20) + 3 * MINUTE; t += WINDOW) {
      events.add(profileWindow(WEDGED, t, HOST, STUCK_CORES, 0.3, GO_1_14_1));
      events.add(upstream(WEDGED, t, 0, 0));
    }

    Harness h = harness().send(events).evaluateUntil(at(20) + 3 * MINUTE);

    assertThat(h.alerts()).isEmpty();
  }

  @Test
  void noAlertForAStallShorterThanSixtySeconds() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    events.addAll(drainedAndStuck(WEDGED, 5));
    for (long t = at(70); t < at(70) + 3 * MINUTE; t += WINDOW) {
      events.add(idleWindow(WEDGED, t));
    }

    Harness h = harness().send(events).evaluateUntil(at(70) + 3 * MINUTE);

    assertThat(h.alerts()).isEmpty();
  }

  @Test
  void aWindowWithoutDataBreaksTheStuckRun() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    events.addAll(drainedAndStuck(WEDGED, 5)); // T0+20 .. T0+60
    // nothing for T0+70
    for (long t = at(80); t < at(140); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
    }

    Harness h = harness().send(events);
    h.evaluateUntil(at(130));
    assertThat(h.alerts()).isEmpty();

    h.evaluateUntil(at(140));
    assertThat(h.alerts()).singleElement().satisfies(a -> {
      assertThat(a.getStuckSince()).isEqualTo(Instant.ofEpochMilli(at(80)));
      assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(140)));
    });
  }

  @Test
  void drainWithoutSpikeIsMaintenance() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.add(drained(WEDGED, at(5), "operator:bob"));
    for (long t = at(0); t < at(3 * 60); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
    }

    Harness h = harness().send(events).evaluateUntil(at(3 * 60));

    assertThat(h.alerts()).isEmpty();
  }

  @Test
  void restoredBeforeTheAlertCancelsTheEpisode() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    events.addAll(drainedAndStuck(WEDGED, 12));
    events.add(restored(WEDGED, at(45)));

    Harness h = harness().send(events).evaluateUntil(at(140));

    assertThat(h.alerts()).isEmpty();
  }

  @Test
  void requestsComingBackCancelTheEpisode() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    events.addAll(drainedAndStuck(WEDGED, 3)); // T0+20..T0+40, drained by requests
    events.add(stuckWindow(WEDGED, at(50)));
    events.add(upstream(WEDGED, at(50), 800, 0)); // traffic is back
    for (long t = at(60); t < at(140); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 0, 0));
    }

    Harness h = harness().send(events).evaluateUntil(at(140));

    assertThat(h.alerts()).isEmpty();
  }

  // --- duplicates and late data -------------------------------------------------------------

  @Test
  void redeliveredWindowsReplaceAndAreNotCountedTwice() throws Exception {
    List<Observation> twice = new ArrayList<>();
    for (Observation o : wedgedIncident(WEDGED)) {
      twice.add(o);
      twice.add(o); // the collector or Kafka redelivered it
    }

    Harness once = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(3 * 60));
    Harness h = harness().send(twice).evaluateUntil(at(3 * 60));

    assertThat(h.alerts()).hasSize(1).isEqualTo(once.alerts());
    assertThat(h.alerts().get(0).getCpuCoresAfterDrain()).isCloseTo(STUCK_CORES, within(1e-9));
    assertThat(h.alerts().get(0).getTimeoutsAtSpike()).isEqualTo(500);
  }

  @Test
  void lateWindowsAreDroppedAndCountedAndNeverAlertTwice() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(90));
    assertThat(h.alerts()).hasSize(1);

    List<Observation> late = wedgedIncident(WEDGED).stream().filter(o -> o.eventTime < at(80)).toList();
    h.send(late).evaluateUntil(at(120));

    assertThat(h.alerts()).hasSize(1);
    assertThat(h.metric(JobMetrics.LATE_RECORDS_DROPPED)).isEqualTo(late.size());
    assertThat(h.metric(JobMetrics.ALERTS_OPENED)).isEqualTo(1);
  }

  @Test
  void outOfOrderRecordsWithinTheWatermarkCount() throws Exception {
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    java.util.Collections.reverse(events);

    Harness h = harness().send(events).evaluateUntil(at(80));

    assertThat(h.alerts()).hasSize(1);
    assertThat(h.metric(JobMetrics.LATE_RECORDS_DROPPED)).isZero();
  }

  // --- several containers -------------------------------------------------------------------

  @Test
  void replacedContainerResolvesAndTheNewOneIsIndependent() throws Exception {
    String replacement = "c-2b9e4410aa07";
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));
    assertThat(h.newAlerts()).hasSize(1);

    // the orchestrator replaced the container: only the new ID reports from now on
    for (long t = at(80); t < at(80) + 6 * MINUTE; t += WINDOW) {
      h.send(normalWindow(replacement, t), upstream(replacement, t, 1000, 0));
    }
    h.evaluateUntil(at(80) + 6 * MINUTE);

    // 5 min after the end of the old container's last window (T0+70s..T0+80s)
    assertThat(h.newAlerts()).singleElement().satisfies(a -> {
      assertThat(a.getEventType()).isEqualTo(AlertEventType.RESOLVED);
      assertThat(a.getContainerId()).isEqualTo(WEDGED);
      assertThat(a.getResolveReason()).isEqualTo("silence");
      assertThat(a.getResolvedAt()).isEqualTo(Instant.ofEpochMilli(at(80) + 5 * MINUTE));
    });
    assertThat(h.timers()).as("only the replacement's timer").isEqualTo(1);
    assertThat(h.metric(JobMetrics.ALERTS_RESOLVED)).isEqualTo(1);

    h.evaluateUntil(at(80) + 12 * MINUTE);
    assertThat(h.newAlerts()).isEmpty();
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
    assertThat(h.metric(JobMetrics.CONTAINERS_TRACKED)).isZero();
  }

  @Test
  void containersAreIndependent() throws Exception {
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    events.addAll(baseline(HEALTHY));
    for (long t = at(0); t < at(80); t += WINDOW) {
      events.add(normalWindow(HEALTHY, t));
      events.add(upstream(HEALTHY, t, 1000, 1));
    }

    Harness h = harness().send(events).evaluateUntil(at(80));

    assertThat(h.alerts()).extracting(DeadlockAlert::getContainerId).containsExactly(WEDGED);
    assertThat(h.timers()).isEqualTo(2);
  }

  // --- resolving ----------------------------------------------------------------------------

  @Test
  void threeHealthyWindowsResolveAndClearTheKey() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));
    assertThat(h.newAlerts()).hasSize(1);

    h.send(stuckWindow(WEDGED, at(80)), idleWindow(WEDGED, at(90)), idleWindow(WEDGED, at(100)),
        stuckWindow(WEDGED, at(110)), // the count starts over
        idleWindow(WEDGED, at(120)), idleWindow(WEDGED, at(130)), idleWindow(WEDGED, at(140)));
    h.evaluateUntil(at(140));
    assertThat(h.newAlerts()).isEmpty();

    h.evaluateUntil(at(150));
    DeadlockAlert resolved = h.newAlerts().get(0);
    assertThat(resolved.getEventType()).isEqualTo(AlertEventType.RESOLVED);
    assertThat(resolved.getResolveReason()).isEqualTo("healthy-windows");
    assertThat(resolved.getResolvedAt()).isEqualTo(Instant.ofEpochMilli(at(150)));
    assertSameIncident(resolved, h.alerts().get(0));
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
    assertThat(h.metric(JobMetrics.ALERTS_RESOLVED)).isEqualTo(1);
  }

  @Test
  void recordsAheadOfTheWatermarkSurviveAResolveAndStartTheContainerAfresh() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));
    h.newAlerts();
    // three healthy windows, and data already here for the next ones (watermark lags behind)
    for (long t = at(80); t < at(150); t += WINDOW) {
      h.send(idleWindow(WEDGED, t), upstream(WEDGED, t, 0, 0));
    }

    h.evaluateUntil(at(110));
    assertThat(h.newAlerts()).extracting(DeadlockAlert::getResolveReason).containsExactly("healthy-windows");
    assertThat(h.timers()).as("the chain goes on for the data ahead").isEqualTo(1);
    assertThat(h.stateEntries()).isPositive();

    h.evaluateUntil(at(150) + 5 * MINUTE);
    assertThat(h.newAlerts()).isEmpty();
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
  }

  @Test
  void aContainerCanWedgeAgainAfterItRecovered() throws Exception {
    long later = 10 * MINUTE;
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    for (long t = at(80); t < at(0) + later; t += WINDOW) {
      events.add(normalWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 1000, 0));
    }
    for (Observation o : wedgedIncident(WEDGED)) {
      if (o.eventTime >= at(0)) {
        events.add(copyAt(o, o.eventTime + later));
      }
    }

    Harness h = harness().send(events).endOfInput();

    assertThat(h.alerts()).extracting(DeadlockAlert::getEventType, a -> a.getDrainedAt().toEpochMilli())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(AlertEventType.OPEN, at(20)),
            org.assertj.core.groups.Tuple.tuple(AlertEventType.RESOLVED, at(20)),
            org.assertj.core.groups.Tuple.tuple(AlertEventType.OPEN, at(20) + later));
  }

  @Test
  void restoredWithHealthyCpuResolves() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));
    h.newAlerts();

    h.send(restored(WEDGED, at(83)), idleWindow(WEDGED, at(80)), upstream(WEDGED, at(80), 300, 0));
    h.evaluateUntil(at(90));

    assertThat(h.newAlerts()).singleElement().satisfies(a -> {
      assertThat(a.getEventType()).isEqualTo(AlertEventType.RESOLVED);
      assertThat(a.getResolveReason()).isEqualTo("restored");
      assertThat(a.getResolvedAt()).isEqualTo(Instant.ofEpochMilli(at(90)));
    });
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
  }

  @Test
  void restoredWhileStillStuckDoesNotResolve() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));
    h.newAlerts();

    h.send(restored(WEDGED, at(83)), stuckWindow(WEDGED, at(80)), stuckWindow(WEDGED, at(90)));
    h.evaluateUntil(at(100));
    assertThat(h.newAlerts()).isEmpty();

    h.send(idleWindow(WEDGED, at(100)), idleWindow(WEDGED, at(110)), idleWindow(WEDGED, at(120)));
    h.evaluateUntil(at(130));
    assertThat(h.newAlerts()).singleElement()
        .satisfies(a -> assertThat(a.getResolveReason()).isEqualTo("healthy-windows"));
  }

  @Test
  void silenceResolvesAnOpenAlertAndClearsTheKey() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));
    h.newAlerts();

    h.evaluateUntil(at(80) + 5 * MINUTE - 1);
    assertThat(h.newAlerts()).isEmpty();
    assertThat(h.timers()).isEqualTo(1);

    h.evaluateUntil(at(80) + 5 * MINUTE);
    assertThat(h.newAlerts()).singleElement().satisfies(a -> {
      assertThat(a.getResolveReason()).isEqualTo("silence");
      assertThat(a.getResolvedAt()).isEqualTo(Instant.ofEpochMilli(at(80) + 5 * MINUTE));
    });
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
  }

  @Test
  void silenceBeforeAnyAlertClearsTheKeyQuietly() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    Harness h = harness().send(events).evaluateUntil(at(20));
    assertThat(h.stateEntries()).isPositive();
    assertThat(h.timers()).isEqualTo(1);
    assertThat(h.metric(JobMetrics.CONTAINERS_TRACKED)).isEqualTo(1);

    h.evaluateUntil(at(20) + 5 * MINUTE);

    assertThat(h.alerts()).isEmpty();
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
    assertThat(h.metric(JobMetrics.CONTAINERS_TRACKED)).isZero();
  }

  @Test
  void endOfInputEndsTheTimerChainWithoutInventingSilence() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED)).endOfInput();

    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getEventType()).isEqualTo(AlertEventType.OPEN));
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
  }

  @Test
  void atTheEndOfInputTheArrivalOrderDoesNotMatter() throws Exception {
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    events.addAll(baseline(HEALTHY));
    events.addAll(spike(HEALTHY));
    for (long t = at(20); t < at(120); t += WINDOW) {
      events.add(idleWindow(HEALTHY, t));
      events.add(idleWindow(WEDGED, t + 60 * SECOND));
    }
    Harness ordered = harness().send(events).endOfInput();
    java.util.Collections.shuffle(events, new java.util.Random(7));

    Harness shuffled = harness().send(events).endOfInput();

    assertThat(ordered.alerts()).extracting(DeadlockAlert::getEventType)
        .containsExactly(AlertEventType.OPEN, AlertEventType.RESOLVED);
    assertThat(shuffled.alerts()).isEqualTo(ordered.alerts());
    assertThat(shuffled.stateEntries()).isZero();
    assertThat(shuffled.timers()).isZero();
  }

  @Test
  void silenceEndsTheFirstIncidentAndLaterDataStartsAfresh() throws Exception {
    long later = 20 * MINUTE; // a second incident of the same container ID, 20 minutes on
    List<Observation> events = new ArrayList<>(wedgedIncident(WEDGED));
    for (Observation o : wedgedIncident(WEDGED)) {
      Observation shifted = copyAt(o, o.eventTime + later);
      events.add(shifted);
    }

    Harness h = harness().send(events).endOfInput();

    assertThat(h.alerts()).extracting(DeadlockAlert::getEventType, DeadlockAlert::getResolveReason,
            a -> a.getDrainedAt().toEpochMilli())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(AlertEventType.OPEN, null, at(20)),
            org.assertj.core.groups.Tuple.tuple(AlertEventType.RESOLVED, "silence", at(20)),
            org.assertj.core.groups.Tuple.tuple(AlertEventType.OPEN, null, at(20) + later));
    assertThat(h.alerts().get(2).getSpikeStartedAt()).isEqualTo(Instant.ofEpochMilli(at(0) + later));
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
  }

  private static Observation copyAt(Observation o, long eventTime) {
    Observation c = new Observation();
    c.kind = o.kind;
    c.containerId = o.containerId;
    c.eventTime = eventTime;
    if (o.profile != null) {
      c.profile = profileWindow(o.containerId, eventTime, HOST, o.profile.cpuCores,
          o.profile.matchedWeight(RULE) / (double) o.profile.totalWeightNs, GO_1_14_1).profile;
    }
    if (o.upstream != null) {
      c.upstream = upstream(o.containerId, eventTime, o.upstream.requests, o.upstream.timeouts).upstream;
    }
    return c;
  }

  @Test
  void oneTimerPerContainerWhateverArrives() throws Exception {
    Harness h = harness().send(wedgedIncident(WEDGED));

    assertThat(h.timers()).isEqualTo(1);
    h.evaluateUntil(at(40));
    assertThat(h.timers()).isEqualTo(1);
  }

  // --- evidence -----------------------------------------------------------------------------

  @Test
  void unknownRuntimeVersionListsTheReferencesAsNotKnownAffected() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(80); t += WINDOW) {
      events.add(profileWindow(WEDGED, t, HOST, STUCK_CORES, STUCK_SHARE, null));
    }
    // the windows before carried go1.14.1; only the stuck windows' version counts
    Harness h = harness().send(events).evaluateUntil(at(80));

    assertThat(h.alerts()).singleElement().satisfies(a -> {
      assertThat(a.getRuntimeVersion()).isNull();
      assertThat(a.getKnownIssues()).extracting(KnownIssue::getId, KnownIssue::getVersionAffected)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("golang/go#38023", false),
              org.assertj.core.groups.Tuple.tuple("golang/go#38070", false));
    });
  }

  @Test
  void knownIssuesFollowTheRuntimeVersion() {
    assertThat(DeadlockDetector.knownIssues(LIVELOCK, "go1.14"))
        .allSatisfy(i -> assertThat(i.getVersionAffected()).isTrue()).hasSize(2);
    assertThat(DeadlockDetector.knownIssues(LIVELOCK, null))
        .allSatisfy(i -> assertThat(i.getVersionAffected()).isFalse()).hasSize(2);
    // a fixed version spinning in the same frames is some other bug
    assertThat(DeadlockDetector.knownIssues(LIVELOCK, "go1.19.3")).isEmpty();
  }

  @Test
  void optionsChangeTheThresholds() throws Exception {
    DetectorOptions quick = DetectorOptions.fromMap(Map.of("stuck.sustain", "30s"));
    Harness h = harness(quick).send(wedgedIncident(WEDGED)).evaluateUntil(at(50));

    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(50))));
  }

  // --- early evaluation: a window is judged once every collector's manifest is in ----------

  @Test
  void completeWindowsAreEvaluatedWithoutWaitingForTheWatermark() throws Exception {
    Harness byWatermark = harness().send(wedgedIncident(WEDGED)).evaluateUntil(at(80));
    Harness early = harness().send(withManifests(wedgedIncident(WEDGED)));

    // no watermark at all: the manifests of the sixth stuck window completed it
    assertThat(early.alerts()).singleElement().satisfies(a -> {
      DeadlockAlert expected = byWatermark.alerts().get(0);
      assertThat(a).isEqualTo(expected);
      assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(80)));
    });
    assertThat(early.metric(JobMetrics.WINDOWS_EVALUATED_EARLY)).isEqualTo(30 + 2 + 6);
    assertThat(early.health()).isEqualTo(byWatermark.health());
    assertThat(early.timers()).as("the backstop for the next window").isEqualTo(1);
    // the watermark passing later judges nothing twice
    early.evaluateUntil(at(80));
    assertThat(early.alerts()).hasSize(1);
    assertThat(early.health()).hasSize(byWatermark.health().size());
  }

  @Test
  void aWindowWaitsForEveryHostThatReportedTheWindowBefore() throws Exception {
    List<Observation> events = withManifests(wedgedIncident(WEDGED));
    // edge-1's manifest of the sixth stuck window
    Observation lastEdgeManifest = events.stream()
        .filter(o -> o.kind == Observation.Kind.MANIFEST && o.manifest.host.equals(EDGE) && o.eventTime == at(70))
        .findFirst().orElseThrow();
    events.remove(lastEdgeManifest);
    Harness h = harness().send(events);
    assertThat(h.alerts()).as("edge-1 reported the window before and has not said it is through").isEmpty();

    h.send(lastEdgeManifest);
    assertThat(h.alerts()).hasSize(1);
  }

  @Test
  void aManifestAheadOfTheDataItListsWaitsForThatData() throws Exception {
    List<Observation> events = withManifests(wedgedIncident(WEDGED));
    // the last window's records as three topics may deliver them: both manifests first, the profile last
    List<Observation> last = new ArrayList<>(events.subList(events.size() - 4, events.size()));
    events.removeAll(last);
    Observation profile = last.stream().filter(o -> o.kind == Observation.Kind.PROFILE).findFirst().orElseThrow();
    last.remove(profile);
    Harness h = harness().send(events).send(last);
    assertThat(h.alerts()).as("node-a listed a profile window that is not here yet").isEmpty();

    h.send(profile);
    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(80))));
  }

  @Test
  void windowsArriveOutOfOrderAndAreStillJudgedInOrder() throws Exception {
    List<Observation> events = withManifests(wedgedIncident(WEDGED));
    // the last two windows swap places: the fifth stuck window's records come after the sixth's
    List<Observation> fifth = events.stream().filter(o -> o.eventTime == at(60)).toList();
    events.removeAll(fifth);
    Harness h = harness().send(events);
    assertThat(h.alerts()).isEmpty();
    assertThat(h.metric(JobMetrics.WINDOWS_EVALUATED_EARLY)).isEqualTo(30 + 2 + 4);

    h.send(fifth);
    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(80))));
    assertThat(h.metric(JobMetrics.WINDOWS_EVALUATED_EARLY)).isEqualTo(30 + 2 + 6);
  }

  @Test
  void dataAfterAnEarlyEvaluationIsCountedAndNeverRaisesASecondAlert() throws Exception {
    Harness h = harness().send(withManifests(wedgedIncident(WEDGED)));
    assertThat(h.newAlerts()).hasSize(1);

    // a copy of the last stuck window, and a host nobody expected, for windows judged already
    h.send(stuckWindow(WEDGED, at(70)), profileWindow(WEDGED, at(60), "node-b", STUCK_CORES, STUCK_SHARE, GO_1_14_1),
        upstream(WEDGED, at(70), 0, 0));
    assertThat(h.metric(JobMetrics.LATE_AFTER_EARLY_EVALUATION)).isEqualTo(3);
    assertThat(h.metric(JobMetrics.LATE_RECORDS_DROPPED)).isZero();

    h.evaluateUntil(at(100));
    assertThat(h.newAlerts()).isEmpty();
    assertThat(h.metric(JobMetrics.ALERTS_OPENED)).isEqualTo(1);
  }

  @Test
  void aCollectorThatShowsUpLateIsWaitedForFromItsNextWindowOn() throws Exception {
    List<Observation> events = withManifests(wedgedIncident(WEDGED));
    Harness h = harness().send(events.stream().filter(o -> o.eventTime < at(60)).toList());
    // node-b's first window (T0+50s) comes after that window was judged without it
    h.send(profileWindow(WEDGED, at(50), "node-b", 0.1, 0.0, GO_1_14_1), manifest(WEDGED, at(50), "node-b", true));
    assertThat(h.metric(JobMetrics.LATE_AFTER_EARLY_EVALUATION)).isEqualTo(1);

    h.send(events.stream().filter(o -> o.eventTime >= at(60)).toList());
    assertThat(h.alerts()).as("node-b reported T0+50s: T0+60s on waits for it").isEmpty();

    h.send(profileWindow(WEDGED, at(60), "node-b", 0.1, 0.0, GO_1_14_1), manifest(WEDGED, at(60), "node-b", true));
    assertThat(h.alerts()).isEmpty();
    h.send(profileWindow(WEDGED, at(70), "node-b", 0.1, 0.0, GO_1_14_1), manifest(WEDGED, at(70), "node-b", true));
    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(80))));
  }

  @Test
  void aCollectorThatFallsSilentLeavesItsWindowToTheWatermarkThenIsNoLongerAwaited() throws Exception {
    // edge-1 stops after the drain window: no manifest from it from T0+30s on
    List<Observation> events = withManifests(wedgedIncident(WEDGED)).stream()
        .filter(o -> !(o.kind == Observation.Kind.MANIFEST && o.manifest.host.equals(EDGE) && o.eventTime >= at(30)))
        .filter(o -> !(o.kind == Observation.Kind.UPSTREAM && o.eventTime >= at(30)))
        .toList();
    Harness h = harness().send(events);
    assertThat(h.alerts()).isEmpty();
    assertThat(h.timers()).isEqualTo(1);

    h.evaluateUntil(at(40)); // the backstop judges T0+30s without edge-1; the windows after it are complete
    assertThat(h.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(80))));
  }

  @Test
  void aDrainEventAfterItsWindowWasJudgedStillDrainsAtItsOwnTime() throws Exception {
    List<Observation> events = new ArrayList<>(baseline(WEDGED));
    events.addAll(spike(WEDGED));
    for (long t = at(20); t < at(100); t += WINDOW) {
      events.add(stuckWindow(WEDGED, t));
      events.add(upstream(WEDGED, t, 1000, 0)); // health checks: requests stay up, only the event drains
    }
    List<Observation> published = withManifests(events);
    Harness h = harness().send(published.stream().filter(o -> o.eventTime < at(30)).toList());
    h.send(drained(WEDGED, at(25), "lb-hook:haproxy-3")); // its window (T0+20s) was judged already
    h.send(published.stream().filter(o -> o.eventTime >= at(30)).toList());

    assertThat(h.alerts()).singleElement().satisfies(a -> {
      assertThat(a.getDrainedAt()).isEqualTo(Instant.ofEpochMilli(at(25)));
      assertThat(a.getDrainedBy()).isEqualTo("lb-hook:haproxy-3");
      assertThat(a.getStuckSince()).isEqualTo(Instant.ofEpochMilli(at(30)));
      assertThat(a.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(at(90)));
    });
    assertThat(h.metric(JobMetrics.LATE_AFTER_EARLY_EVALUATION)).isZero();
  }

  @Test
  void emptyManifestsKeepNoStateForAContainerThatWentAway() throws Exception {
    Harness h = harness().send(withManifests(wedgedIncident(WEDGED)));
    for (long t = at(80); t < at(110); t += WINDOW) {
      h.send(idleWindow(WEDGED, t), manifest(WEDGED, t, HOST, true), manifest(WEDGED, t, EDGE, false));
    }
    assertThat(h.alerts()).extracting(DeadlockAlert::getEventType)
        .containsExactly(AlertEventType.OPEN, AlertEventType.RESOLVED);
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();

    // the collectors keep saying "nothing" for a while: no state comes back
    h.send(manifest(WEDGED, at(110), HOST, false), manifest(WEDGED, at(110), EDGE, false));
    assertThat(h.stateEntries()).isZero();
    assertThat(h.timers()).isZero();
  }

  @Test
  void aRestoredDetectorGoesOnEvaluatingEarly() throws Exception {
    List<Observation> events = withManifests(wedgedIncident(WEDGED));
    Harness before = harness().send(events.stream().filter(o -> o.eventTime < at(60)).toList());
    var snapshot = before.snapshot();

    Harness after = restored(snapshot).send(events.stream().filter(o -> o.eventTime >= at(60)).toList());
    assertThat(after.alerts()).singleElement()
        .satisfies(a -> assertThat(a.getIncidentId()).isEqualTo(DeadlockDetector.incidentId(WEDGED, at(20), RULE)));
  }

  private static void assertSameIncident(DeadlockAlert resolved, DeadlockAlert open) {
    assertThat(resolved.getIncidentId()).isEqualTo(open.getIncidentId());
    assertThat(resolved.getDetectedAt()).isEqualTo(open.getDetectedAt());
    assertThat(resolved.getTopStacks()).isEqualTo(open.getTopStacks());
  }
}
