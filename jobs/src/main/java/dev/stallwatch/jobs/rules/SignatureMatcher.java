package dev.stallwatch.jobs.rules;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds which rules each stack of a window matches. Stateless and cheap: frame names are
 * compared once per string-table entry, then each stack is a few bit operations per frame.
 */
public final class SignatureMatcher implements Serializable {

  private final List<SignatureRule> rules;
  // bit index of every distinct (normalized) frame any rule asks for
  private final Map<String, Integer> frameBits = new HashMap<>();
  private final long[][] ruleMasks;
  private final int words;

  public SignatureMatcher(SignatureRules rules) {
    this.rules = rules.rules();
    for (SignatureRule rule : this.rules) {
      for (String frame : rule.matchFrames()) {
        frameBits.putIfAbsent(frame, frameBits.size());
      }
    }
    this.words = Math.max(1, (frameBits.size() + 63) / 64);
    this.ruleMasks = new long[this.rules.size()][];
    for (int r = 0; r < this.rules.size(); r++) {
      long[] mask = new long[words];
      for (String frame : this.rules.get(r).matchFrames()) {
        set(mask, frameBits.get(frame));
      }
      ruleMasks[r] = mask;
    }
  }

  public List<SignatureRule> rules() {
    return rules;
  }

  /** A matcher for one window's string table. */
  public WindowMatcher forStrings(List<String> strings) {
    long[][] masks = new long[strings.size()][];
    for (int i = 0; i < strings.size(); i++) {
      Integer bit = frameBits.get(FrameNames.normalize(strings.get(i)));
      if (bit != null) {
        long[] mask = new long[words];
        set(mask, bit);
        masks[i] = mask;
      }
    }
    return new WindowMatcher(masks);
  }

  /** True when all the rule's frames appear among the frames (ABI suffixes ignored). */
  public boolean matches(SignatureRule rule, List<String> frames) {
    return frames.stream().map(FrameNames::normalize).toList().containsAll(rule.matchFrames());
  }

  private static void set(long[] mask, int bit) {
    mask[bit >>> 6] |= 1L << (bit & 63);
  }

  /** Matches stacks given as indices into one window's string table. */
  public final class WindowMatcher {
    private final long[][] stringMasks;
    private final long[] scratch = new long[words];

    private WindowMatcher(long[][] stringMasks) {
      this.stringMasks = stringMasks;
    }

    /**
     * Sets {@code matched[r]} to true for every rule r whose frames are all in the stack.
     * Indices must be valid for the string table.
     */
    public void match(List<Integer> frameIndices, boolean[] matched) {
      java.util.Arrays.fill(scratch, 0L);
      for (int index : frameIndices) {
        long[] mask = stringMasks[index];
        if (mask != null) {
          for (int w = 0; w < words; w++) {
            scratch[w] |= mask[w];
          }
        }
      }
      for (int r = 0; r < ruleMasks.length; r++) {
        matched[r] = covers(scratch, ruleMasks[r]);
      }
    }

    private boolean covers(long[] have, long[] need) {
      for (int w = 0; w < words; w++) {
        if ((have[w] & need[w]) != need[w]) {
          return false;
        }
      }
      return true;
    }
  }
}
