package dev.stallwatch.incidents.notify;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import java.util.Locale;

/** The one-line summary and the short description every pager shows for an alert. */
final class AlertText {
  private AlertText() {}

  /** What, where and how sure: "Stuck runtime (go-timer-livelock) in container 3f9c… on node-a (shop/orders-…): …". */
  static String summary(DeadlockAlert alert) {
    StringBuilder text = new StringBuilder("Stuck runtime (");
    text.append(alert.getSignatureId()).append(") in container ")
        .append(alert.getContainerId()).append(" on ").append(alert.getHost());
    String pod = pod(alert);
    if (pod != null) {
      text.append(" (").append(pod).append(')');
    }
    text.append(String.format(Locale.ROOT, ": %.2f CPU cores busy after the drain, %.0f%% of samples in the signature",
        alert.getCpuCoresAfterDrain(), 100 * alert.getSignatureShare()));
    if (alert.getRuntimeVersion() != null) {
      text.append(", ").append(alert.getRuntimeVersion());
    }
    return text.toString();
  }

  /** The signature's title, the known issues the runtime matches and what to do. */
  static String description(DeadlockAlert alert) {
    StringBuilder text = new StringBuilder(alert.getSignatureTitle());
    for (KnownIssue issue : alert.getKnownIssues()) {
      text.append(issue.getVersionAffected() ? "\nMatches " : "\nSignature of ").append(issue.getId())
          .append(" (").append(issue.getTitle()).append(')');
      if (issue.getFixedIn() != null) {
        text.append(", fixed in ").append(issue.getFixedIn());
      }
      text.append(": ").append(issue.getUrl());
    }
    if (alert.getRemediation() != null) {
      text.append("\nRemediation: ").append(alert.getRemediation());
    }
    return text.toString();
  }

  /** namespace/pod, the pod alone, or null when the collector knew neither. */
  static String pod(DeadlockAlert alert) {
    if (alert.getPod() == null) {
      return alert.getNamespace() == null ? null : alert.getNamespace() + "/?";
    }
    return alert.getNamespace() == null ? alert.getPod() : alert.getNamespace() + "/" + alert.getPod();
  }

  /** Cuts {@code text} to {@code max} characters, marking the cut. */
  static String truncate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max - 1) + "…";
  }
}
