package dev.stallwatch.jobs;

import dev.stallwatch.jobs.events.Observation;
import dev.stallwatch.jobs.events.TrafficChange;
import dev.stallwatch.jobs.rules.IssueReference;
import dev.stallwatch.jobs.rules.SignatureRule;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import dev.stallwatch.schemas.v1.DetectorState;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per container: timeouts spike, traffic is drained, and the CPU keeps burning in a known
 * signature for {@code stuck.sustain} — then one OPEN alert; later one RESOLVED.
 *
 * <p>Every window is evaluated, with or without data, in order. With early evaluation on (an
 * unbounded job), the next window is evaluated as soon as it is complete: every collector host
 * that reported for the container in the previous window sent its {@code WindowManifest} for this
 * one, and everything the manifests list (a host's profile window, upstream sources' windows) has
 * arrived. ONE chained event-time timer per container, at the end of the next window to evaluate,
 * is the backstop for collectors that went silent. A profile or upstream window that arrives after
 * its window was evaluated early is counted ({@link JobMetrics#LATE_AFTER_EARLY_EVALUATION}) and
 * left out, so a verdict is never taken back and no alert is sent twice; a late traffic event
 * still counts, in the next window, with its own timestamp (it may still drain or resolve).
 * All numbers come from {@link DetectorOptions}, all signatures from {@link SignatureRules}.
 */
public class DeadlockDetector extends KeyedProcessFunction<String, Observation, AlertRecord> {

  private static final Logger LOG = LoggerFactory.getLogger(DeadlockDetector.class);

  static final String RESOLVED_HEALTHY = "healthy-windows";
  static final String RESOLVED_RESTORED = "restored";
  static final String RESOLVED_SILENCE = "silence";
  static final String DRAINED_BY_REQUESTS = "requests";
  static final String DRAINED_BY_EVENT = "traffic-event";

  /**
   * Side output: one {@link dev.stallwatch.schemas.v1.ContainerHealth} per evaluated window
   * with profile or upstream data, for dashboards.
   */
  public static final OutputTag<HealthRecord> CONTAINER_HEALTH =
      new OutputTag<>("container-health", TypeInformation.of(HealthRecord.class));

  private final DetectorOptions options;
  private final SignatureRules rules;
  private final boolean earlyEvaluation;

  /** Start of the next window to evaluate; its end - 1 is the one registered timer. */
  private transient ValueState<Long> nextWindow;
  /** Start of the latest evaluated window that had any data (for resolve.silence). */
  private transient ValueState<Long> lastActiveWindow;
  private transient MapState<Long, PendingWindow> pendingWindows;
  /** Requests per window start, for the drain baseline; only drain.baseline of it. */
  private transient MapState<Long, Long> requestHistory;
  private transient ValueState<Episode> episode;
  /** Folded stack -> weight over the current run of stuck windows (alert evidence). */
  private transient MapState<String, Long> stuckStacks;
  /** Windows starting before this were evaluated (early or by the watermark). */
  private transient ValueState<Long> evaluatedBefore;
  /** Collector host -> latest window it sent a manifest for: the hosts a window waits for. */
  private transient MapState<String, Long> collectorHosts;

  private transient Counter alertsOpened;
  private transient Counter alertsResolved;
  private transient Counter lateRecordsDropped;
  private transient Counter windowsEvaluatedEarly;
  private transient Counter lateAfterEarlyEvaluation;
  /**
   * Per-key, yet no keyed state: it feeds the gauges only, never a verdict, and is rebuilt after
   * a restore as windows are evaluated (an up/down counter would go negative there instead).
   */
  private transient TrackedContainers containers;

  /** With early evaluation: an unbounded job's detector. */
  public DeadlockDetector(DetectorOptions options, SignatureRules rules) {
    this(options, rules, true);
  }

  /**
   * @param earlyEvaluation false: windows are evaluated only when the watermark passes them (a
   *     bounded replay, whose verdicts must not depend on the order records are read in)
   */
  public DeadlockDetector(DetectorOptions options, SignatureRules rules, boolean earlyEvaluation) {
    this.options = Objects.requireNonNull(options, "options");
    this.rules = Objects.requireNonNull(rules, "rules");
    this.earlyEvaluation = earlyEvaluation;
  }

  @Override
  public void open(OpenContext openContext) {
    nextWindow = getRuntimeContext().getState(new ValueStateDescriptor<>("next-window", Types.LONG));
    lastActiveWindow =
        getRuntimeContext().getState(new ValueStateDescriptor<>("last-active-window", Types.LONG));
    pendingWindows = getRuntimeContext().getMapState(
        new MapStateDescriptor<>("pending-windows", Long.class, PendingWindow.class));
    requestHistory = getRuntimeContext().getMapState(
        new MapStateDescriptor<>("request-history", Types.LONG, Types.LONG));
    episode = getRuntimeContext().getState(new ValueStateDescriptor<>("episode", Episode.class));
    stuckStacks = getRuntimeContext().getMapState(
        new MapStateDescriptor<>("stuck-stacks", Types.STRING, Types.LONG));
    evaluatedBefore =
        getRuntimeContext().getState(new ValueStateDescriptor<>("evaluated-before", Types.LONG));
    collectorHosts = getRuntimeContext().getMapState(
        new MapStateDescriptor<>("collector-hosts", Types.STRING, Types.LONG));

    MetricGroup metrics = getRuntimeContext().getMetricGroup();
    alertsOpened = metrics.counter(JobMetrics.ALERTS_OPENED);
    alertsResolved = metrics.counter(JobMetrics.ALERTS_RESOLVED);
    lateRecordsDropped = metrics.counter(JobMetrics.LATE_RECORDS_DROPPED);
    windowsEvaluatedEarly = metrics.counter(JobMetrics.WINDOWS_EVALUATED_EARLY);
    lateAfterEarlyEvaluation = metrics.counter(JobMetrics.LATE_AFTER_EARLY_EVALUATION);
    containers = new TrackedContainers();
    metrics.gauge(JobMetrics.CONTAINERS_TRACKED, (Gauge<Integer>) containers::tracked);
    for (DetectorState state : TrackedContainers.STATES) {
      // a key/value group: one metric with a detector_state label, not five metric names
      metrics.addGroup(JobMetrics.DETECTOR_STATE, state.name())
          .gauge(JobMetrics.CONTAINERS_IN_STATE, (Gauge<Integer>) () -> containers.inState(state));
    }
  }

  @Override
  public void processElement(Observation o, Context ctx, Collector<AlertRecord> out) throws Exception {
    long size = options.windowSizeMs();
    long window = windowStart(o.eventTime);
    if (window + size - 1 <= ctx.timerService().currentWatermark()) {
      // its window was evaluated already (or would have been)
      lateRecordsDropped.inc();
      return;
    }
    Long evaluated = evaluatedBefore.value();
    if (evaluated != null && window < evaluated) {
      lateForEarlyEvaluation(o, window, ctx);
      return;
    }
    Long next = nextWindow.value();
    if (next == null && o.kind == Observation.Kind.MANIFEST && o.manifest.isEmpty()) {
      return; // a collector still reporting a container we no longer track: nothing to judge
    }
    containers.seen(ctx.getCurrentKey());
    if (next == null) {
      schedule(ctx, window);
    } else if (window < next) {
      // only before the first evaluation: an earlier window than the first record's
      ctx.timerService().deleteEventTimeTimer(next + size - 1);
      schedule(ctx, window);
    }
    PendingWindow pending = pendingWindows.get(window);
    if (pending == null) {
      pending = new PendingWindow();
    }
    pending.add(o);
    pendingWindows.put(window, pending);
    if (earlyEvaluation) {
      evaluateComplete(ctx, out);
    }
  }

  /**
   * A record for a window evaluated early, before the watermark passed it: a manifest still tells
   * which hosts report; a traffic event moves to the next window (a drain or restore keeps its
   * own timestamp); profile and upstream windows are counted and left out.
   */
  private void lateForEarlyEvaluation(Observation o, long window, Context ctx) throws Exception {
    switch (o.kind) {
      case MANIFEST -> noteHost(o.manifest.host, window);
      case TRAFFIC -> {
        Long next = nextWindow.value();
        if (next == null) {
          schedule(ctx, evaluatedBefore.value());
          next = nextWindow.value();
        }
        PendingWindow pending = pendingWindows.get(next);
        if (pending == null) {
          pending = new PendingWindow();
        }
        pending.add(o);
        pendingWindows.put(next, pending);
        containers.seen(ctx.getCurrentKey());
      }
      default -> lateAfterEarlyEvaluation.inc();
    }
  }

  /** Evaluates the next windows while they are complete, and moves the backstop timer after them. */
  private void evaluateComplete(Context ctx, Collector<AlertRecord> out) throws Exception {
    Long next = nextWindow.value();
    if (next == null) {
      return;
    }
    long window = next;
    while (isComplete(window)) {
      windowsEvaluatedEarly.inc();
      Long following = evaluate(window, ctx.getCurrentKey(), ctx, out);
      if (following == null) {
        return; // the key was cleaned up, its timer with it
      }
      window = following;
    }
    if (window != next) {
      ctx.timerService().deleteEventTimeTimer(next + options.windowSizeMs() - 1);
      schedule(ctx, window);
    }
  }

  /**
   * Every host that reported for the container in the previous window (or since) sent its
   * manifest for this one, at least one did, and everything they list has arrived.
   */
  private boolean isComplete(long window) throws Exception {
    PendingWindow pending = pendingWindows.get(window);
    if (pending == null || pending.manifests.length == 0 || !pending.hasEverythingListed()) {
      return false;
    }
    long previous = window - options.windowSizeMs();
    for (Map.Entry<String, Long> host : collectorHosts.entries()) {
      if (host.getValue() >= previous && !pending.hasManifestFrom(host.getKey())) {
        return false;
      }
    }
    return true;
  }

  private void noteHost(String host, long window) throws Exception {
    Long last = collectorHosts.get(host);
    if (last == null || last < window) {
      collectorHosts.put(host, window);
    }
  }

  /** After evaluating {@code window}: hosts that sent nothing for it or the one before are no longer waited for. */
  private void rememberHosts(long window, PendingWindow pending) throws Exception {
    if (pending != null) {
      for (var m : pending.manifests) {
        noteHost(m.host, window);
      }
    }
    List<String> gone = new ArrayList<>();
    for (Map.Entry<String, Long> host : collectorHosts.entries()) {
      if (host.getValue() < window - options.windowSizeMs()) {
        gone.add(host.getKey());
      }
    }
    for (String host : gone) {
      collectorHosts.remove(host);
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<AlertRecord> out) throws Exception {
    long size = options.windowSizeMs();
    long watermark = ctx.timerService().currentWatermark();
    long window = nextWindow.value();
    while (true) {
      Long next = evaluate(window, ctx.getCurrentKey(), ctx, out);
      if (next == null) {
        return; // the key was cleaned up
      }
      window = next;
      if (watermark == Long.MAX_VALUE && pendingWindows.isEmpty()) {
        // end of input and no later window has data: the input ending is not silence
        cleanUp(ctx);
        return;
      }
      if (window + size - 1 > watermark) {
        break;
      }
    }
    schedule(ctx, window);
    if (earlyEvaluation) {
      // the hosts the watermark gave up on no longer hold back the windows after it
      evaluateComplete(ctx, out);
    }
  }

  /**
   * Evaluates one window. Returns the start of the next window to evaluate, or null when the
   * key's state was cleared.
   */
  private Long evaluate(long start, String containerId, Context ctx, Collector<AlertRecord> out)
      throws Exception {
    long size = options.windowSizeMs();
    PendingWindow pending = pendingWindows.get(start);
    if (pending != null) {
      pendingWindows.remove(start);
    }
    evaluatedBefore.update(start + size);
    rememberHosts(start, pending);
    WindowFacts w = WindowFacts.of(start, pending);
    Episode ep = episode.value();

    Long lastActive = lastActiveWindow.value();
    if (w.hasData() || lastActive == null) {
      lastActiveWindow.update(start);
    } else if (start - lastActive >= options.resolveSilenceMs()) {
      if (ep != null && ep.phase == Episode.Phase.OPEN) {
        resolve(ep, RESOLVED_SILENCE, start + size, out);
      }
      return startOver(ctx);
    }

    if (ep != null && ep.phase == Episode.Phase.OPEN) {
      if (followOpen(ep, w, out)) {
        reportHealth(containerId, w, null, ctx); // resolved: healthy again
        return startOver(ctx);
      }
      episode.update(ep);
    } else {
      ep = detect(ep, w, containerId, out);
      if (ep == null) {
        episode.clear();
      } else {
        episode.update(ep);
      }
    }
    containers.judged(containerId, ContainerHealthReport.stateOf(ep));
    reportHealth(containerId, w, ep, ctx);
    rememberRequests(w);
    return start + size;
  }

  /** The window as the detector judged it, for dashboards; traffic events alone are no window. */
  private void reportHealth(String containerId, WindowFacts w, Episode ep, Context ctx) {
    if (w.hasProfile || w.hasUpstream) {
      ctx.output(CONTAINER_HEALTH,
          HealthRecord.of(ContainerHealthReport.of(containerId, w, ep, options.windowSizeMs(), rules)));
    }
  }

  /**
   * After a RESOLVED or resolve.silence: forget the container (all state and the timer). Records
   * already here for later windows (ahead of the watermark, or a bounded run evaluated at its
   * end) start it afresh; returns the first of those windows, or null.
   */
  private Long startOver(Context ctx) throws Exception {
    Long later = null;
    List<Long> manifestsOnly = new ArrayList<>();
    for (Map.Entry<Long, PendingWindow> e : pendingWindows.entries()) {
      if (!e.getValue().hasData()) {
        manifestsOnly.add(e.getKey()); // a collector still reporting is no reason to start again
      } else {
        later = later == null ? e.getKey() : Math.min(later, e.getKey());
      }
    }
    for (Long window : manifestsOnly) {
      pendingWindows.remove(window);
    }
    if (later == null) {
      cleanUp(ctx);
      return null;
    }
    episode.clear();
    requestHistory.clear();
    stuckStacks.clear();
    lastActiveWindow.clear();
    // no episode any more; its next window says more
    containers.judged(ctx.getCurrentKey(), DetectorState.HEALTHY);
    return later;
  }

  /** Before an alert: spike → drain → stuck windows → OPEN. Returns the episode, or null. */
  private Episode detect(Episode ep, WindowFacts w, String containerId, Collector<AlertRecord> out)
      throws Exception {
    long size = options.windowSizeMs();
    if (ep != null && expired(ep, w.start)) {
      LOG.debug("{}: episode from spike at {} expired", containerId, ep.spikeStartedAt);
      ep = endEpisode();
    }

    boolean spike = isSpike(w);
    if (spike && ep == null) {
      ep = Episode.spike(w, baselineBefore(w.start));
    } else if (spike && ep.phase == Episode.Phase.SPIKE) {
      ep.addSpike(w, maxBaselineWindows());
    }

    for (TrafficChange t : w.traffic) {
      if (ep == null) {
        continue; // a drain without a spike is maintenance, not an incident
      }
      if (t.action == TrafficChange.Action.RESTORED) {
        // traffic is back before any alert: the container was not wedged for good
        ep = endEpisode();
      } else if (ep.phase == Episode.Phase.SPIKE && t.timestampMs >= ep.spikeStartedAt) {
        ep.drain(t.timestampMs, t.actor == null || t.actor.isEmpty() ? DRAINED_BY_EVENT : t.actor, true);
      } else if (ep.phase == Episode.Phase.DRAINED) {
        ep.explicitDrain = true;
      }
    }
    if (ep == null) {
      return null;
    }

    double threshold = options.drainMaxRequestRatio() * ep.baselineRequests;
    Long requests = w.requestsSeen();
    if (ep.phase == Episode.Phase.SPIKE) {
      if (!spike && requests != null && requests <= threshold) {
        ep.drain(w.start, DRAINED_BY_REQUESTS, false);
      }
    } else if (!ep.explicitDrain && w.hasUpstream && w.requests > threshold) {
      // requests came back without anyone draining explicitly: a dip, not a drain
      return endEpisode();
    }

    if (ep.phase == Episode.Phase.DRAINED && w.start >= ep.drainedAt) {
      trackStuck(ep, w, containerId, size, out);
    }
    return ep;
  }

  private boolean expired(Episode ep, long start) {
    long maxDelay = options.drainMaxDelayMs();
    return switch (ep.phase) {
      case SPIKE -> start >= ep.lastSpikeAt + options.windowSizeMs() + maxDelay;
      // drained but not stuck within the same time: it recovered or never was wedged
      case DRAINED -> ep.stuckWindows == 0 && start >= ep.drainedAt + maxDelay;
      case OPEN -> false;
    };
  }

  private Episode endEpisode() throws Exception {
    stuckStacks.clear();
    return null;
  }

  private boolean isSpike(WindowFacts w) {
    return w.hasUpstream
        && w.timeouts >= options.spikeMinTimeouts()
        && (w.requests == 0 || w.timeouts / (double) w.requests >= options.spikeMinTimeoutRatio());
  }

  private void trackStuck(Episode ep, WindowFacts w, String containerId, long size, Collector<AlertRecord> out)
      throws Exception {
    SignatureRule rule = stuckRule(ep, w);
    if (rule == null || !rule.id().equals(ep.signatureId)) {
      if (ep.stuckWindows > 0) {
        ep.resetRun();
        stuckStacks.clear();
      }
      if (rule == null) {
        return;
      }
    }
    if (ep.stuckWindows == 0) {
      ep.signatureId = rule.id();
      ep.stuckSince = w.start;
    }
    ep.stuckWindows++;
    ep.stuckCpuSum += w.cpuCores;
    ep.stuckMatchedWeightNs += w.matchedWeightNs.getOrDefault(rule.id(), 0L);
    ep.stuckTotalWeightNs += w.totalWeightNs;
    ep.host = w.host;
    ep.pod = w.pod;
    ep.namespace = w.namespace;
    if (w.runtimeVersion != null) {
      ep.runtimeVersion = w.runtimeVersion;
    }
    for (Map.Entry<String, Long> stack : w.stackWeightNs.entrySet()) {
      Long sum = stuckStacks.get(stack.getKey());
      stuckStacks.put(stack.getKey(), (sum == null ? 0L : sum) + stack.getValue());
    }
    if (ep.stuckWindows >= options.stuckWindowsToAlert()) {
      open(ep, rule, containerId, w.start + size, out);
    }
  }

  /** The rule this window is stuck in, or null when it is not stuck. */
  private SignatureRule stuckRule(Episode ep, WindowFacts w) {
    if (!w.hasProfile
        || w.cpuCores < options.stuckMinCores()
        || w.cpuCores < options.stuckMinCpuRatio() * ep.cpuCoresBeforeDrain()) {
      return null;
    }
    if (ep.stuckWindows > 0) {
      SignatureRule current = rules.byId(ep.signatureId).orElse(null);
      if (current != null && w.share(current.id()) >= current.minShare()) {
        return current; // keep the run's signature while it holds
      }
    }
    SignatureRule best = null;
    for (SignatureRule rule : rules.rules()) {
      double share = w.share(rule.id());
      if (share >= rule.minShare() && (best == null || share > w.share(best.id()))) {
        best = rule;
      }
    }
    return best;
  }

  private void open(Episode ep, SignatureRule rule, String containerId, long detectedAt, Collector<AlertRecord> out)
      throws Exception {
    DeadlockAlert alert = DeadlockAlert.newBuilder()
        .setEventType(AlertEventType.OPEN)
        .setIncidentId(incidentId(containerId, ep.drainedAt, rule.id()))
        .setContainerId(containerId)
        .setHost(ep.host == null ? "" : ep.host)
        .setPod(ep.pod)
        .setNamespace(ep.namespace)
        .setSignatureId(rule.id())
        .setSignatureTitle(rule.title())
        .setSpikeStartedAt(Instant.ofEpochMilli(ep.spikeStartedAt))
        .setDrainedAt(Instant.ofEpochMilli(ep.drainedAt))
        .setDrainedBy(ep.drainedBy)
        .setStuckSince(Instant.ofEpochMilli(ep.stuckSince))
        .setDetectedAt(Instant.ofEpochMilli(detectedAt))
        .setResolvedAt(null)
        .setResolveReason(null)
        .setCpuCoresBeforeDrain(ep.cpuCoresBeforeDrain())
        .setCpuCoresAfterDrain(ep.stuckCpuSum / ep.stuckWindows)
        .setSignatureShare(ep.stuckTotalWeightNs == 0 ? 0.0
            : ep.stuckMatchedWeightNs / (double) ep.stuckTotalWeightNs)
        .setTimeoutsAtSpike(ep.timeoutsAtSpike)
        .setRequestsAtSpike(ep.requestsAtSpike)
        .setTopStacks(topStacks(ep.stuckTotalWeightNs))
        .setRuntimeVersion(ep.runtimeVersion)
        .setKnownIssues(knownIssues(rule, ep.runtimeVersion))
        .setRemediation(rule.remediation())
        .build();
    ep.phase = Episode.Phase.OPEN;
    ep.incidentId = alert.getIncidentId();
    ep.openAlert = AlertRecord.encode(alert);
    ep.healthyWindows = 0;
    ep.restorePending = false;
    stuckStacks.clear();
    alertsOpened.inc();
    LOG.info("{}: deadlock alert {} opened ({}, {} cores after the drain)", containerId,
        alert.getIncidentId(), rule.id(), String.format("%.2f", alert.getCpuCoresAfterDrain()));
    out.collect(AlertRecord.of(alert));
  }

  /** After OPEN: true when the alert resolved. */
  private boolean followOpen(Episode ep, WindowFacts w, Collector<AlertRecord> out) {
    long end = w.start + options.windowSizeMs();
    for (TrafficChange t : w.traffic) {
      if (t.action == TrafficChange.Action.RESTORED) {
        ep.restorePending = true;
      }
    }
    if (!w.hasProfile) {
      // no profile data says nothing about the CPU: neither healthy nor stuck (a container
      // that went away resolves through resolve.silence)
      return false;
    }
    SignatureRule rule = rules.byId(ep.signatureId).orElse(null);
    boolean healthyCpu = w.cpuCores < options.stuckMinCores()
        || rule == null
        || w.share(rule.id()) < rule.minShare();
    boolean stuck = !healthyCpu && w.cpuCores >= options.stuckMinCpuRatio() * ep.cpuCoresBeforeDrain();
    if (ep.restorePending && healthyCpu) {
      resolve(ep, RESOLVED_RESTORED, end, out);
      return true;
    }
    // traffic restored to a container that still spins does not end the incident
    ep.restorePending = false;
    if (stuck) {
      ep.healthyWindows = 0;
      return false;
    }
    ep.healthyWindows++;
    if (ep.healthyWindows >= options.resolveHealthyWindows()) {
      resolve(ep, RESOLVED_HEALTHY, end, out);
      return true;
    }
    return false;
  }

  private void resolve(Episode ep, String reason, long resolvedAt, Collector<AlertRecord> out) {
    DeadlockAlert alert = AlertRecord.decode(ep.openAlert);
    alert.setEventType(AlertEventType.RESOLVED);
    alert.setResolvedAt(Instant.ofEpochMilli(resolvedAt));
    alert.setResolveReason(reason);
    alertsResolved.inc();
    LOG.info("{}: deadlock alert {} resolved ({})", alert.getContainerId(), alert.getIncidentId(), reason);
    out.collect(AlertRecord.of(alert));
  }

  private List<WeightedStack> topStacks(long totalWeightNs) throws Exception {
    List<Map.Entry<String, Long>> stacks = new ArrayList<>();
    for (Map.Entry<String, Long> e : stuckStacks.entries()) {
      stacks.add(Map.entry(e.getKey(), e.getValue()));
    }
    stacks.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
        .thenComparing(Map.Entry.comparingByKey()));
    List<WeightedStack> top = new ArrayList<>();
    for (Map.Entry<String, Long> e : stacks.subList(0, Math.min(options.topStacks(), stacks.size()))) {
      top.add(new WeightedStack(e.getKey(), e.getValue(),
          totalWeightNs == 0 ? 0.0 : e.getValue() / (double) totalWeightNs));
    }
    return top;
  }

  /**
   * The rule's references: affected when the version is listed; versionAffected=false when the
   * version is unknown; none when the version is known and not affected (then the signature
   * matched some other bug).
   */
  static List<KnownIssue> knownIssues(SignatureRule rule, String runtimeVersion) {
    if (runtimeVersion != null && !rule.affects(runtimeVersion)) {
      return List.of();
    }
    boolean affected = rule.affects(runtimeVersion);
    List<KnownIssue> issues = new ArrayList<>();
    for (IssueReference ref : rule.references()) {
      issues.add(new KnownIssue(ref.id(), ref.url(), ref.title(), rule.fixedIn(), affected));
    }
    return issues;
  }

  /** Deterministic, so a replay or a restart never pages twice for one incident. */
  public static String incidentId(String containerId, long drainedAt, String signatureId) {
    String name = "stallwatch/deadlock/v1|" + containerId + "|" + drainedAt + "|" + signatureId;
    return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
  }

  private double[] baselineBefore(long spikeStart) throws Exception {
    List<Double> values = new ArrayList<>();
    for (Map.Entry<Long, Long> e : requestHistory.entries()) {
      if (e.getKey() < spikeStart && e.getKey() >= spikeStart - options.drainBaselineMs()) {
        values.add(e.getValue().doubleValue());
      }
    }
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private void rememberRequests(WindowFacts w) throws Exception {
    if (w.hasUpstream) {
      requestHistory.put(w.start, w.requests);
    }
    long oldest = w.start + options.windowSizeMs() - options.drainBaselineMs();
    List<Long> stale = new ArrayList<>();
    for (Long start : requestHistory.keys()) {
      if (start < oldest) {
        stale.add(start);
      }
    }
    for (Long start : stale) {
      requestHistory.remove(start);
    }
  }

  private int maxBaselineWindows() {
    return (int) Math.max(1, options.drainBaselineMs() / options.windowSizeMs());
  }

  private void schedule(Context ctx, long window) throws Exception {
    nextWindow.update(window);
    ctx.timerService().registerEventTimeTimer(window + options.windowSizeMs() - 1);
  }

  private long windowStart(long timestamp) {
    return Math.floorDiv(timestamp, options.windowSizeMs()) * options.windowSizeMs();
  }

  /** Removes every piece of state of the key and its timer, together. */
  private void cleanUp(Context ctx) throws Exception {
    Long next = nextWindow.value();
    if (next != null) {
      ctx.timerService().deleteEventTimeTimer(next + options.windowSizeMs() - 1);
    }
    containers.forget(ctx.getCurrentKey());
    nextWindow.clear();
    lastActiveWindow.clear();
    pendingWindows.clear();
    requestHistory.clear();
    episode.clear();
    stuckStacks.clear();
    evaluatedBefore.clear();
    collectorHosts.clear();
  }
}
