package dev.stallwatch.jobs;

import java.util.Arrays;

/**
 * Keyed state: one suspected incident of a container, from the first spike window through the
 * drain and the stuck windows to the open alert.
 */
public class Episode {

  public enum Phase {
    /** Timeouts spiked; waiting for a drain. */
    SPIKE,
    /** Traffic drained; watching for stuck windows. */
    DRAINED,
    /** The alert is open; watching for recovery. */
    OPEN
  }

  public Phase phase;

  // the spike
  public long spikeStartedAt;
  public long lastSpikeAt;
  public int spikeWindows;
  public double spikeCpuSum;
  public long timeoutsAtSpike;
  public long requestsAtSpike;
  /** Median per-window requests before the spike; the drain threshold is a share of it. */
  public double baselineRequests;
  /** No request history before the spike: the baseline is the spike windows' requests. */
  public long[] spikeRequests;

  // the drain
  public long drainedAt;
  public String drainedBy;
  public boolean explicitDrain;

  // the current run of stuck windows
  public String signatureId;
  public long stuckSince;
  public int stuckWindows;
  public double stuckCpuSum;
  public long stuckMatchedWeightNs;
  public long stuckTotalWeightNs;
  public String host;
  public String pod;
  public String namespace;
  public String runtimeVersion;

  // the open alert
  public String incidentId;
  public byte[] openAlert;
  public int healthyWindows;
  public boolean restorePending;

  public Episode() {}

  static Episode spike(WindowFacts w, double[] history) {
    Episode e = new Episode();
    e.phase = Phase.SPIKE;
    e.spikeStartedAt = w.start;
    e.lastSpikeAt = w.start;
    e.spikeWindows = 1;
    e.spikeCpuSum = w.cpuCores;
    e.timeoutsAtSpike = w.timeouts;
    e.requestsAtSpike = w.requests;
    if (history.length > 0) {
      e.baselineRequests = median(history);
    } else {
      e.spikeRequests = new long[] {w.requests};
      e.baselineRequests = w.requests;
    }
    return e;
  }

  void addSpike(WindowFacts w, int maxSpikeRequests) {
    lastSpikeAt = w.start;
    spikeWindows++;
    spikeCpuSum += w.cpuCores;
    timeoutsAtSpike += w.timeouts;
    requestsAtSpike += w.requests;
    if (spikeRequests != null && spikeRequests.length < maxSpikeRequests) {
      spikeRequests = Arrays.copyOf(spikeRequests, spikeRequests.length + 1);
      spikeRequests[spikeRequests.length - 1] = w.requests;
      baselineRequests = median(Arrays.stream(spikeRequests).asDoubleStream().toArray());
    }
  }

  void drain(long at, String by, boolean explicit) {
    phase = Phase.DRAINED;
    drainedAt = at;
    drainedBy = by;
    explicitDrain = explicit;
  }

  double cpuCoresBeforeDrain() {
    return spikeWindows == 0 ? 0.0 : spikeCpuSum / spikeWindows;
  }

  void resetRun() {
    signatureId = null;
    stuckSince = 0;
    stuckWindows = 0;
    stuckCpuSum = 0;
    stuckMatchedWeightNs = 0;
    stuckTotalWeightNs = 0;
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  }
}
