package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Alerts as the detection job writes them: the demo's wedged go1.14.1 container. */
final class TestAlerts {
  static final String CONTAINER = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  static final Instant SPIKE = Instant.parse("2021-12-29T12:52:00Z");
  static final Instant DETECTED = SPIKE.plusSeconds(90);
  static final Instant RESOLVED = SPIKE.plus(Duration.ofMinutes(10));
  static final String LIVELOCK_STACK = "orders-svc;runtime.morestack;runtime.newstack;runtime.gopreempt_m;"
      + "runtime.goschedImpl;runtime.schedule;runtime.checkTimers;runtime.adjusttimers;runtime.osyield";
  static final String GC_STACK = "orders-svc;runtime.gcStart.func2;runtime.stopTheWorldWithSema;runtime.notetsleep;"
      + "runtime.futex";

  private TestAlerts() {}

  static DeadlockAlert open(String incidentId) {
    List<KnownIssue> issues = new ArrayList<>();
    issues.add(new KnownIssue("golang/go#38023", "https://github.com/golang/go/issues/38023",
        "runtime: loops forever on sched_yield sometimes(timer related)", "go1.14.2", true));
    return DeadlockAlert.newBuilder()
        .setEventType(AlertEventType.OPEN)
        .setIncidentId(incidentId)
        .setContainerId(CONTAINER)
        .setHost("node-a")
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setSignatureId("go-timer-livelock")
        .setSignatureTitle("Go 1.14 timer self-deadlock")
        .setSpikeStartedAt(SPIKE)
        .setDrainedAt(SPIKE.plusSeconds(30))
        .setDrainedBy("requests")
        .setStuckSince(SPIKE.plusSeconds(30))
        .setDetectedAt(DETECTED)
        .setCpuCoresBeforeDrain(0.99)
        .setCpuCoresAfterDrain(0.997)
        .setSignatureShare(0.855)
        .setTimeoutsAtSpike(1844)
        .setRequestsAtSpike(3075)
        .setTopStacks(new ArrayList<>(List.of(
            new WeightedStack(LIVELOCK_STACK, 51737373220L, 0.855),
            new WeightedStack(GC_STACK, 3080808050L, 0.051))))
        .setRuntimeVersion("go1.14.1")
        .setKnownIssues(issues)
        .setRemediation("Upgrade to go1.14.2 or later")
        .build();
  }

  static DeadlockAlert resolved(DeadlockAlert open) {
    DeadlockAlert resolved = DeadlockAlert.newBuilder(open).build();
    resolved.setEventType(AlertEventType.RESOLVED);
    resolved.setResolvedAt(RESOLVED);
    resolved.setResolveReason("healthy-windows");
    return resolved;
  }
}
