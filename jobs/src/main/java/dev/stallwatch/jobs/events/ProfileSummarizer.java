package dev.stallwatch.jobs.events;

import dev.stallwatch.jobs.rules.SignatureMatcher;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.Stack;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The stateless signature-matching step: turns a ProfileWindow (string table plus possibly
 * thousands of stacks) into a {@link ProfileSummary} with the matched weight per rule and only
 * the heaviest stacks, so keyed state stays small.
 */
public final class ProfileSummarizer implements Serializable {

  private static final double NANOS_PER_SECOND = 1e9;

  private final SignatureMatcher matcher;
  private final int stacksToKeep;
  private final double defaultSampleFrequencyHz;

  public ProfileSummarizer(SignatureRules rules, int stacksToKeep, double defaultSampleFrequencyHz) {
    this.matcher = new SignatureMatcher(rules);
    this.stacksToKeep = stacksToKeep;
    this.defaultSampleFrequencyHz = defaultSampleFrequencyHz;
  }

  public ProfileSummary summarize(ProfileWindow pw) throws InvalidRecordException {
    if (pw.getContainerId().isEmpty()) {
      throw new InvalidRecordException("ProfileWindow without container_id");
    }
    long start = pw.getWindowStartMs();
    long end = pw.getWindowEndMs();
    if (start <= 0 || end <= start) {
      throw new InvalidRecordException(
          "ProfileWindow window [" + start + ", " + end + ") is empty or before 1970");
    }
    double nanosPerUnit = switch (pw.getWeightUnit()) {
      case WEIGHT_UNIT_NANOSECONDS -> 1.0;
      case WEIGHT_UNIT_SAMPLES -> NANOS_PER_SECOND
          / (pw.getSampleFrequencyHz() > 0 ? pw.getSampleFrequencyHz() : defaultSampleFrequencyHz);
      default -> throw new InvalidRecordException(
          "ProfileWindow weight_unit " + pw.getWeightUnit()
              + ": expected WEIGHT_UNIT_NANOSECONDS or WEIGHT_UNIT_SAMPLES");
    };
    if (pw.hasCgroupCpuNs() && pw.getCgroupCpuNs() < 0) {
      throw new InvalidRecordException(DeadLetterReason.NUMBER, "ProfileWindow cgroup_cpu_ns is negative");
    }

    int strings = pw.getStringsCount();
    SignatureMatcher.WindowMatcher window = matcher.forStrings(pw.getStringsList());
    int rules = matcher.rules().size();
    boolean[] matched = new boolean[rules];
    long[] matchedUnits = new long[rules];
    long sumUnits = 0;
    // min-heap of the heaviest stacks so far: {weight, index}
    PriorityQueue<long[]> heaviest = new PriorityQueue<>(
        (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(b[1], a[1]));
    for (int i = 0; i < pw.getStacksCount(); i++) {
      Stack stack = pw.getStacks(i);
      if (stack.getWeight() < 0) {
        throw new InvalidRecordException(DeadLetterReason.NUMBER,
            "ProfileWindow stack " + i + " has a negative weight");
      }
      for (int f = 0; f < stack.getFramesCount(); f++) {
        int index = stack.getFrames(f);
        if (index < 0 || index >= strings) {
          throw new InvalidRecordException("ProfileWindow stack " + i + " frame " + f
              + " points to string " + Integer.toUnsignedString(index)
              + " outside the string table (" + strings + " entries)");
        }
      }
      if (stack.getFramesCount() == 0 || stack.getWeight() == 0) {
        continue;
      }
      sumUnits = addWeight(sumUnits, stack.getWeight());
      window.match(stack.getFramesList(), matched);
      for (int r = 0; r < rules; r++) {
        if (matched[r]) {
          matchedUnits[r] += stack.getWeight();
        }
      }
      heaviest.add(new long[] {stack.getWeight(), i});
      if (heaviest.size() > stacksToKeep) {
        heaviest.poll();
      }
    }

    ProfileSummary s = new ProfileSummary();
    s.host = pw.getHost();
    s.pod = emptyToNull(pw.getPod());
    s.namespace = emptyToNull(pw.getNamespace());
    s.runtimeVersion = pw.hasRuntime() ? emptyToNull(pw.getRuntime().getVersion()) : null;
    s.windowStartMs = start;
    s.windowEndMs = end;
    s.sampleCount = pw.getSampleCount();
    // total_weight may exceed the stacks' sum when a collector drops light stacks
    s.totalWeightNs = toNanos(Math.max(pw.getTotalWeight(), sumUnits), nanosPerUnit);
    s.cgroupCpu = pw.hasCgroupCpuNs();
    long cpuNs = s.cgroupCpu ? pw.getCgroupCpuNs() : s.totalWeightNs;
    s.cpuCores = cpuNs / ((end - start) * 1e6);

    List<String> ids = new ArrayList<>();
    List<Long> weights = new ArrayList<>();
    for (int r = 0; r < rules; r++) {
      if (matchedUnits[r] > 0) {
        ids.add(matcher.rules().get(r).id());
        weights.add(toNanos(matchedUnits[r], nanosPerUnit));
      }
    }
    s.matchedRuleIds = ids.toArray(new String[0]);
    s.matchedWeightNs = weights.stream().mapToLong(Long::longValue).toArray();

    int kept = heaviest.size();
    s.stacks = new String[kept];
    s.stackWeightNs = new long[kept];
    for (int k = kept - 1; k >= 0; k--) {
      long[] top = heaviest.poll();
      Stack stack = pw.getStacks((int) top[1]);
      s.stacks[k] = folded(pw, stack);
      s.stackWeightNs[k] = toNanos(top[0], nanosPerUnit);
    }
    return s;
  }

  private static String folded(ProfileWindow pw, Stack stack) {
    StringBuilder sb = new StringBuilder();
    for (int f = 0; f < stack.getFramesCount(); f++) {
      if (f > 0) {
        sb.append(';');
      }
      sb.append(pw.getStrings(stack.getFrames(f)));
    }
    return sb.toString();
  }

  private static long addWeight(long sum, long weight) throws InvalidRecordException {
    try {
      return Math.addExact(sum, weight);
    } catch (ArithmeticException e) {
      throw new InvalidRecordException(DeadLetterReason.NUMBER, "ProfileWindow stack weights overflow");
    }
  }

  private static long toNanos(long units, double nanosPerUnit) throws InvalidRecordException {
    if (nanosPerUnit == 1.0) {
      return units;
    }
    double nanos = units * nanosPerUnit;
    if (!(nanos < Long.MAX_VALUE)) {
      throw new InvalidRecordException(DeadLetterReason.NUMBER,
          "ProfileWindow weight " + units + " samples is out of range");
    }
    return Math.round(nanos);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
