package dev.stallwatch.schemas;

import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.RuntimeInfo;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WeightUnit;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The messages behind the binary fixtures in {@code src/test/resources/wire/v1}. The fixtures were
 * written once by schema v1 with {@link #main}; later versions must keep reading them. Do not
 * regenerate them after a schema change: that would defeat the test.
 */
public final class WireFixtures {
  static final long START = Instant.parse("2021-12-29T12:52:30Z").toEpochMilli();

  static ProfileWindow profileWindow() {
    return ProfileWindow.newBuilder()
        .setHost("node-a")
        .setContainerId("3f9c2b7d81e4")
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setWindowStartMs(START)
        .setWindowEndMs(START + 10_000)
        .addAllStrings(List.of("", "orders-svc", "runtime.morestack", "runtime.newstack", "runtime.osyield"))
        .addStacks(Stack.newBuilder().addAllFrames(List.of(1, 2, 3, 4)).setWeight(8_080_808_000L).setSamples(800))
        .addStacks(Stack.newBuilder().addAllFrames(List.of(1, 2, 3)).setWeight(1_010_101_000L).setSamples(100))
        .setTotalWeight(9_090_909_000L)
        .setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS)
        .setCgroupCpuNs(9_950_000_000L)
        .setRuntime(RuntimeInfo.newBuilder().setName("go").setVersion("go1.14.1").setSource("/proc/4242/exe"))
        .setSampleCount(900)
        .setSampleFrequencyHz(99)
        .build();
  }

  static UpstreamWindow upstreamWindow() {
    return UpstreamWindow.newBuilder()
        .setSource("nginx:/var/log/nginx/access.log")
        .setContainerId("3f9c2b7d81e4")
        .setWindowStartMs(START)
        .setWindowEndMs(START + 10_000)
        .setRequests(1042)
        .setTimeouts(625)
        .setHost("node-a")
        .build();
  }

  static TrafficEvent trafficEvent() {
    return TrafficEvent.newBuilder()
        .setContainerId("3f9c2b7d81e4")
        .setTimestampMs(START + 30_000)
        .setAction(TrafficAction.TRAFFIC_ACTION_DRAINED)
        .setActor("operator:alice")
        .setReason("upstream timeouts")
        .build();
  }

  static ContainerHealth containerHealth() {
    return ContainerHealth.newBuilder()
        .setContainerId("3f9c2b7d81e4")
        .setHost("node-a")
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setWindowStartMs(START + 90_000)
        .setWindowEndMs(START + 100_000)
        .setCpuCores(0.99)
        .setRequests(0)
        .setTimeouts(0)
        .setSignatureId("go-timer-livelock")
        .setSignatureShare(0.85)
        .setDetectorState(DetectorState.ALERTING)
        .setIncidentId("c0ffee00-0000-3000-8000-000000038023")
        .build();
  }

  static DeadlockAlert deadlockAlert() {
    return DeadlockAlert.newBuilder()
        .setEventType(AlertEventType.OPEN)
        .setIncidentId("c0ffee00-0000-3000-8000-000000038023")
        .setContainerId("3f9c2b7d81e4")
        .setHost("node-a")
        .setPod("orders-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setSignatureId("go-timer-livelock")
        .setSignatureTitle("Go runtime timer livelock")
        .setSpikeStartedAt(Instant.ofEpochMilli(START))
        .setDrainedAt(Instant.ofEpochMilli(START + 30_000))
        .setDrainedBy("requests")
        .setStuckSince(Instant.ofEpochMilli(START + 30_000))
        .setDetectedAt(Instant.ofEpochMilli(START + 90_000))
        .setResolvedAt(null)
        .setResolveReason(null)
        .setCpuCoresBeforeDrain(1.0)
        .setCpuCoresAfterDrain(0.99)
        .setSignatureShare(0.85)
        .setTimeoutsAtSpike(1875)
        .setRequestsAtSpike(3126)
        .setTopStacks(List.of(new WeightedStack("orders-svc;runtime.morestack;runtime.newstack;runtime.osyield",
            8_080_808_000L, 0.85)))
        .setRuntimeVersion("go1.14.1")
        .setKnownIssues(List.of(new KnownIssue("golang/go#38023", "https://github.com/golang/go/issues/38023",
            "runtime: Go 1.14.1 deadlock in timer reset", "go1.14.2", true)))
        .setRemediation("upgrade to go1.14.2 or later")
        .build();
  }

  /** Writes the fixtures; run once per schema version, from the module directory. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources/wire/v1");
    Files.createDirectories(dir);
    Files.write(dir.resolve("ProfileWindow.bin"), profileWindow().toByteArray());
    Files.write(dir.resolve("UpstreamWindow.bin"), upstreamWindow().toByteArray());
    Files.write(dir.resolve("TrafficEvent.bin"), trafficEvent().toByteArray());
    Files.write(dir.resolve("ContainerHealth.bin"), containerHealth().toByteArray());
    ByteBuffer alert = deadlockAlert().toByteBuffer();
    byte[] bytes = new byte[alert.remaining()];
    alert.get(bytes);
    Files.write(dir.resolve("DeadlockAlert.bin"), bytes);
  }
}
