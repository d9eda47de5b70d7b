package dev.stallwatch.incidents.store;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What an alert must be before it is stored: numbers finite and in range (no NaN stored as 0.0,
 * no 9.2e18 as a CPU figure), timestamps between 2000 and a day ahead of now, strings bounded.
 * A record that breaks any of it is dead-lettered with {@link #problem}'s line.
 */
public final class AlertValidator {
  static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");
  static final Duration MAX_AHEAD = Duration.ofDays(1);
  /** CPU of one container: no host has more cores. */
  static final double MAX_CORES = 4096;
  static final int MAX_ID_CHARS = 256;
  static final int MAX_TEXT_CHARS = 4096;
  static final int MAX_STACKS = 1000;
  static final int MAX_FOLDED_CHARS = 64 * 1024;

  private final Clock clock;

  public AlertValidator(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Null when the alert may be stored, else one line saying what is wrong. */
  public String problem(DeadlockAlert a) {
    Instant latest = clock.instant().plus(MAX_AHEAD);
    String p = firstOf(
        id("incidentId", a.getIncidentId()), id("containerId", a.getContainerId()), id("host", a.getHost()),
        id("signatureId", a.getSignatureId()), text("signatureTitle", a.getSignatureTitle()),
        text("drainedBy", a.getDrainedBy()),
        time("spikeStartedAt", a.getSpikeStartedAt(), latest), time("drainedAt", a.getDrainedAt(), latest),
        time("stuckSince", a.getStuckSince(), latest), time("detectedAt", a.getDetectedAt(), latest),
        a.getResolvedAt() == null ? null : time("resolvedAt", a.getResolvedAt(), latest),
        cores("cpuCoresBeforeDrain", a.getCpuCoresBeforeDrain()),
        cores("cpuCoresAfterDrain", a.getCpuCoresAfterDrain()),
        share("signatureShare", a.getSignatureShare()),
        count("timeoutsAtSpike", a.getTimeoutsAtSpike()), count("requestsAtSpike", a.getRequestsAtSpike()));
    if (p != null) {
      return p;
    }
    if (a.getTopStacks().size() > MAX_STACKS) {
      return "topStacks has " + a.getTopStacks().size() + " stacks: at most " + MAX_STACKS;
    }
    for (int i = 0; i < a.getTopStacks().size(); i++) {
      WeightedStack s = a.getTopStacks().get(i);
      p = firstOf(count("topStacks[" + i + "].weight", s.getWeight()), share("topStacks[" + i + "].share", s.getShare()),
          s.getFolded().length() > MAX_FOLDED_CHARS
              ? "topStacks[" + i + "].folded is longer than " + MAX_FOLDED_CHARS + " characters" : null);
      if (p != null) {
        return p;
      }
    }
    for (int i = 0; i < a.getKnownIssues().size(); i++) {
      KnownIssue k = a.getKnownIssues().get(i);
      p = firstOf(text("knownIssues[" + i + "].id", k.getId()), text("knownIssues[" + i + "].url", k.getUrl()),
          text("knownIssues[" + i + "].title", k.getTitle()));
      if (p != null) {
        return p;
      }
    }
    return firstOf(optionalText("pod", a.getPod()), optionalText("namespace", a.getNamespace()),
        optionalText("runtimeVersion", a.getRuntimeVersion()), optionalText("resolveReason", a.getResolveReason()),
        optionalText("remediation", a.getRemediation()));
  }

  private static String firstOf(String... problems) {
    for (String p : problems) {
      if (p != null) {
        return p;
      }
    }
    return null;
  }

  private static String id(String field, CharSequence value) {
    if (value == null || value.length() == 0) {
      return field + " is empty";
    }
    return value.length() > MAX_ID_CHARS ? field + " is longer than " + MAX_ID_CHARS + " characters" : null;
  }

  private static String text(String field, CharSequence value) {
    return value != null && value.length() > MAX_TEXT_CHARS
        ? field + " is longer than " + MAX_TEXT_CHARS + " characters" : null;
  }

  private static String optionalText(String field, CharSequence value) {
    return value == null ? null : text(field, value);
  }

  private static String time(String field, Instant value, Instant latest) {
    if (value == null || value.isBefore(EARLIEST) || value.isAfter(latest)) {
      return field + " " + value + " is not between " + EARLIEST + " and a day from now";
    }
    return null;
  }

  private static String cores(String field, double value) {
    if (!Double.isFinite(value) || value < 0 || value > MAX_CORES) {
      return field + " " + value + " is not a number of cores in [0, " + (long) MAX_CORES + "]";
    }
    return null;
  }

  private static String share(String field, double value) {
    if (!Double.isFinite(value) || value < 0 || value > 1) {
      return field + " " + value + " is not a share in [0, 1]";
    }
    return null;
  }

  private static String count(String field, long value) {
    return value < 0 ? field + " is negative: " + value : null;
  }
}
