package dev.stallwatch.app.incidents;

import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Instant;
import java.util.List;

/** Deadlock alerts shaped like the demo's, for the ingestor and CLI tests. */
public final class IncidentFixtures {
  public static final Instant DETECTED = Instant.parse("2021-12-29T12:53:30Z");
  public static final String CONTAINER = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  public static final String OSYIELD_STACK = "orders-svc;runtime.morestack;runtime.newstack;runtime.gopreempt_m;"
      + "runtime.goschedImpl;runtime.schedule;runtime.checkTimers;runtime.adjusttimers;runtime.osyield";
  public static final String FUTEX_STACK = "orders-svc;runtime.goexit;runtime.gcStart.func2;"
      + "runtime.stopTheWorldWithSema;runtime.notetsleep;runtime.futexsleep;runtime.futex";

  private IncidentFixtures() {}

  public static DeadlockAlert open(String incidentId) {
    return open(incidentId, CONTAINER, "node-a", DETECTED);
  }

  public static DeadlockAlert open(String incidentId, String container, String host, Instant detectedAt) {
    Instant spike = detectedAt.minusSeconds(90);
    return DeadlockAlert.newBuilder()
        .setEventType(AlertEventType.OPEN)
        .setIncidentId(incidentId)
        .setContainerId(container)
        .setHost(host)
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setSignatureId("go-timer-livelock")
        .setSignatureTitle("Go 1.14 timer self-deadlock")
        .setSpikeStartedAt(spike)
        .setDrainedAt(spike.plusSeconds(30))
        .setDrainedBy("requests")
        .setStuckSince(spike.plusSeconds(30))
        .setDetectedAt(detectedAt)
        .setResolvedAt(null)
        .setResolveReason(null)
        .setCpuCoresBeforeDrain(0.99)
        .setCpuCoresAfterDrain(0.997)
        .setSignatureShare(0.855)
        .setTimeoutsAtSpike(1844)
        .setRequestsAtSpike(3075)
        .setTopStacks(List.of(
            new WeightedStack(OSYIELD_STACK, 18_272_727_090L, 0.855),
            new WeightedStack(FUTEX_STACK, 3_080_808_050L, 0.051)))
        .setRuntimeVersion("go1.14.1")
        .setKnownIssues(List.of(new KnownIssue("golang/go#38023", "https://github.com/golang/go/issues/38023",
            "runtime: loops forever on sched_yield sometimes(timer related)", "go1.14.2", true)))
        .setRemediation("Upgrade to go1.14.2 or later; restart the container to recover.")
        .build();
  }

  public static DeadlockAlert resolved(DeadlockAlert open, Instant at, String reason) {
    return DeadlockAlert.newBuilder(open)
        .setEventType(AlertEventType.RESOLVED)
        .setResolvedAt(at)
        .setResolveReason(reason)
        .build();
  }
}
