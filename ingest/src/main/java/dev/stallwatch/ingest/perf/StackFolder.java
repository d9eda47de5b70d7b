package dev.stallwatch.ingest.perf;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Folds {@code perf script} output into folded stacks, line for line and count for count what
 * FlameGraph's {@code stackcollapse-perf.pl} prints with its default options, in the same
 * (byte-wise sorted) order.
 *
 * <p>Input is read in large blocks cut after a blank line, where the script's state is empty,
 * and the blocks are folded on several threads and merged. Gzip input is detected by its magic
 * bytes. Lines the script would warn about ("Unrecognized line") are counted and skipped.
 */
public final class StackFolder {
  static final int BLOCK_SIZE = 8 << 20;

  /**
   * What a fold saw.
   *
   * @param samples samples folded (the script's stack count, summed over stacks, is their weight)
   * @param malformedLines lines skipped because they are neither a header, a frame, a comment nor blank
   * @param filteredSamples samples skipped because their event is not the first event seen
   * @param event the event kept (the first one seen), or null when no header named one
   * @param stacks distinct folded stacks printed
   */
  public record Result(long samples, long malformedLines, long filteredSamples, String event, long stacks) {}

  private StackFolder() {}

  /** Folds a file, plain or gzip, and writes folded lines to {@code out}, byte-exact. */
  public static Result fold(Path input, OutputStream out) throws IOException {
    return fold(input, out, FoldOptions.DEFAULTS);
  }

  public static Result fold(Path input, OutputStream out, FoldOptions options) throws IOException {
    try (InputStream in = Files.newInputStream(input)) {
      return fold(in, out, options);
    }
  }

  /** Folds a stream, plain or gzip, and writes folded lines to {@code out}, byte-exact. Does not close either. */
  public static Result fold(InputStream input, OutputStream out) throws IOException {
    return fold(input, out, FoldOptions.DEFAULTS);
  }

  public static Result fold(InputStream input, OutputStream out, FoldOptions options) throws IOException {
    Folded folded = fold(input, options);
    for (FoldWorker.FoldedStack stack : folded.stacks) {
      FoldedFormat.writeLine(out, stack.text(), stack.count());
    }
    return folded.result;
  }

  /**
   * Folds a file, plain or gzip, and writes folded lines to {@code out}. Text that is not valid
   * UTF-8 is replaced; use the {@link OutputStream} variant for byte-exact output.
   */
  public static Result fold(Path input, Writer out) throws IOException {
    try (InputStream in = Files.newInputStream(input)) {
      return fold(in, out);
    }
  }

  /** Folds a stream, plain or gzip; see {@link #fold(Path, Writer)}. Does not close either. */
  public static Result fold(InputStream input, Writer out) throws IOException {
    Folded folded = fold(input, FoldOptions.DEFAULTS);
    for (FoldWorker.FoldedStack stack : folded.stacks) {
      FoldedFormat.writeLine(out, new String(stack.text(), StandardCharsets.UTF_8), stack.count());
    }
    return folded.result;
  }

  /** Distinct folded stacks in Perl's sort order, and the counters. */
  record Folded(List<FoldWorker.FoldedStack> stacks, Result result) {
    /** Stack text (decoded as UTF-8) to weight. */
    Map<String, Long> asMap() {
      Map<String, Long> map = new HashMap<>();
      for (FoldWorker.FoldedStack stack : stacks) {
        map.put(new String(stack.text(), StandardCharsets.UTF_8), stack.count());
      }
      return map;
    }
  }

  static Folded fold(InputStream input, FoldOptions options) throws IOException {
    int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    return fold(input, options, BLOCK_SIZE, threads);
  }

  /** Tests use small blocks to cross block boundaries often. */
  static Folded fold(InputStream input, FoldOptions options, int blockSize, int threads) throws IOException {
    return new Pipeline(options, blockSize, threads).run(PerfInput.maybeGunzip(input));
  }

  /**
   * Reads blocks and hands them to worker threads. A block ends after a blank line, so every
   * worker starts each block with the script's empty state; the one thing the script carries
   * across samples, the event filter (its first event), is found before a block is handed out.
   * Input without blank lines (a block without one) is folded on the reading thread, in order.
   */
  private static final class Pipeline {
    private static final Block POISON = new Block(new byte[0], 0, null);

    private final FoldOptions options;
    private final int blockSize;
    private final int threads;
    private final BlockingQueue<Block> work;
    private final BlockingQueue<byte[]> free;
    private final List<FoldWorker> workers = new ArrayList<>();
    private final List<Thread> running = new ArrayList<>();
    private final List<FoldWorker> threadWorkers = new ArrayList<>(); // these name their stacks themselves
    private final List<List<FoldWorker.FoldedStack>> results = Collections.synchronizedList(new ArrayList<>());
    private volatile Throwable failure;
    private int buffersMade;
    private byte[] eventFilter;

    Pipeline(FoldOptions options, int blockSize, int threads) {
      this.options = options;
      this.blockSize = blockSize;
      this.threads = threads;
      this.work = new ArrayBlockingQueue<>(threads);
      this.free = new ArrayBlockingQueue<>(2 * threads + 2);
    }

    Folded run(InputStream in) throws IOException {
      FoldWorker sequential = null;
      byte[] buf = new byte[blockSize + FoldWorker.PADDING];
      buffersMade = 1;
      int len = 0;
      boolean eof = false;
      try {
        while (!eof) {
          while (len < buf.length - FoldWorker.PADDING && !eof) {
            int n = in.read(buf, len, buf.length - FoldWorker.PADDING - len);
            if (n < 0) {
              eof = true;
            } else {
              len += n;
            }
          }
          if (eof && len > 0 && buf[len - 1] != '\n') {
            buf[len++] = '\n'; // the script reads a last line without a line feed like any other
          }
          if (sequential != null) {
            int cut = eof ? len : lastLineEnd(buf, len);
            if (cut < 0) {
              buf = Arrays.copyOf(buf, buf.length * 2); // a line longer than the buffer
              continue;
            }
            sequential.process(buf, 0, cut);
            len = keepTail(buf, cut, len, buf);
            continue;
          }
          int cut = eof ? len : afterLastBlankLine(buf, len);
          if (cut < 0) {
            // no blank line in a whole block: fold the rest in order on this thread
            stopThreads();
            sequential = newWorker();
            sequential.useEventFilter(eventFilter);
            continue;
          }
          if (eventFilter == null) {
            eventFilter = FoldWorker.firstEvent(buf, 0, cut);
          }
          if (eof && running.isEmpty()) {
            // everything fit in one block: no threads needed
            FoldWorker worker = newWorker();
            worker.process(buf, 0, cut);
            break;
          }
          byte[] next = takeFreeBuffer(buf.length);
          len = keepTail(buf, cut, len, next);
          submit(new Block(buf, cut, eventFilter));
          buf = next;
        }
      } finally {
        stopThreads();
      }
      if (failure != null) {
        throw new IllegalStateException("folding failed", failure);
      }
      return merge();
    }

    private FoldWorker newWorker() {
      FoldWorker worker = new FoldWorker(options, eventFilter);
      workers.add(worker);
      return worker;
    }

    private void submit(Block block) throws IOException {
      if (running.size() < threads) {
        FoldWorker worker = newWorker();
        threadWorkers.add(worker);
        Thread thread = new Thread(new Runnable() {
          @Override
          public void run() {
            work(worker);
          }
        }, "stackfold-".concat(Integer.toString(running.size())));
        thread.setDaemon(true);
        thread.start();
        running.add(thread);
      }
      try {
        work.put(block);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while folding");
      }
    }

    private void work(FoldWorker worker) {
      while (true) {
        Block block;
        try {
          block = work.take();
        } catch (InterruptedException e) {
          return;
        }
        if (block == POISON) {
          if (failure == null) {
            try {
              results.add(worker.foldedStacks()); // naming runs on every thread at once
            } catch (Throwable t) {
              failure = t;
            }
          }
          return;
        }
        if (failure == null) {
          try {
            worker.useEventFilter(block.eventFilter);
            worker.process(block.bytes, 0, block.length);
          } catch (Throwable t) {
            failure = t; // keep taking blocks so the reader never blocks on a full queue
          }
        }
        free.offer(block.bytes);
      }
    }

    private byte[] takeFreeBuffer(int size) throws IOException {
      byte[] buffer = free.poll();
      if (buffer == null && buffersMade < 2 * threads + 2) {
        buffersMade++;
        return new byte[size];
      }
      try {
        buffer = buffer != null ? buffer : free.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while folding");
      }
      return buffer.length >= size ? buffer : new byte[size];
    }

    private void stopThreads() {
      boolean interrupted = false;
      for (int i = 0; i < running.size(); i++) {
        while (true) {
          try {
            work.put(POISON);
            break;
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      for (Thread thread : running) {
        while (true) {
          try {
            thread.join();
            break;
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      running.clear();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    private Folded merge() {
      List<FoldWorker.FoldedStack> all = new ArrayList<>();
      for (List<FoldWorker.FoldedStack> result : results) {
        all.addAll(result);
      }
      long samples = 0;
      long malformed = 0;
      long filtered = 0;
      byte[] event = eventFilter;
      for (FoldWorker worker : workers) {
        if (!threadWorkers.contains(worker)) {
          all.addAll(worker.foldedStacks());
        }
        samples += worker.samples();
        malformed += worker.malformedLines();
        filtered += worker.filteredSamples();
        if (event == null) {
          event = worker.eventFilter();
        }
      }
      List<FoldWorker.FoldedStack> merged = sortAndMerge(all);
      String eventName = event == null ? null : new String(event, StandardCharsets.UTF_8);
      return new Folded(merged, new Result(samples, malformed, filtered, eventName, merged.size()));
    }
  }

  /** Sorts by bytes and sums the counts of equal stacks (from different threads, or id stacks that name alike). */
  private static List<FoldWorker.FoldedStack> sortAndMerge(List<FoldWorker.FoldedStack> stacks) {
    Collections.sort(stacks);
    List<FoldWorker.FoldedStack> merged = new ArrayList<>(stacks.size());
    for (FoldWorker.FoldedStack stack : stacks) {
      int last = merged.size() - 1;
      if (last >= 0 && Arrays.equals(merged.get(last).text(), stack.text())) {
        long sum = StackCounter.saturatedAdd(merged.get(last).count(), stack.count());
        merged.set(last, new FoldWorker.FoldedStack(stack.text(), sum));
      } else {
        merged.add(stack);
      }
    }
    return merged;
  }

  private record Block(byte[] bytes, int length, byte[] eventFilter) {}

  /** Copies {@code from[cut, len)} to the start of {@code to}; returns its length. */
  private static int keepTail(byte[] from, int cut, int len, byte[] to) {
    System.arraycopy(from, cut, to, 0, len - cut);
    return len - cut;
  }

  /** The index after the last empty line in {@code b[0, len)}, or -1. {@code b[0]} starts a line. */
  static int afterLastBlankLine(byte[] b, int len) {
    for (int i = len - 1; i >= 0; i--) {
      if (b[i] == '\n' && (i == 0 || b[i - 1] == '\n')) {
        return i + 1;
      }
    }
    return -1;
  }

  /** The index after the last line feed in {@code b[0, len)}, or -1. */
  static int lastLineEnd(byte[] b, int len) {
    for (int i = len - 1; i >= 0; i--) {
      if (b[i] == '\n') {
        return i + 1;
      }
    }
    return -1;
  }
}
