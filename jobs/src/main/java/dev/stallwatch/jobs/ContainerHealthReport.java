package dev.stallwatch.jobs;

import dev.stallwatch.jobs.rules.SignatureRule;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;

/**
 * Builds the {@link ContainerHealth} of one evaluated window from the {@link WindowFacts} the
 * detector judged and the episode it left behind, so the dashboards see the detector's own
 * numbers, not a second computation of them.
 */
final class ContainerHealthReport {

  private ContainerHealthReport() {}

  static ContainerHealth of(String containerId, WindowFacts w, Episode ep, long windowSizeMs, SignatureRules rules) {
    String signature = signatureOf(w, ep, rules);
    DetectorState state = stateOf(ep);
    ContainerHealth.Builder health = ContainerHealth.newBuilder()
        .setContainerId(containerId)
        .setHost(orEmpty(w.host))
        .setPod(orEmpty(w.pod))
        .setNamespace(orEmpty(w.namespace))
        .setWindowStartMs(w.start)
        .setWindowEndMs(w.start + windowSizeMs)
        .setCpuCores(w.cpuCores)
        .setRequests(w.requests)
        .setTimeouts(w.timeouts)
        .setSignatureId(orEmpty(signature))
        .setSignatureShare(signature == null ? 0.0 : w.share(signature))
        .setDetectorState(state);
    if (state == DetectorState.ALERTING) {
      health.setIncidentId(orEmpty(ep.incidentId));
    }
    return health.build();
  }

  /** The episode after the window: null (none, or it ended) is healthy. */
  static DetectorState stateOf(Episode ep) {
    if (ep == null) {
      return DetectorState.HEALTHY;
    }
    return switch (ep.phase) {
      case SPIKE -> DetectorState.SPIKING;
      // the phase stays DRAINED through the stuck windows; the run length tells them apart
      case DRAINED -> ep.stuckWindows > 0 ? DetectorState.STUCK : DetectorState.DRAINED;
      case OPEN -> DetectorState.ALERTING;
    };
  }

  /**
   * The signature the episode is about, when it has one, so the share plotted is the one the
   * alert is judged on; else the rule with the largest share of this window, or null.
   */
  private static String signatureOf(WindowFacts w, Episode ep, SignatureRules rules) {
    if (ep != null && ep.signatureId != null) {
      return ep.signatureId;
    }
    String best = null;
    for (SignatureRule rule : rules.rules()) {
      double share = w.share(rule.id());
      if (share > 0 && (best == null || share > w.share(best))) {
        best = rule.id();
      }
    }
    return best;
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
