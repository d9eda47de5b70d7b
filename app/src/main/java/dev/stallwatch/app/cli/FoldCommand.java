package dev.stallwatch.app.cli;

import dev.stallwatch.ingest.perf.PerfInput;
import dev.stallwatch.ingest.perf.StackFolder;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "fold",
    mixinStandardHelpOptions = true,
    description = {
        "Folds 'perf script' output into folded stacks ('comm;root;...;leaf count' lines), exactly as FlameGraph's "
            + "stackcollapse-perf.pl does with its default options, so the output pipes into flamegraph.pl, "
            + "speedscope or Pyroscope. Gzip input is detected. Malformed lines are counted on stderr and skipped.",
        ""})
public final class FoldCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE", arity = "0..1", defaultValue = "-",
      description = "perf script output, plain or gzip; '-' or nothing for standard input.")
  String input;

  @Option(names = "--stats", description = "Print sample, stack and skipped-line counts on stderr.")
  boolean stats;

  @Override
  public Integer call() throws IOException {
    // bytes in, bytes out: comms and symbols need not be valid UTF-8
    StdoutStream stdout = new StdoutStream();
    OutputStream out = new BufferedOutputStream(stdout, 1 << 16);
    try {
      return fold(out);
    } catch (IOException e) {
      if (stdout.failed) {
        return 141; // the reader went away (`stallwatch fold | head`): stop quietly, like SIGPIPE
      }
      throw e;
    }
  }

  private int fold(OutputStream out) throws IOException {
    StackFolder.Result result;
    if (input.equals("-")) {
      try {
        result = StackFolder.fold(System.in, out);
      } catch (PerfInput.BadGzipException e) {
        throw new UserError("standard input: " + e.getMessage());
      }
    } else {
      Path file = Path.of(input);
      if (!Files.isRegularFile(file)) {
        throw new UserError(file + ": " + (Files.exists(file) ? "not a regular file" : "no such file"));
      }
      try {
        result = StackFolder.fold(file, out);
      } catch (NoSuchFileException e) {
        throw new UserError(file + ": no such file");
      } catch (PerfInput.BadGzipException e) {
        throw new UserError(file + ": " + e.getMessage());
      }
    }
    out.flush();
    if (stats) {
      Progress.log(String.format("fold: %d samples, %d stacks, event %s, %d samples of other events skipped, "
              + "%d malformed lines", result.samples(), result.stacks(), result.event(), result.filteredSamples(),
          result.malformedLines()));
      return 0;
    }
    if (result.filteredSamples() > 0) {
      Progress.log("fold: kept the first event type, " + result.event() + "; left out " + result.filteredSamples()
          + " sample(s) of other events");
    }
    if (result.malformedLines() > 0) {
      Progress.log("fold: skipped " + result.malformedLines() + " malformed line(s) of " + input);
    }
    return 0;
  }

  /** Standard output that remembers whether writing to it failed. */
  private static final class StdoutStream extends FilterOutputStream {
    boolean failed;

    StdoutStream() {
      super(new FileOutputStream(FileDescriptor.out));
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        failed = true;
        throw e;
      }
    }

    @Override
    public void flush() throws IOException {
      try {
        out.flush();
      } catch (IOException e) {
        failed = true;
        throw e;
      }
    }
  }
}
