package dev.stallwatch.incidents;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/** A deadlock alert as a person reads it on a terminal: what, where, when, why we think so. */
public final class AlertReport {
  private static final int STACK_WIDTH = 90;
  private static final int STACK_INDENT = 10;

  private AlertReport() {}

  public static String render(DeadlockAlert open, DeadlockAlert resolvedOrNull) {
    StringBuilder out = new StringBuilder();
    out.append("DEADLOCK ALERT  ").append(open.getSignatureTitle()).append('\n');
    line(out, "incident", open.getIncidentId());
    line(out, "container", open.getContainerId());
    line(out, "host", open.getHost());
    if (open.getPod() != null || open.getNamespace() != null) {
      line(out, "pod", (open.getNamespace() == null ? "" : open.getNamespace() + "/")
          + (open.getPod() == null ? "?" : open.getPod()));
    }
    line(out, "runtime", open.getRuntimeVersion() == null ? "unknown" : open.getRuntimeVersion());
    out.append('\n').append("timeline\n");
    Instant spike = open.getSpikeStartedAt();
    event(out, spike, spike, "latency spike: " + open.getTimeoutsAtSpike() + " timeouts in "
        + open.getRequestsAtSpike() + " requests");
    event(out, spike, open.getDrainedAt(), "drained (" + open.getDrainedBy() + ")");
    event(out, spike, open.getStuckSince(), "stuck: CPU stays up with no traffic, in the signature's stacks");
    event(out, spike, open.getDetectedAt(), "detected: stuck for "
        + Duration.between(open.getStuckSince(), open.getDetectedAt()).toSeconds() + " s");
    if (resolvedOrNull != null && resolvedOrNull.getResolvedAt() != null) {
      event(out, spike, resolvedOrNull.getResolvedAt(), "resolved (" + resolvedOrNull.getResolveReason() + ")");
    }
    out.append('\n');
    line(out, "cpu before drain", String.format(Locale.ROOT, "%.2f cores", open.getCpuCoresBeforeDrain()));
    line(out, "cpu after drain", String.format(Locale.ROOT, "%.2f cores", open.getCpuCoresAfterDrain()));
    line(out, "signature share", String.format(Locale.ROOT, "%.0f%% of samples in %s", 100 * open.getSignatureShare(),
        open.getSignatureId()));
    for (KnownIssue issue : open.getKnownIssues()) {
      String fixed = issue.getFixedIn() == null ? "" : " (fixed in " + issue.getFixedIn() + ")";
      String verdict = issue.getVersionAffected() ? "matches " : "signature of ";
      line(out, "known issue", verdict + issue.getId() + fixed + "  " + issue.getUrl());
    }
    if (open.getRemediation() != null) {
      line(out, "remediation", open.getRemediation());
    }
    out.append('\n').append("top stacks (root;...;leaf, share of CPU after the drain)\n");
    for (WeightedStack stack : open.getTopStacks()) {
      out.append(String.format(Locale.ROOT, "  %5.1f%%  ", 100 * stack.getShare()));
      wrapFrames(out, stack.getFolded());
    }
    return out.toString();
  }

  /** A folded stack on as many lines as it needs, broken after a frame's ';'. */
  private static void wrapFrames(StringBuilder out, String folded) {
    int column = 0;
    String[] frames = folded.split(";", -1);
    for (int i = 0; i < frames.length; i++) {
      String frame = frames[i] + (i < frames.length - 1 ? ";" : "");
      if (column > 0 && column + frame.length() > STACK_WIDTH) {
        out.append('\n').append(" ".repeat(STACK_INDENT));
        column = 0;
      }
      out.append(frame);
      column += frame.length();
    }
    out.append('\n');
  }

  private static void line(StringBuilder out, String label, String value) {
    out.append(String.format(Locale.ROOT, "  %-17s %s%n", label, value));
  }

  private static void event(StringBuilder out, Instant origin, Instant at, String what) {
    long seconds = Duration.between(origin, at).toSeconds();
    out.append(String.format(Locale.ROOT, "  %s  T%+4ds  %s%n", at, seconds, what));
  }
}
