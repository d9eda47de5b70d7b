package dev.stallwatch.jobs;

import dev.stallwatch.jobs.events.ProfileSummary;
import dev.stallwatch.jobs.events.TrafficChange;
import dev.stallwatch.jobs.events.UpstreamCount;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The measures of one evaluated window, summed over hosts and upstream sources. Not state. */
final class WindowFacts {

  final long start;
  final boolean hasProfile;
  final double cpuCores;
  final long totalWeightNs;
  final Map<String, Long> matchedWeightNs = new HashMap<>();
  final Map<String, Long> stackWeightNs = new LinkedHashMap<>();
  final String host;
  final String pod;
  final String namespace;
  final String runtimeVersion;

  final boolean hasUpstream;
  final long requests;
  final long timeouts;

  final List<TrafficChange> traffic;

  private WindowFacts(long start, PendingWindow pending) {
    this.start = start;
    ProfileSummary[] profiles = pending == null ? new ProfileSummary[0] : pending.profiles.clone();
    // hosts in a fixed order, so the verdict never depends on arrival order
    Arrays.sort(profiles, Comparator.comparing(p -> p.host == null ? "" : p.host));
    this.hasProfile = profiles.length > 0;
    double cpu = 0;
    long total = 0;
    ProfileSummary busiest = null;
    String version = null;
    for (ProfileSummary p : profiles) {
      cpu += p.cpuCores;
      total += p.totalWeightNs;
      for (int i = 0; i < p.matchedRuleIds.length; i++) {
        matchedWeightNs.merge(p.matchedRuleIds[i], p.matchedWeightNs[i], Long::sum);
      }
      for (int i = 0; i < p.stacks.length; i++) {
        stackWeightNs.merge(p.stacks[i], p.stackWeightNs[i], Long::sum);
      }
      if (busiest == null || p.cpuCores > busiest.cpuCores) {
        busiest = p;
      }
      if (version == null) {
        version = p.runtimeVersion;
      }
    }
    this.cpuCores = cpu;
    this.totalWeightNs = total;
    this.host = busiest == null ? null : busiest.host;
    this.pod = busiest == null ? null : busiest.pod;
    this.namespace = busiest == null ? null : busiest.namespace;
    this.runtimeVersion = version;

    UpstreamCount[] upstream = pending == null ? new UpstreamCount[0] : pending.upstream;
    this.hasUpstream = upstream.length > 0;
    long req = 0;
    long tmo = 0;
    for (UpstreamCount u : upstream) {
      req += u.requests;
      tmo += u.timeouts;
    }
    this.requests = req;
    this.timeouts = tmo;

    TrafficChange[] changes = pending == null ? new TrafficChange[0] : pending.traffic.clone();
    Arrays.sort(changes, Comparator.<TrafficChange>comparingLong(t -> t.timestampMs)
        .thenComparing(t -> t.action));
    this.traffic = List.of(changes);
  }

  static WindowFacts of(long start, PendingWindow pending) {
    return new WindowFacts(start, pending);
  }

  boolean hasData() {
    return hasProfile || hasUpstream || !traffic.isEmpty();
  }

  double share(String ruleId) {
    return totalWeightNs == 0 ? 0.0 : matchedWeightNs.getOrDefault(ruleId, 0L) / (double) totalWeightNs;
  }

  /**
   * Requests the container got in this window: the upstream count, or 0 when there is profile
   * data but no upstream count (the proxy stopped sending to it); null when nothing is known.
   */
  Long requestsSeen() {
    if (hasUpstream) {
      return requests;
    }
    return hasProfile ? 0L : null;
  }
}
