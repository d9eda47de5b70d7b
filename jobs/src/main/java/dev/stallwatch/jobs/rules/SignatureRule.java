package dev.stallwatch.jobs.rules;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One signature: a set of frames that, all in one stack, show a known way a runtime waits on
 * itself, plus what is known about it.
 *
 * @param frames frame names as the rules file spells them; {@link #matchFrames()} has them
 *     without Go ABI suffixes
 * @param minShare a window is stuck for this rule when at least this share of its sample
 *     weight is in matching stacks
 * @param affectedVersions runtime versions (exact strings, e.g. {@code go1.14.1}) known to
 *     have the bug
 * @param fixedIn first runtime version with the fix, or null
 * @param remediation what an operator should do, or null
 */
public record SignatureRule(
    String id,
    String title,
    List<String> frames,
    double minShare,
    List<IssueReference> references,
    List<String> affectedVersions,
    String fixedIn,
    String remediation)
    implements Serializable {

  public SignatureRule {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(title, "title");
    frames = List.copyOf(frames);
    references = List.copyOf(references);
    affectedVersions = List.copyOf(affectedVersions);
    if (frames.isEmpty()) {
      throw new IllegalArgumentException("rule " + id + ": frames must not be empty");
    }
    if (!(minShare > 0.0 && minShare <= 1.0)) {
      throw new IllegalArgumentException(
          "rule " + id + ": minShare must be in (0, 1], got " + minShare);
    }
  }

  /** The frames without Go ABI suffixes, as {@link FrameNames#normalize} spells them. */
  public List<String> matchFrames() {
    return frames.stream().map(FrameNames::normalize).distinct().toList();
  }

  /** True when the runtime version is known and listed as affected. */
  public boolean affects(String runtimeVersion) {
    return runtimeVersion != null && affectedVersions.contains(runtimeVersion);
  }

  public Optional<String> fixedInVersion() {
    return Optional.ofNullable(fixedIn);
  }
}
