package dev.stallwatch.incidents.query;

import dev.stallwatch.incidents.store.Evidence;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Instant;
import java.util.List;

/**
 * An incident as the store holds it: every field of its deadlock alert, its status and
 * resolution, the evidence, and when the store first and last wrote it.
 *
 * @param pod null when unknown
 * @param namespace null when unknown
 * @param resolvedAt null while OPEN
 * @param resolveReason null while OPEN ({@code healthy-windows}, {@code restored}, {@code silence})
 * @param remediation null when the signature gives none
 * @param createdAt when the store first wrote the incident
 * @param updatedAt when the store last changed it
 */
public record Incident(
    String incidentId,
    IncidentStatus status,
    String containerId,
    String host,
    String pod,
    String namespace,
    String signatureId,
    String signatureTitle,
    Instant spikeStartedAt,
    Instant drainedAt,
    String drainedBy,
    Instant stuckSince,
    Instant detectedAt,
    Instant resolvedAt,
    String resolveReason,
    double cpuCoresBeforeDrain,
    double cpuCoresAfterDrain,
    double signatureShare,
    long timeoutsAtSpike,
    long requestsAtSpike,
    Evidence evidence,
    String remediation,
    Instant createdAt,
    Instant updatedAt) {

  /** The incident's OPEN alert, as the detector sent it: what the alert renderers take. */
  public DeadlockAlert openAlert() {
    return DeadlockAlert.newBuilder()
        .setEventType(AlertEventType.OPEN)
        .setIncidentId(incidentId)
        .setContainerId(containerId)
        .setHost(host)
        .setPod(pod)
        .setNamespace(namespace)
        .setSignatureId(signatureId)
        .setSignatureTitle(signatureTitle)
        .setSpikeStartedAt(spikeStartedAt)
        .setDrainedAt(drainedAt)
        .setDrainedBy(drainedBy)
        .setStuckSince(stuckSince)
        .setDetectedAt(detectedAt)
        .setResolvedAt(null)
        .setResolveReason(null)
        .setCpuCoresBeforeDrain(cpuCoresBeforeDrain)
        .setCpuCoresAfterDrain(cpuCoresAfterDrain)
        .setSignatureShare(signatureShare)
        .setTimeoutsAtSpike(timeoutsAtSpike)
        .setRequestsAtSpike(requestsAtSpike)
        .setTopStacks(evidence.topStacks().stream()
            .map(s -> new WeightedStack(s.folded(), s.weight(), s.share()))
            .toList())
        .setRuntimeVersion(evidence.runtimeVersion())
        .setKnownIssues(evidence.knownIssues().stream()
            .map(i -> new KnownIssue(i.id(), i.url(), i.title(), i.fixedIn(), i.versionAffected()))
            .toList())
        .setRemediation(remediation)
        .build();
  }

  /** The RESOLVED alert, or null while the incident is open. */
  public DeadlockAlert resolvedAlertOrNull() {
    if (status != IncidentStatus.RESOLVED) {
      return null;
    }
    return DeadlockAlert.newBuilder(openAlert())
        .setEventType(AlertEventType.RESOLVED)
        .setResolvedAt(resolvedAt)
        .setResolveReason(resolveReason)
        .build();
  }

  public List<Evidence.Stack> topStacks() {
    return evidence.topStacks();
  }
}
