package dev.stallwatch.incidents;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Instant;

/**
 * The JSON form of a {@link DeadlockAlert}: the Avro field names, timestamps as ISO-8601 UTC
 * strings, absent optional fields as JSON null. One object per incident.
 */
public final class AlertJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private AlertJson() {}

  /**
   * The incident as of its OPEN alert, with {@code status} and, when a RESOLVED alert for it is
   * given, its resolution.
   */
  public static ObjectNode incident(DeadlockAlert open, DeadlockAlert resolvedOrNull) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("incidentId", open.getIncidentId());
    json.put("status", resolvedOrNull == null ? "OPEN" : "RESOLVED");
    json.put("containerId", open.getContainerId());
    json.put("host", open.getHost());
    json.put("pod", open.getPod());
    json.put("namespace", open.getNamespace());
    json.put("signatureId", open.getSignatureId());
    json.put("signatureTitle", open.getSignatureTitle());
    json.put("spikeStartedAt", iso(open.getSpikeStartedAt()));
    json.put("drainedAt", iso(open.getDrainedAt()));
    json.put("drainedBy", open.getDrainedBy());
    json.put("stuckSince", iso(open.getStuckSince()));
    json.put("detectedAt", iso(open.getDetectedAt()));
    json.put("resolvedAt", resolvedOrNull == null ? null : iso(resolvedOrNull.getResolvedAt()));
    json.put("resolveReason", resolvedOrNull == null ? null : resolvedOrNull.getResolveReason());
    json.put("cpuCoresBeforeDrain", round(open.getCpuCoresBeforeDrain()));
    json.put("cpuCoresAfterDrain", round(open.getCpuCoresAfterDrain()));
    json.put("signatureShare", round(open.getSignatureShare()));
    json.put("timeoutsAtSpike", open.getTimeoutsAtSpike());
    json.put("requestsAtSpike", open.getRequestsAtSpike());
    ArrayNode stacks = json.putArray("topStacks");
    for (WeightedStack stack : open.getTopStacks()) {
      stacks.addObject().put("folded", stack.getFolded()).put("weight", stack.getWeight())
          .put("share", round(stack.getShare()));
    }
    json.put("runtimeVersion", open.getRuntimeVersion());
    ArrayNode issues = json.putArray("knownIssues");
    for (KnownIssue issue : open.getKnownIssues()) {
      issues.addObject().put("id", issue.getId()).put("url", issue.getUrl()).put("title", issue.getTitle())
          .put("fixedIn", issue.getFixedIn()).put("versionAffected", issue.getVersionAffected());
    }
    json.put("remediation", open.getRemediation());
    return json;
  }

  public static String line(DeadlockAlert open, DeadlockAlert resolvedOrNull) {
    return incident(open, resolvedOrNull).toString();
  }

  static String iso(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  private static double round(double value) {
    return Math.round(value * 1000.0) / 1000.0;
  }
}
