package dev.stallwatch.ingest.perf;

/**
 * Optional frame annotations of the folded format, as stackcollapse-perf.pl's {@code --kernel}
 * and {@code --jit} flags add them. Both are off by default, like the script's defaults.
 *
 * @param annotateKernel append {@code _[k]} to frames of kernel modules ({@code [kernel.kallsyms]}, {@code vmlinux})
 * @param annotateJit append {@code _[j]} to frames of JIT maps ({@code /tmp/perf-N.map})
 */
public record FoldOptions(boolean annotateKernel, boolean annotateJit) {
  /** stackcollapse-perf.pl's defaults: no annotations. */
  public static final FoldOptions DEFAULTS = new FoldOptions(false, false);

  /** Both annotations, like {@code --all}. */
  public static final FoldOptions ALL_ANNOTATIONS = new FoldOptions(true, true);
}
