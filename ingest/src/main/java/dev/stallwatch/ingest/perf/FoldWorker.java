package dev.stallwatch.ingest.perf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Folds {@code perf script} bytes with stackcollapse-perf.pl's state machine. Single-threaded;
 * {@link StackFolder} runs one per thread on blocks that start after a blank line (where the
 * script's state is empty) and merges their stacks.
 *
 * <p>Nothing is decoded in the hot loop: a frame line is interned by the bytes from its symbol
 * to its last {@code )}, which determine its folded names; a stack is a sequence of those ids.
 * Names are made, through {@link FoldedFormat}, once per distinct frame when stacks are emitted.
 */
final class FoldWorker {
  /** Readable bytes a buffer must have after its data: the loop reads 8-byte words. */
  static final int PADDING = 16;
  private static final int SLICE = 16 << 10;

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  private static final long LOWS = 0x7F7F7F7F7F7F7F7FL;
  private static final long NEWLINES = ONES * '\n';
  private static final long BLANKS = ONES * ' ';
  private static final long TABS = ONES * '\t';
  private static final int NOT_SPLIT = -1;

  private final FoldOptions options;
  private byte[] eventFilter;

  // frame line key (symbol .. last ')') -> raw frame id, or NOT_SPLIT when the key alone cannot tell
  private final ByteKeyTable frameKeys = new ByteKeyTable();
  private int[] rawOfKey = new int[1 << 11];
  // (symbol, dso) -> raw frame id
  private final ByteKeyTable rawFrames = new ByteKeyTable();
  private final List<String[]> rawText = new ArrayList<>(); // {symbol, dso} as ISO-8859-1
  private final ByteKeyTable comms = new ByteKeyTable();
  private boolean[] commIsJava = new boolean[1 << 8];
  private final StackCounter stacks = new StackCounter();

  // the script's state: process name (comm id, -1 = none), period and frames (leaf first)
  private int pname = -1;
  private int javaBit;
  private long period;
  private int[] stack = new int[256];
  private int depth;

  private long samples;
  private long malformedLines;
  private long filteredSamples;

  private final PerfLineSyntax.EventFields event = new PerfLineSyntax.EventFields();
  private final PerfLineSyntax.FrameFields frame = new PerfLineSyntax.FrameFields();

  FoldWorker(FoldOptions options, byte[] eventFilter) {
    this.options = options;
    this.eventFilter = eventFilter;
  }

  long samples() {
    return samples;
  }

  long malformedLines() {
    return malformedLines;
  }

  long filteredSamples() {
    return filteredSamples;
  }

  /** The event kept: the first one this worker saw, or the one it was given. */
  byte[] eventFilter() {
    return eventFilter;
  }

  void useEventFilter(byte[] filter) {
    if (eventFilter == null) {
      eventFilter = filter;
    }
  }

  /**
   * Folds the lines in {@code b[from, to)}. Each line ends with {@code '\n'} (so {@code b[to - 1]}
   * is one) and {@code b} has {@link #PADDING} bytes after {@code to}. State carries over to the
   * next call, so a caller may split the input at any line boundary.
   */
  void process(byte[] b, int from, int to) {
    // Short calls let the JIT compile the loop as an ordinary method early, not only through
    // on-stack replacement: in a fresh JVM the first 200 MB went faster in 16 KB slices.
    int pos = from;
    while (pos < to) {
      int sliceEnd = pos + SLICE >= to ? to : lineEnd(b, pos + SLICE) + 1;
      processSlice(b, pos, sliceEnd);
      pos = sliceEnd;
    }
  }

  private void processSlice(byte[] b, int from, int to) {
    int pos = from;
    while (pos < to) {
      byte first = b[pos];
      if (first == '\t' || first == ' ') {
        pos = frameLine(b, pos);
      } else if (first == '\n') {
        endOfSample();
        pos++;
      } else if (first == '#') {
        pos = lineEnd(b, pos) + 1;
      } else {
        int end = lineEnd(b, pos);
        otherLine(b, pos, end);
        pos = end + 1;
      }
    }
  }

  /** The common frame line, {@code <blanks><address> <symbol> (<dso>)}, with one pass over its bytes. */
  private int frameLine(byte[] b, int pos) {
    int i = skipBlanks(b, pos);
    if (!PerfLineSyntax.isWord(b[i])) {
      return slowLine(b, pos);
    }
    while (PerfLineSyntax.isWord(b[i])) {
      i++;
    }
    if (b[i] != ' ' && b[i] != '\t') {
      return slowLine(b, pos);
    }
    while (b[i] == ' ' || b[i] == '\t') {
      i++;
    }
    if (PerfLineSyntax.isSpace(b[i])) {
      return slowLine(b, pos); // \r, \f or \v: let the exact path decide
    }
    int keyStart = i;
    // find the line feed and hash the key in the same 8-byte steps as hash()
    long h = SEED;
    int end;
    while (true) {
      long w = (long) LONGS.get(b, i);
      long x = w ^ NEWLINES;
      long found = (x - ONES) & ~x & HIGHS;
      if (found != 0) {
        int n = Long.numberOfTrailingZeros(found) >>> 3;
        if (n != 0) {
          h = mix(h, w & (-1L >>> (64 - 8 * n)));
        }
        end = i + n;
        break;
      }
      h = mix(h, w);
      i += 8;
    }
    if (end == keyStart || b[end - 1] != ')') {
      return slowLine(b, pos);
    }
    h = finish(h, end - keyStart);
    int key = frameKeys.find(b, keyStart, end, h);
    if (key < 0) {
      key = addFrameKey(b, keyStart, end, h);
    }
    int raw = rawOfKey[key];
    if (raw == NOT_SPLIT) {
      return slowLine(b, pos);
    }
    if (pname >= 0) {
      push(raw);
    }
    return end + 1;
  }

  private int addFrameKey(byte[] b, int keyStart, int end, long h) {
    int key = frameKeys.add(b, keyStart, end, h);
    if (key == rawOfKey.length) {
      rawOfKey = Arrays.copyOf(rawOfKey, key * 2);
    }
    rawOfKey[key] = PerfLineSyntax.splitSymbolDso(b, keyStart, end - 1, frame) ? rawFrame(b) : NOT_SPLIT;
    return key;
  }

  /** Any line, by the script's rules in the script's order. Returns the next line's start. */
  private int slowLine(byte[] b, int pos) {
    int end = lineEnd(b, pos);
    if (PerfLineSyntax.isSpace(b[pos])) {
      frameOrMalformed(b, pos, end);
    } else {
      otherLine(b, pos, end);
    }
    return end + 1;
  }

  /** A line that starts with neither a blank, a line feed nor {@code #}: a header, or else maybe a frame. */
  private void otherLine(byte[] b, int pos, int end) {
    int commEnd = PerfLineSyntax.commEnd(b, pos, end);
    if (commEnd < 0) {
      frameOrMalformed(b, pos, end);
      return;
    }
    long weight = 1;
    if (PerfLineSyntax.findEvent(b, pos, end, event)) {
      if (eventFilter == null) {
        eventFilter = Arrays.copyOfRange(b, event.eventStart, event.eventEnd);
      } else if (!Arrays.equals(b, event.eventStart, event.eventEnd, eventFilter, 0, eventFilter.length)) {
        // the script only keeps the first event type; this header is ignored, state untouched
        filteredSamples++;
        return;
      }
      weight = PerfLineSyntax.period(b, event.periodStart, event.periodEnd);
    }
    period = weight;
    pname = comm(b, pos, commEnd);
    javaBit = commIsJava[pname] ? 1 : 0;
  }

  private void frameOrMalformed(byte[] b, int pos, int end) {
    if (!PerfLineSyntax.splitFrame(b, pos, end, frame)) {
      malformedLines++;
      return;
    }
    int raw = rawFrame(b);
    if (pname >= 0) {
      push(raw);
    }
  }

  private void endOfSample() {
    if (pname < 0) {
      return;
    }
    stacks.add(pname, stack, depth, period);
    samples++;
    depth = 0;
    pname = -1;
  }

  private void push(int raw) {
    if (depth == stack.length) {
      stack = Arrays.copyOf(stack, depth * 2);
    }
    // the Java tidy depends on the process name when the frame is read, so it is part of the id
    stack[depth++] = (raw << 1) | javaBit;
  }

  /** Interns the symbol and dso that {@link #frame} points at. */
  private int rawFrame(byte[] b) {
    int symbolLength = frame.symbolEnd - frame.symbolStart;
    int dsoLength = frame.dsoEnd - frame.dsoStart;
    byte[] key = new byte[4 + symbolLength + dsoLength];
    key[0] = (byte) (symbolLength >>> 24);
    key[1] = (byte) (symbolLength >>> 16);
    key[2] = (byte) (symbolLength >>> 8);
    key[3] = (byte) symbolLength;
    System.arraycopy(b, frame.symbolStart, key, 4, symbolLength);
    System.arraycopy(b, frame.dsoStart, key, 4 + symbolLength, dsoLength);
    long h = hash(key, 0, key.length);
    int id = rawFrames.find(key, 0, key.length, h);
    if (id < 0) {
      id = rawFrames.add(key, 0, key.length, h);
      rawText.add(new String[] {
          new String(b, frame.symbolStart, symbolLength, StandardCharsets.ISO_8859_1),
          new String(b, frame.dsoStart, dsoLength, StandardCharsets.ISO_8859_1)});
    }
    return id;
  }

  private int comm(byte[] b, int from, int to) {
    long h = hash(b, from, to);
    int id = comms.find(b, from, to, h);
    if (id < 0) {
      id = comms.add(b, from, to, h);
      if (id == commIsJava.length) {
        commIsJava = Arrays.copyOf(commIsJava, id * 2);
      }
      String processFrame = FoldedFormat.processFrame(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
      commIsJava[id] = FoldedFormat.isJavaProcess(processFrame);
    }
    return id;
  }

  /** A folded stack as bytes (ISO-8859-1 text: the input's own bytes) and its summed weight. */
  record FoldedStack(byte[] text, long count) implements Comparable<FoldedStack> {
    /** Perl's {@code sort}: unsigned byte order. */
    @Override
    public int compareTo(FoldedStack other) {
      return Arrays.compareUnsigned(text, other.text);
    }
  }

  /**
   * This worker's stacks as folded text, named by {@link FoldedFormat}. Two distinct id stacks
   * may name the same text (e.g. a frame that names to nothing); the caller merges those.
   */
  List<FoldedStack> foldedStacks() {
    byte[][] processFrames = new byte[comms.size()][];
    for (int id = 0; id < processFrames.length; id++) {
      String comm = new String(comms.key(id), StandardCharsets.ISO_8859_1);
      processFrames[id] = FoldedFormat.processFrame(comm).getBytes(StandardCharsets.ISO_8859_1);
    }
    byte[][] segments = new byte[rawText.size() * 2][]; // ";name..." per stack entry, made on first use
    List<FoldedStack> out = new ArrayList<>(stacks.size());
    byte[] text = new byte[1 << 12];
    for (int id = 0; id < stacks.size(); id++) {
      int[] sequence = stacks.sequence(id);
      byte[] head = processFrames[sequence[0]];
      text = ensure(text, head.length);
      System.arraycopy(head, 0, text, 0, head.length);
      int length = head.length;
      for (int i = sequence.length - 1; i >= 1; i--) {
        byte[] segment = segments[sequence[i]];
        if (segment == null) {
          segment = segment(sequence[i]);
          segments[sequence[i]] = segment;
        }
        text = ensure(text, length + segment.length);
        System.arraycopy(segment, 0, text, length, segment.length);
        length += segment.length;
      }
      out.add(new FoldedStack(Arrays.copyOf(text, length), stacks.count(id)));
    }
    return out;
  }

  /** The names of one stack entry, each preceded by the frame separator. */
  private byte[] segment(int entry) {
    String[] raw = rawText.get(entry >>> 1);
    List<String> names = FoldedFormat.frameNames(raw[0], raw[1], (entry & 1) == 1, options);
    StringBuilder sb = new StringBuilder();
    for (String name : names) {
      sb.append(FoldedFormat.FRAME_SEPARATOR).append(name);
    }
    return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] ensure(byte[] buffer, int capacity) {
    return capacity <= buffer.length ? buffer : Arrays.copyOf(buffer, Math.max(capacity, buffer.length * 2));
  }

  /** The first event name the script would see in {@code b[from, to)}, or null. Same line rules as {@link #process}. */
  static byte[] firstEvent(byte[] b, int from, int to) {
    PerfLineSyntax.EventFields fields = new PerfLineSyntax.EventFields();
    int pos = from;
    while (pos < to) {
      int end = lineEnd(b, pos);
      byte first = b[pos];
      if (first != '#' && !PerfLineSyntax.isSpace(first)
          && PerfLineSyntax.commEnd(b, pos, end) >= 0
          && PerfLineSyntax.findEvent(b, pos, end, fields)) {
        return Arrays.copyOfRange(b, fields.eventStart, fields.eventEnd);
      }
      pos = end + 1;
    }
    return null;
  }

  /** The index of the line feed that ends the line at {@code pos}. */
  static int lineEnd(byte[] b, int pos) {
    int i = pos;
    while (true) {
      long x = (long) LONGS.get(b, i) ^ NEWLINES;
      long found = (x - ONES) & ~x & HIGHS;
      if (found != 0) {
        return i + (Long.numberOfTrailingZeros(found) >>> 3);
      }
      i += 8;
    }
  }

  /** The first byte at or after {@code pos} that is neither a space nor a tab. */
  private static int skipBlanks(byte[] b, int pos) {
    int i = pos;
    while (true) {
      long w = (long) LONGS.get(b, i);
      long blank = zeroBytes(w ^ BLANKS) | zeroBytes(w ^ TABS);
      long other = ~blank & HIGHS;
      if (other != 0) {
        return i + (Long.numberOfTrailingZeros(other) >>> 3);
      }
      i += 8;
    }
  }

  /** 0x80 in each byte of {@code x} that is zero, exactly (no false positives above a match). */
  private static long zeroBytes(long x) {
    return ~(((x & LOWS) + LOWS) | x | LOWS);
  }

  private static final long SEED = 0x243F6A8885A308D3L;

  private static long mix(long h, long word) {
    return Long.rotateLeft((h ^ word) * 0x9E3779B97F4A7C15L, 29);
  }

  private static long finish(long h, int length) {
    long x = (h ^ length) * 0xC2B2AE3D27D4EB4FL;
    return x ^ (x >>> 32);
  }

  /** The hash {@link #frameLine} computes on the fly, for any range. */
  static long hash(byte[] b, int from, int to) {
    long h = SEED;
    int i = from;
    for (; i + 8 <= to; i += 8) {
      h = mix(h, (long) LONGS.get(b, i));
    }
    if (i < to) {
      long w = 0;
      for (int shift = 0; i < to; i++, shift += 8) {
        w |= (b[i] & 0xFFL) << shift;
      }
      h = mix(h, w);
    }
    return finish(h, to - from);
  }
}
