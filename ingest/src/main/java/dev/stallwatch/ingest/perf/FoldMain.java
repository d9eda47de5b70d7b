package dev.stallwatch.ingest.perf;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code java -cp ingest/target/classes dev.stallwatch.ingest.perf.FoldMain [FILE|-]}: the folder
 * without the CLI module, for benchmarks and for diffing against stackcollapse-perf.pl.
 * Prints folded stacks on stdout (byte-exact) and the counters on stderr.
 */
public final class FoldMain {
  private FoldMain() {}

  public static void main(String[] args) throws IOException {
    if (args.length > 1) {
      System.err.println("usage: FoldMain [FILE|-]");
      System.exit(2);
    }
    String input = args.length == 0 ? "-" : args[0];
    OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
    StackFolder.Result result;
    if (input.equals("-")) {
      result = StackFolder.fold(System.in, out);
    } else {
      Path file = Path.of(input);
      if (!Files.isRegularFile(file)) {
        System.err.println("fold: " + file + ": no such file");
        System.exit(2);
        return;
      }
      result = StackFolder.fold(file, out);
    }
    out.flush();
    System.err.printf("fold: %d samples, %d stacks, event %s, %d samples of other events skipped, %d malformed lines%n",
        result.samples(), result.stacks(), result.event(), result.filteredSamples(), result.malformedLines());
  }
}
