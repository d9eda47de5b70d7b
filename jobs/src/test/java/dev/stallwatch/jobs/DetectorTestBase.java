package dev.stallwatch.jobs;

import dev.stallwatch.jobs.events.CollectorManifest;
import dev.stallwatch.jobs.events.Observation;
import dev.stallwatch.jobs.events.ProfileSummarizer;
import dev.stallwatch.jobs.events.TrafficChange;
import dev.stallwatch.jobs.events.UpstreamCount;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.jobs.testing.CapturedMetrics;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.RuntimeInfo;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.WeightUnit;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;

/** Time constants, event factories and a harness for detector tests. */
abstract class DetectorTestBase {

  static final long SECOND = 1_000L;
  static final long WINDOW = 10 * SECOND;
  static final long MINUTE = 60 * SECOND;
  /** Start of the first spike window in the standard incident. */
  static final long T0 = Instant.parse("2026-03-02T03:00:00Z").toEpochMilli();

  static final String WEDGED = "c-0f3a9d2e7b41";
  static final String HEALTHY = "c-7c1e55ab9030";
  static final String HOST = "node-a";
  /** The collector whose proxy counts {@link #upstream} (source "envoy"). */
  static final String EDGE = "edge-1";
  static final String POD = "checkout-5d9f7c-x2kqp";
  static final String NAMESPACE = "shop";
  static final String GO_1_14_1 = "go1.14.1";
  static final String RULE = "go-timer-livelock";

  static final double BASELINE_CORES = 1.0;
  static final double SPIKE_CORES = 2.0;
  static final double STUCK_CORES = 1.9;
  static final double SPIKE_SHARE = 0.6;
  static final double STUCK_SHARE = 0.9;

  static final String DEADLOCK_STACK = "checkout;runtime.morestack;runtime.newstack;runtime.gopreempt_m;"
      + "runtime.goschedImpl;runtime.schedule;runtime.checkTimers;runtime.adjusttimers;runtime.osyield";
  static final String WORK_STACK = "checkout;main.main;main.handle;net/http.(*conn).serve";

  static final SignatureRules RULES = SignatureRules.defaults();
  static final DetectorOptions OPTIONS = DetectorOptions.defaults();
  private static final ProfileSummarizer SUMMARIZER = new ProfileSummarizer(RULES, 20, 99.0);

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeHarnesses() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  static long at(long secondsAfterT0) {
    return T0 + secondsAfterT0 * SECOND;
  }

  // --- event factories ----------------------------------------------------------------------

  /** A busy, healthy window: 1 core, no deadlock stacks. */
  static Observation normalWindow(String container, long start) {
    return profileWindow(container, start, HOST, BASELINE_CORES, 0.0, GO_1_14_1);
  }

  /** A window of a wedged runtime: 1.9 cores, 90 % in osyield + morestack. */
  static Observation stuckWindow(String container, long start) {
    return profileWindow(container, start, HOST, STUCK_CORES, STUCK_SHARE, GO_1_14_1);
  }

  /** A nearly idle window (CPU fell). */
  static Observation idleWindow(String container, long start) {
    return profileWindow(container, start, HOST, 0.05, 0.0, GO_1_14_1);
  }

  /**
   * A profile window as the collector sends it, through the real signature matching: the
   * deadlock stack carries {@code share} of the sample weight, ordinary work the rest.
   */
  static Observation profileWindow(
      String container, long start, String host, double cores, double share, String runtimeVersion) {
    try {
      return Observation.of(
          SUMMARIZER.summarize(profileProto(container, start, host, cores, share, runtimeVersion)),
          container);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The protobuf ProfileWindow behind {@link #profileWindow}. */
  static ProfileWindow profileProto(
      String container, long start, String host, double cores, double share, String runtimeVersion) {
    long total = Math.round(cores * WINDOW * 1_000_000);
    long deadlock = Math.round(total * share);
    ProfileWindow.Builder pw = ProfileWindow.newBuilder()
        .setHost(host)
        .setContainerId(container)
        .setPod(POD)
        .setNamespace(NAMESPACE)
        .setWindowStartMs(start)
        .setWindowEndMs(start + WINDOW)
        .addStrings("")
        .setTotalWeight(total)
        .setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS)
        .setSampleFrequencyHz(99)
        .setSampleCount(total / 10_101_010L);
    if (runtimeVersion != null) {
      pw.setRuntime(RuntimeInfo.newBuilder().setName("go").setVersion(runtimeVersion)
          .setSource("/proc/4242/exe buildinfo"));
    }
    if (deadlock > 0) {
      pw.addStacks(stack(pw, DEADLOCK_STACK, deadlock));
    }
    if (total - deadlock > 0) {
      pw.addStacks(stack(pw, WORK_STACK, total - deadlock));
    }
    return pw.build();
  }

  private static Stack stack(ProfileWindow.Builder pw, String folded, long weight) {
    Stack.Builder stack = Stack.newBuilder().setWeight(weight).setSamples(Math.max(1, weight / 10_101_010L));
    for (String frame : folded.split(";")) {
      int index = pw.getStringsList().indexOf(frame);
      if (index < 0) {
        pw.addStrings(frame);
        index = pw.getStringsCount() - 1;
      }
      stack.addFrames(index);
    }
    return stack.build();
  }

  static Observation upstream(String container, long start, long requests, long timeouts) {
    return upstream(container, start, "envoy", requests, timeouts);
  }

  static Observation upstream(String container, long start, String source, long requests, long timeouts) {
    UpstreamCount u = new UpstreamCount();
    u.source = source;
    u.host = EDGE;
    u.windowStartMs = start;
    u.windowEndMs = start + WINDOW;
    u.requests = requests;
    u.timeouts = timeouts;
    return Observation.of(u, container);
  }

  static Observation drained(String container, long t, String actor) {
    return traffic(container, t, TrafficChange.Action.DRAINED, actor);
  }

  static Observation restored(String container, long t) {
    return traffic(container, t, TrafficChange.Action.RESTORED, "operator:alice");
  }

  private static Observation traffic(String container, long t, TrafficChange.Action action, String actor) {
    TrafficChange c = new TrafficChange();
    c.action = action;
    c.timestampMs = t;
    c.actor = actor;
    c.reason = "";
    return Observation.of(c, container);
  }

  /** A collector's WindowManifest: what {@code host} published for the container and window. */
  static Observation manifest(String container, long start, String host, boolean profile, String... sources) {
    CollectorManifest m = new CollectorManifest();
    m.host = host;
    m.windowStartMs = start;
    m.windowEndMs = start + WINDOW;
    m.profile = profile;
    m.upstreamSources = sources;
    return Observation.of(m, container);
  }

  /**
   * The events as collectors publish them in real time: window by window, each window's data
   * followed by the manifests of the hosts that report the container: {@link #HOST} (profiles),
   * {@link #EDGE} (upstream counts), and any other host a profile window came from.
   */
  static List<Observation> withManifests(List<Observation> events) {
    java.util.TreeMap<Long, List<Observation>> byWindow = new java.util.TreeMap<>();
    for (Observation o : events) {
      byWindow.computeIfAbsent(Math.floorDiv(o.eventTime, WINDOW) * WINDOW, w -> new ArrayList<>()).add(o);
    }
    List<Observation> out = new ArrayList<>();
    java.util.Set<String> hosts = new java.util.TreeSet<>(List.of(HOST, EDGE));
    for (var window : byWindow.entrySet()) {
      String container = window.getValue().get(0).containerId;
      out.addAll(window.getValue());
      for (Observation o : window.getValue()) {
        if (o.kind == Observation.Kind.PROFILE) {
          hosts.add(o.profile.host);
        }
      }
      for (String host : hosts) {
        boolean profile = window.getValue().stream()
            .anyMatch(o -> o.kind == Observation.Kind.PROFILE && o.profile.host.equals(host));
        String[] sources = window.getValue().stream()
            .filter(o -> o.kind == Observation.Kind.UPSTREAM && o.upstream.host.equals(host))
            .map(o -> o.upstream.source).distinct().toArray(String[]::new);
        out.add(manifest(container, window.getKey(), host, profile, sources));
      }
    }
    return out;
  }

  // --- scenarios ----------------------------------------------------------------------------

  /** Five minutes of normal traffic (1000 requests per window) before T0. */
  static List<Observation> baseline(String container) {
    List<Observation> out = new ArrayList<>();
    for (long t = T0 - 5 * MINUTE; t < T0; t += WINDOW) {
      out.add(normalWindow(container, t));
      out.add(upstream(container, t, 1000, 0));
    }
    return out;
  }

  /** Two spike windows at T0 and T0+10s: 200/1000 and 300/900 timeouts, 2 cores. */
  static List<Observation> spike(String container) {
    return List.of(
        profileWindow(container, at(0), HOST, SPIKE_CORES, SPIKE_SHARE, GO_1_14_1),
        upstream(container, at(0), 1000, 200),
        profileWindow(container, at(10), HOST, SPIKE_CORES, SPIKE_SHARE, GO_1_14_1),
        upstream(container, at(10), 900, 300));
  }

  /** From T0+20s on: 5 requests (a drain) then none, and stuck windows, for {@code windows}. */
  static List<Observation> drainedAndStuck(String container, int windows) {
    List<Observation> out = new ArrayList<>();
    for (int i = 0; i < windows; i++) {
      long t = at(20) + i * WINDOW;
      out.add(stuckWindow(container, t));
      out.add(upstream(container, t, i == 0 ? 5 : 0, 0));
    }
    return out;
  }

  /** Baseline, spike, drain at T0+20s and 6 stuck windows: the alert comes at T0+80s. */
  static List<Observation> wedgedIncident(String container) {
    List<Observation> out = new ArrayList<>(baseline(container));
    out.addAll(spike(container));
    out.addAll(drainedAndStuck(container, 6));
    return out;
  }

  // --- harness ------------------------------------------------------------------------------

  Harness harness() throws Exception {
    return harness(OPTIONS);
  }

  Harness harness(DetectorOptions options) throws Exception {
    Harness h = new Harness(options, null);
    toClose.add(h);
    return h;
  }

  /** A fresh detector restored from {@code snapshot}, as after a failure: transient fields are new. */
  Harness restored(OperatorSubtaskState snapshot) throws Exception {
    Harness h = new Harness(OPTIONS, snapshot);
    toClose.add(h);
    return h;
  }

  /** The detector in Flink's keyed operator test harness, with its metrics captured. */
  @SuppressWarnings("try") // close() may throw InterruptedException, as Flink's harness does
  static final class Harness implements AutoCloseable {
    final KeyedOneInputStreamOperatorTestHarness<String, Observation, AlertRecord> flink;
    private final CapturedMetrics metrics = new CapturedMetrics();
    private final MockEnvironment environment;
    private int alertsSeen;

    Harness(DetectorOptions options, OperatorSubtaskState restoreFrom) throws Exception {
      environment = new MockEnvironmentBuilder().setMetricGroup(metrics.taskGroup()).build();
      flink = new KeyedOneInputStreamOperatorTestHarness<>(
          new KeyedProcessOperator<>(new DeadlockDetector(options, RULES)),
          o -> o.containerId, Types.STRING, environment);
      if (restoreFrom != null) {
        flink.initializeState(restoreFrom);
      }
      flink.open();
    }

    OperatorSubtaskState snapshot() throws Exception {
      return flink.snapshot(1L, 1L);
    }

    Harness send(List<Observation> observations) throws Exception {
      for (Observation o : observations) {
        flink.processElement(o, o.eventTime);
      }
      return this;
    }

    Harness send(Observation... observations) throws Exception {
      return send(List.of(observations));
    }

    /** Watermark {@code t - 1}: every window ending at or before t is evaluated. */
    Harness evaluateUntil(long t) throws Exception {
      flink.processWatermark(t - 1);
      return this;
    }

    Harness endOfInput() throws Exception {
      flink.processWatermark(Long.MAX_VALUE);
      return this;
    }

    List<DeadlockAlert> alerts() {
      return flink.extractOutputValues().stream().map(AlertRecord::alert).toList();
    }

    /** Alerts emitted since the last call. */
    List<DeadlockAlert> newAlerts() {
      List<DeadlockAlert> all = alerts();
      List<DeadlockAlert> fresh = all.subList(alertsSeen, all.size());
      alertsSeen = all.size();
      return fresh;
    }

    /** The detector's container-health side output, in the order it was emitted. */
    List<ContainerHealth> health() {
      return flink.getSideOutput(DeadlockDetector.CONTAINER_HEALTH).stream()
          .map(r -> r.getValue().health()).toList();
    }

    int stateEntries() {
      return flink.numKeyedStateEntries();
    }

    int timers() {
      return flink.numEventTimeTimers();
    }

    /** A counter or gauge of the detector, e.g. {@link JobMetrics#ALERTS_OPENED}. */
    long metric(String name) {
      return metrics.value(name);
    }

    /** The gauge of containers last judged to be in {@code state}. */
    long containersIn(DetectorState state) {
      return metrics.value(JobMetrics.DETECTOR_STATE, state.name(), JobMetrics.CONTAINERS_IN_STATE);
    }

    @Override
    public void close() throws Exception {
      flink.close();
      environment.close();
    }
  }
}
