package dev.stallwatch.jobs.events;

/**
 * What the detector needs of one ProfileWindow: CPU, total sample weight, the weight matching
 * each rule, and the heaviest stacks as evidence. Weights are CPU nanoseconds.
 */
public class ProfileSummary {

  public String host;
  /** Null when the collector did not know it. */
  public String pod;
  public String namespace;
  public String runtimeVersion;

  public long windowStartMs;
  public long windowEndMs;

  /** CPU cores used: cgroup CPU time when {@link #cgroupCpu}, else sample weight, per window length. */
  public double cpuCores;
  public boolean cgroupCpu;
  public long totalWeightNs;
  public long sampleCount;

  /** Rules with matching stacks, and the weight of those stacks (parallel arrays). */
  public String[] matchedRuleIds;
  public long[] matchedWeightNs;

  /** The heaviest stacks, folded ({@code comm;root;...;leaf}), heaviest first (parallel arrays). */
  public String[] stacks;
  public long[] stackWeightNs;

  public ProfileSummary() {}

  public long matchedWeight(String ruleId) {
    for (int i = 0; i < matchedRuleIds.length; i++) {
      if (matchedRuleIds[i].equals(ruleId)) {
        return matchedWeightNs[i];
      }
    }
    return 0L;
  }
}
