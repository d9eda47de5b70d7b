package dev.stallwatch.incidents.query;

import dev.stallwatch.incidents.store.Evidence;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** Incidents as CSV (RFC 4180): a header row, then one row per incident; no evidence stacks. */
public final class IncidentCsv {
  public static final List<String> HEADER = List.of(
      "incident_id", "status", "detected_at", "container_id", "host", "pod", "namespace", "signature_id",
      "runtime_version", "known_issues", "spike_started_at", "drained_at", "resolved_at", "resolve_reason",
      "cpu_cores_before_drain", "cpu_cores_after_drain", "signature_share", "timeouts_at_spike");

  private IncidentCsv() {}

  public static String header() {
    return String.join(",", HEADER);
  }

  public static String row(Incident i) {
    return List.of(
            i.incidentId(), i.status().name(), iso(i.detectedAt()), i.containerId(), i.host(), text(i.pod()),
            text(i.namespace()), i.signatureId(), text(i.evidence().runtimeVersion()),
            i.evidence().knownIssues().stream().map(Evidence.Issue::id).collect(Collectors.joining(" ")),
            iso(i.spikeStartedAt()), iso(i.drainedAt()), iso(i.resolvedAt()), text(i.resolveReason()),
            number(i.cpuCoresBeforeDrain()), number(i.cpuCoresAfterDrain()), number(i.signatureShare()),
            Long.toString(i.timeoutsAtSpike()))
        .stream()
        .map(IncidentCsv::field)
        .collect(Collectors.joining(","));
  }

  /** Quotes a field when it holds a comma, a quote or a line break; quotes inside are doubled. */
  static String field(String value) {
    if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) {
      return value;
    }
    return '"' + value.replace("\"", "\"\"") + '"';
  }

  private static String text(String value) {
    return value == null ? "" : value;
  }

  private static String iso(Instant instant) {
    return instant == null ? "" : instant.toString();
  }

  private static String number(double value) {
    return String.format(Locale.ROOT, "%.3f", value);
  }
}
