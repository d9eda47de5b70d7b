package dev.stallwatch.jobs.rules;

import java.util.Locale;

/** How frame names are compared when stacks are matched against signatures. */
public final class FrameNames {

  // Go >= 1.17 names assembly functions with an ABI suffix (runtime.osyield.abi0) and some
  // tools print the internal ABI (.abiinternal); Go 1.14 has neither. Both spell one function.
  private static final String[] ABI_SUFFIXES = {".abi0", ".abiinternal"};

  private FrameNames() {}

  /** The frame name without a Go ABI suffix; other names unchanged. */
  public static String normalize(String frame) {
    String lower = frame.toLowerCase(Locale.ROOT);
    for (String suffix : ABI_SUFFIXES) {
      if (lower.endsWith(suffix) && frame.length() > suffix.length()) {
        return frame.substring(0, frame.length() - suffix.length());
      }
    }
    return frame;
  }
}
