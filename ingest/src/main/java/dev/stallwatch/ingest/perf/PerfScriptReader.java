package dev.stallwatch.ingest.perf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads {@code perf script} output sample by sample, on bytes, for the collector and replay.
 *
 * <p>Headers in the default form and the {@code perf script -F} forms are understood: a comm
 * that may contain spaces and digits, {@code pid/tid} or a lone id, an optional {@code [cpu]},
 * the time, an optional period, any event name ({@code cpu-clock:}, {@code cycles:u:},
 * {@code sched:sched_switch:} with its fields after it), and, without call graphs, the one frame
 * perf prints on the header line. Frame lines are split as {@link PerfLineSyntax} does for
 * {@code stallwatch fold} and named by {@link FoldedFormat}, once per distinct line: a known
 * line costs a hash and a compare, and a sample is an array of {@link FrameTable} ids. A sample
 * ends at a blank line, at the next header or at the end of input.
 *
 * <p>Where this reader and stackcollapse-perf.pl differ, the script is wrong for the pipeline:
 * a comm like {@code Timer 2} keeps its number here (the script takes {@code 2} as the pid),
 * every event is kept (callers filter by {@link PerfSample#event()}), a sample at the end of
 * input without a blank line is not dropped, and {@code \r\n} line ends are accepted.
 *
 * <p>Bad text never makes this reader throw: a line that is neither a header, a frame, a comment
 * nor blank is counted in {@link #malformedLines()} and skipped, with the frames that follow a
 * bad header. A line over {@link #MAX_LINE_BYTES} is skipped and counted in {@link
 * #oversizedLines()} (and as malformed), and the sample it belongs to is dropped; frames beyond
 * {@link #MAX_FRAMES} are left out of their sample, counted in {@link #truncatedSamples()}. So
 * memory stays bounded whatever perf prints. An I/O error surfaces as {@link IOException}.
 */
public final class PerfScriptReader {
  /** Longer lines are skipped: perf's longest real lines (C++ symbols) are a few KB. */
  public static final int MAX_LINE_BYTES = 64 << 10;
  /** Frame names kept per sample; perf's own default limit is 127 frames. */
  public static final int MAX_FRAMES = 2_048;
  private static final int MAX_HEADER_PREFIX = 512;
  // the caches of distinct lines and comms start afresh beyond these, so odd input cannot grow them forever
  private static final int MAX_CACHED_LINES = 1 << 18;
  private static final int MAX_CACHED_COMMS = 1 << 14;
  private static final int MAX_CACHED_LINE_BYTES = 32 << 20;
  private static final long[] POWERS_OF_TEN = {
      1L, 10L, 100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L};

  private final InputStream in;
  private final FrameTable names;
  private final PerfSample sample;
  private final byte[] chunk = new byte[1 << 16];
  private byte[] carry = new byte[1 << 10]; // a line that spans chunks
  private int carryLen;
  private boolean discarding; // the line being carried is over the limit
  private boolean used;

  // distinct frame lines (symbol .. last ')') -> name ids, per java bit
  private ByteKeyTable lineKeys = new ByteKeyTable();
  private int[][] lineNames = new int[1 << 12][];
  // distinct whole frame lines -> name ids per java bit, and the line that followed each last time
  private ByteKeyTable wholeLines = new ByteKeyTable();
  private int[][] wholeLineNames = new int[1 << 12][];
  private int[] nextLine = new int[1 << 11];
  private int previousLine = -1;
  private int predicted = -1;
  private Comm currentComm;
  private ByteKeyTable commKeys = new ByteKeyTable();
  private Comm[] comms = new Comm[1 << 8];
  private ByteKeyTable eventKeys = new ByteKeyTable();
  private String[] events = new String[8];

  private final PerfLineSyntax.FrameFields frame = new PerfLineSyntax.FrameFields();
  private boolean inSample;
  private boolean skippingFrames; // after a malformed or oversized line, until the next sample
  private boolean java;
  private boolean truncated;
  private int[] leafFirst = new int[64];
  private int depth;
  private byte[] inline = new byte[256];

  // the header being parsed
  private int commStart;
  private int commEnd;
  private int afterTime;
  private int firstId;
  private boolean hasSecondId;
  private int secondId;
  private int cpuValue;
  private long seconds;
  private long nanos;

  private long samples;
  private long lines;
  private long malformedLines;
  private long oversizedLines;
  private long truncatedSamples;
  private String firstMalformed;

  /** Reads {@code in}, plain or gzip (see {@link PerfInput}); the caller closes it. */
  public PerfScriptReader(InputStream in) throws IOException {
    this(in, new FrameTable());
  }

  /** Names frames into {@code names}, which the window assembler shares. */
  public PerfScriptReader(InputStream in, FrameTable names) throws IOException {
    this.in = PerfInput.maybeGunzip(in);
    this.names = names;
    this.sample = new PerfSample(names);
  }

  public FrameTable frameTable() {
    return names;
  }

  /** Samples handed out so far. */
  public long samples() {
    return samples;
  }

  /** Lines read so far. */
  public long lines() {
    return lines;
  }

  /** Lines skipped so far because they could not be read (oversized ones included). */
  public long malformedLines() {
    return malformedLines;
  }

  /** Lines skipped so far because they were longer than {@link #MAX_LINE_BYTES}. */
  public long oversizedLines() {
    return oversizedLines;
  }

  /** Samples that had more than {@link #MAX_FRAMES} frames and lost the rest. */
  public long truncatedSamples() {
    return truncatedSamples;
  }

  /** The first line that could not be read (at most 200 bytes), or null. */
  public String firstMalformedLine() {
    return firstMalformed;
  }

  /**
   * Hands every sample to {@code consumer}, in order, until the end of input; the {@link
   * PerfSample} is reused, so the consumer keeps nothing of it.
   */
  public void read(Consumer<PerfSample> consumer) throws IOException {
    if (used) {
      throw new IllegalStateException("a PerfScriptReader reads its input once");
    }
    used = true;
    while (true) {
      int n = in.read(chunk, 0, chunk.length);
      if (n < 0) {
        break;
      }
      int pos = 0;
      while (pos < n) {
        if (carryLen == 0 && !discarding && (chunk[pos] == '\t' || chunk[pos] == ' ')) {
          int next = knownFrameLine(chunk, pos, n);
          if (next >= 0) {
            pos = next;
            continue;
          }
        }
        int nl = indexOfNewline(chunk, pos, n);
        if (nl < 0) {
          carry(chunk, pos, n);
          break;
        }
        if (carryLen > 0 || discarding) {
          carry(chunk, pos, nl);
          endCarried(consumer);
        } else {
          line(chunk, pos, nl - pos, consumer);
        }
        pos = nl + 1;
      }
    }
    if (carryLen > 0 || discarding) {
      endCarried(consumer); // a last line without a line feed
    }
    endSample(consumer);
  }

  private void carry(byte[] b, int from, int to) {
    int n = to - from;
    if (discarding) {
      return;
    }
    if (carryLen + n > MAX_LINE_BYTES) {
      discarding = true;
      carryLen = 0;
      return;
    }
    if (carryLen + n > carry.length) {
      carry = Arrays.copyOf(carry, Math.max(carry.length * 2, carryLen + n));
    }
    System.arraycopy(b, from, carry, carryLen, n);
    carryLen += n;
  }

  private void endCarried(Consumer<PerfSample> consumer) {
    if (discarding) {
      discarding = false;
      carryLen = 0;
      lines++;
      oversizedLines++;
      malformed(null, 0, 0);
      dropSample();
      skippingFrames = true;
      return;
    }
    int len = carryLen;
    carryLen = 0;
    line(carry, 0, len, consumer);
  }

  /**
   * The common line, a frame line seen before, found by its whole bytes: first against the line
   * that followed the previous one last time (stacks repeat, so this is one compare in 8-byte
   * steps), else by hash. Adds its frames and returns the next line's start; -1 for any other
   * line, which {@link #line} then reads by the full rules (and remembers when it is a frame line).
   */
  private int knownFrameLine(byte[] b, int pos, int n) {
    int id = predicted;
    int end;
    if (id >= 0 && wholeLines.matchesAt(id, b, pos, n) && b[pos + wholeLines.length(id)] == '\n') {
      end = pos + wholeLines.length(id);
    } else {
      long h = HASH_SEED;
      int i = pos;
      while (i < n && b[i] != '\n') {
        h = 31 * h + b[i];
        i++;
      }
      if (i >= n || b[i - 1] == '\r') {
        return -1;
      }
      end = i;
      id = wholeLines.find(b, pos, end, finish(h));
      if (id < 0) {
        return -1;
      }
    }
    if (inSample && !skippingFrames) {
      int[] ids = wholeLineNames[2 * id + (java ? 1 : 0)];
      if (ids == null) {
        return -1; // named for the other kind of process only: the full path names it
      }
      push(ids);
      follows(id);
    }
    lines++;
    return end + 1;
  }

  /** Remembers that line {@code id} came next, and predicts the one after it. */
  private void follows(int id) {
    if (previousLine >= 0) {
      nextLine[previousLine] = id;
    } else if (currentComm != null) {
      currentComm.firstLine = id;
    }
    previousLine = id;
    predicted = nextLine[id];
  }

  /** Caches an indented line the full rules read as a frame line with names {@code ids}. */
  private void rememberLine(byte[] b, int off, int len, int[] ids) {
    if (wholeLines.size() >= MAX_CACHED_LINES || wholeLines.keyBytes() >= MAX_CACHED_LINE_BYTES) {
      wholeLines = new ByteKeyTable();
      Arrays.fill(wholeLineNames, null);
      predicted = -1;
      previousLine = -1;
      for (Comm comm : comms) {
        if (comm != null) {
          comm.firstLine = -1;
        }
      }
    }
    long h = hash(b, off, off + len);
    int id = wholeLines.find(b, off, off + len, h);
    if (id < 0) {
      id = wholeLines.add(b, off, off + len, h);
      if (2 * id + 1 >= wholeLineNames.length) {
        wholeLineNames = Arrays.copyOf(wholeLineNames, wholeLineNames.length * 2);
        nextLine = Arrays.copyOf(nextLine, wholeLineNames.length / 2);
      }
      nextLine[id] = -1;
    }
    wholeLineNames[2 * id + (java ? 1 : 0)] = ids;
    if (inSample && !skippingFrames) {
      follows(id);
    }
  }

  private static final long HASH_SEED = 0x243F6A8885A308D3L;

  private static long finish(long h) {
    long x = h * 0xC2B2AE3D27D4EB4FL;
    return x ^ (x >>> 29);
  }

  /** The hash {@link #knownFrameLine} computes on the fly, for any range. */
  private static long hash(byte[] b, int from, int to) {
    long h = HASH_SEED;
    for (int i = from; i < to; i++) {
      h = 31 * h + b[i];
    }
    return finish(h);
  }

  private static int indexOfNewline(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private void line(byte[] b, int off, int len, Consumer<PerfSample> consumer) {
    lines++;
    boolean crlf = len > 0 && b[off + len - 1] == '\r';
    if (crlf) {
      len--;
    }
    if (len == 0) {
      endSample(consumer);
      skippingFrames = false;
      return;
    }
    byte first = b[off];
    if (first == '#') {
      return;
    }
    boolean indented = PerfLineSyntax.isSpace(first);
    // an indented line is a frame, unless perf padded a comm (headers without call graphs)
    if (!indented || mayHoldTime(b, off, len)) {
      if (parseHeader(b, off, len)) {
        endSample(consumer);
        startSample(b, off, len);
        return;
      }
      if (!indented) {
        malformed(b, off, len);
        endSample(consumer);
        skippingFrames = true;
        return;
      }
    }
    if (skippingFrames) {
      return;
    }
    int[] ids = frameNames(b, off, off + len);
    if (ids == null) {
      malformed(b, off, len);
      return;
    }
    if (inSample) {
      push(ids);
    }
    if (!crlf) {
      rememberLine(b, off, len, ids);
    }
  }

  /** The name ids of a frame line, leaf-most last; null if it is not a frame line. */
  private int[] frameNames(byte[] b, int from, int to) {
    // blanks, address, blanks, then the key from the symbol to the last ')', which alone decides the names
    int i = from;
    while (i < to && PerfLineSyntax.isSpace(b[i])) {
      i++;
    }
    int addrStart = i;
    while (i < to && PerfLineSyntax.isWord(b[i])) {
      i++;
    }
    if (i == addrStart) {
      return null;
    }
    while (i < to && PerfLineSyntax.isSpace(b[i])) {
      i++;
    }
    int close = to - 1;
    while (close >= from && b[close] != ')') {
      close--;
    }
    if (close < i) {
      return PerfLineSyntax.splitFrame(b, from, to, frame) ? nameIds(b) : null;
    }
    long h = hash(b, i, close + 1);
    int key = lineKeys.find(b, i, close + 1, h);
    if (key < 0) {
      if (!PerfLineSyntax.splitFrame(b, from, to, frame)) {
        return null;
      }
      if (frame.symbolStart != i) {
        return nameIds(b); // a one-character symbol before " (": rare, and named each time
      }
      if (lineKeys.size() >= MAX_CACHED_LINES || lineKeys.keyBytes() >= MAX_CACHED_LINE_BYTES) {
        lineKeys = new ByteKeyTable();
        Arrays.fill(lineNames, null);
      }
      key = lineKeys.add(b, i, close + 1, h);
      if (2 * key + 1 >= lineNames.length) {
        lineNames = Arrays.copyOf(lineNames, lineNames.length * 2);
      }
    }
    int slot = 2 * key + (java ? 1 : 0);
    int[] ids = lineNames[slot];
    if (ids == null) {
      if (!PerfLineSyntax.splitFrame(b, from, to, frame)) {
        return null; // cannot happen: the key was split when it was added
      }
      ids = nameIds(b);
      lineNames[slot] = ids;
    }
    return ids;
  }

  /** The names of the frame {@link #frame} points at, leaf-most last, as ids. */
  private int[] nameIds(byte[] b) {
    String symbol = new String(b, frame.symbolStart, frame.symbolEnd - frame.symbolStart, StandardCharsets.UTF_8);
    String dso = new String(b, frame.dsoStart, frame.dsoEnd - frame.dsoStart, StandardCharsets.UTF_8);
    List<String> frameNames = FoldedFormat.frameNames(symbol, dso, java);
    int[] ids = new int[frameNames.size()];
    for (int k = 0; k < ids.length; k++) {
      ids[k] = names.id(frameNames.get(k));
    }
    return ids;
  }

  private void push(int[] ids) {
    // perf prints the leaf first; keep each line's names in order so that reversing restores them
    for (int k = ids.length - 1; k >= 0; k--) {
      if (depth == MAX_FRAMES) {
        truncated = true;
        return;
      }
      if (depth == leafFirst.length) {
        leafFirst = Arrays.copyOf(leafFirst, depth * 2);
      }
      leafFirst[depth++] = ids[k];
    }
  }

  private void startSample(byte[] b, int off, int len) {
    skippingFrames = false;
    inSample = true;
    depth = 0;
    truncated = false;
    Comm comm = comm(b, off + commStart, off + commEnd);
    currentComm = comm;
    previousLine = -1;
    predicted = comm.firstLine;
    java = comm.java;
    sample.comm = comm.name;
    sample.processFrame = comm.processFrame;
    sample.pid = hasSecondId ? firstId : -1;
    sample.tid = hasSecondId ? secondId : firstId;
    sample.cpu = cpuValue;
    sample.timestampNanos = seconds * 1_000_000_000L + nanos;
    sample.period = headerPeriod;
    sample.event = headerEventEnd < 0 ? "" : event(b, off + headerEventStart, off + headerEventEnd);
    if (inlineTokens > 0) {
      inlineFrame(b, off);
    }
  }

  /** The frame perf printed on the header line, when it looks like one: the tail parts joined by one blank. */
  private void inlineFrame(byte[] b, int off) {
    int n = 0;
    for (int t = 3 - inlineTokens; t < 3; t++) {
      if (tokenEnds[t] <= tokenStarts[t]) {
        continue;
      }
      int partLen = tokenEnds[t] - tokenStarts[t];
      int need = n + partLen + 1;
      if (need > inline.length) {
        inline = Arrays.copyOf(inline, Math.max(need, inline.length * 2));
      }
      if (n > 0) {
        inline[n++] = ' ';
      }
      System.arraycopy(b, off + tokenStarts[t], inline, n, partLen);
      n += partLen;
    }
    if (looksLikeFrame(inline, n)) {
      int[] ids = frameNames(inline, 0, n);
      if (ids != null) {
        push(ids);
      }
    }
  }

  private void endSample(Consumer<PerfSample> consumer) {
    if (!inSample) {
      return;
    }
    inSample = false;
    if (sample.frames.length < depth) {
      sample.frames = new int[Math.max(depth, sample.frames.length * 2)];
    }
    int[] rootFirst = sample.frames;
    for (int k = 0; k < depth; k++) {
      rootFirst[k] = leafFirst[depth - 1 - k];
    }
    sample.depth = depth;
    if (truncated) {
      truncatedSamples++;
    }
    samples++;
    depth = 0;
    consumer.accept(sample);
  }

  private void dropSample() {
    inSample = false;
    depth = 0;
  }

  private void malformed(byte[] b, int off, int len) {
    malformedLines++;
    if (firstMalformed == null) {
      firstMalformed = b == null ? "(a line over " + MAX_LINE_BYTES + " bytes)"
          : new String(b, off, Math.min(len, 200), StandardCharsets.UTF_8);
    }
  }

  /** A cheap test before the header parse on indented lines: a {@code digits.digits:} token. */
  private static boolean mayHoldTime(byte[] b, int off, int len) {
    for (int i = 2; i < len; i++) {
      if (b[off + i] == ':' && PerfLineSyntax.isDigit(b[off + i - 1])) {
        int j = i - 1;
        while (j > 0 && PerfLineSyntax.isDigit(b[off + j])) {
          j--;
        }
        if (b[off + j] == '.' && j > 0 && PerfLineSyntax.isDigit(b[off + j - 1])) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Reads a header: {@code \s*(\S.*?)\s+(-?\d+)(?:/(-?\d+))?\s+(?:\[(\d+)]\s+)?(\d+)\.(\d{1,9}):}
   * followed by a blank or the end, within the first {@value #MAX_HEADER_PREFIX} bytes; the
   * shortest comm after which the rest fits. Offsets are relative to {@code off}.
   */
  private boolean parseHeader(byte[] b, int off, int len) {
    int limit = Math.min(len, MAX_HEADER_PREFIX);
    int s = 0;
    while (s < limit && PerfLineSyntax.isSpace(b[off + s])) {
      s++;
    }
    if (s >= limit) {
      return false;
    }
    for (int e = s + 1; e < limit; e++) {
      if (PerfLineSyntax.isSpace(b[off + e]) && fieldsAfterComm(b, off, len, limit, e)) {
        commStart = s;
        commEnd = e;
        return valuesFit(b, off) && restOfHeader(b, off, afterTime, len);
      }
    }
    return false;
  }

  // where fieldsAfterComm found the numbers, relative to the line
  private int id1Start;
  private int id1End;
  private int id2Start;
  private int id2End;
  private int cpuStart;
  private int cpuEnd;
  private int secStart;
  private int secEnd;
  private int fracEnd;

  /** Whether the fields after a comm ending at {@code e} match, as the regex's tail would there. */
  private boolean fieldsAfterComm(byte[] b, int off, int len, int limit, int e) {
    int j = e;
    while (j < limit && PerfLineSyntax.isSpace(b[off + j])) {
      j++;
    }
    id1Start = j;
    if (j < limit && b[off + j] == '-') {
      j++;
    }
    int digits = j;
    while (j < limit && PerfLineSyntax.isDigit(b[off + j])) {
      j++;
    }
    if (j == digits) {
      return false;
    }
    id1End = j;
    id2Start = -1;
    if (j < limit && b[off + j] == '/') {
      int k = j + 1;
      int start = k;
      if (k < limit && b[off + k] == '-') {
        k++;
      }
      int d = k;
      while (k < limit && PerfLineSyntax.isDigit(b[off + k])) {
        k++;
      }
      if (k > d) {
        id2Start = start;
        id2End = k;
        j = k;
      }
    }
    if (j >= limit || !PerfLineSyntax.isSpace(b[off + j])) {
      return false;
    }
    while (j < limit && PerfLineSyntax.isSpace(b[off + j])) {
      j++;
    }
    cpuStart = -1;
    if (j < limit && b[off + j] == '[') {
      int k = j + 1;
      int d = k;
      while (k < limit && PerfLineSyntax.isDigit(b[off + k])) {
        k++;
      }
      if (k > d && k < limit && b[off + k] == ']' && k + 1 < limit && PerfLineSyntax.isSpace(b[off + k + 1])) {
        cpuStart = d;
        cpuEnd = k;
        j = k + 1;
        while (j < limit && PerfLineSyntax.isSpace(b[off + j])) {
          j++;
        }
      }
    }
    secStart = j;
    while (j < limit && PerfLineSyntax.isDigit(b[off + j])) {
      j++;
    }
    if (j == secStart || j >= limit || b[off + j] != '.') {
      return false;
    }
    secEnd = j;
    j++;
    int frac = j;
    while (j < limit && PerfLineSyntax.isDigit(b[off + j])) {
      j++;
    }
    if (j == frac || j - frac > 9 || j >= limit || b[off + j] != ':') {
      return false;
    }
    fracEnd = j;
    j++;
    // the match must end inside the prefix; the blank after it may lie beyond
    if (j > limit || (j < len && !PerfLineSyntax.isSpace(b[off + j]))) {
      return false;
    }
    afterTime = j;
    return true;
  }

  /** The numbers of a matched header, as Integer/Long parsing would take them; false when one does not fit. */
  private boolean valuesFit(byte[] b, int off) {
    long first = parseId(b, off + id1Start, off + id1End);
    if (first == Long.MIN_VALUE) {
      return false;
    }
    firstId = (int) first;
    hasSecondId = id2Start >= 0;
    if (hasSecondId) {
      long second = parseId(b, off + id2Start, off + id2End);
      if (second == Long.MIN_VALUE) {
        return false;
      }
      secondId = (int) second;
    }
    cpuValue = -1;
    if (cpuStart >= 0) {
      long cpu = parseId(b, off + cpuStart, off + cpuEnd);
      if (cpu == Long.MIN_VALUE) {
        return false;
      }
      cpuValue = (int) cpu;
    }
    seconds = parseDigits(b, off + secStart, off + secEnd);
    if (seconds < 0 || seconds > Long.MAX_VALUE / 1_000_000_000L - 1) {
      return false;
    }
    int fracStart = secEnd + 1;
    long fraction = parseDigits(b, off + fracStart, off + fracEnd);
    nanos = fraction * POWERS_OF_TEN[9 - (fracEnd - fracStart)];
    return true;
  }

  /** An optionally negative int, or Long.MIN_VALUE when it does not fit one. */
  private static long parseId(byte[] b, int from, int to) {
    boolean negative = b[from] == '-';
    long value = 0;
    for (int i = negative ? from + 1 : from; i < to; i++) {
      value = value * 10 + (b[i] - '0');
      if (value > (long) Integer.MAX_VALUE + 1) {
        return Long.MIN_VALUE;
      }
    }
    value = negative ? -value : value;
    return value < Integer.MIN_VALUE || value > Integer.MAX_VALUE ? Long.MIN_VALUE : value;
  }

  /** Decimal digits as a long, or -1 when they do not fit. */
  private static long parseDigits(byte[] b, int from, int to) {
    long value = 0;
    for (int i = from; i < to; i++) {
      int digit = b[i] - '0';
      if (value > (Long.MAX_VALUE - digit) / 10) {
        return -1;
      }
      value = value * 10 + digit;
    }
    return value;
  }

  private static boolean isTrimmed(byte c) {
    return (c & 0xFF) <= ' ';
  }

  // what restOfHeader found, relative to the line
  private long headerPeriod;
  private int headerEventStart;
  private int headerEventEnd;
  private final int[] tokenStarts = new int[3];
  private final int[] tokenEnds = new int[3];
  private int inlineTokens; // how many of the last tokens make the frame printed on the header line

  /**
   * After the time: {@code [period] [event:] [rest]}, the trimmed text split at blanks into at
   * most three parts, where rest is a tracepoint's fields or a frame. False when the period does
   * not fit a long; otherwise remembers the period, the event and where the rest is.
   */
  private boolean restOfHeader(byte[] b, int off, int fromRel, int toRel) {
    int from = off + fromRel;
    int to = off + toRel;
    while (from < to && isTrimmed(b[from])) {
      from++;
    }
    while (to > from && isTrimmed(b[to - 1])) {
      to--;
    }
    int s0 = from;
    int e0 = tokenEnd(b, s0, to);
    int s1 = skipSpace(b, e0, to);
    int e1 = tokenEnd(b, s1, to);
    int s2 = skipSpace(b, e1, to);
    int tokens = s0 == to || e0 == to ? 1 : (e1 == to ? 2 : 3);
    tokenStarts[0] = s0 - off;
    tokenEnds[0] = e0 - off;
    tokenStarts[1] = s1 - off;
    tokenEnds[1] = e1 - off;
    tokenStarts[2] = s2 - off;
    tokenEnds[2] = to - off;
    int next = 0;
    headerPeriod = 0;
    if (e0 > s0 && allDigits(b, s0, e0)) {
      headerPeriod = parseDigits(b, s0, e0);
      if (headerPeriod < 0) {
        return false;
      }
      next++;
    }
    headerEventEnd = -1;
    if (next < tokens) {
      int ts = tokenStarts[next] + off;
      int te = tokenEnds[next] + off;
      if (te - ts > 1 && b[te - 1] == ':') {
        headerEventStart = ts - off;
        headerEventEnd = te - 1 - off;
        next++;
      }
    }
    inlineTokens = next < tokens && tokenEnds[next] > tokenStarts[next] ? tokens - next : 0;
    if (inlineTokens > 0 && tokens < 3) {
      // keep the parts at the end of the three slots: inlineFrame reads slots 3 - inlineTokens .. 2
      int shift = 3 - tokens;
      for (int t = 2; t >= shift; t--) {
        tokenStarts[t] = tokenStarts[t - shift];
        tokenEnds[t] = tokenEnds[t - shift];
      }
    }
    return true;
  }

  private static int tokenEnd(byte[] b, int from, int to) {
    int i = from;
    while (i < to && !PerfLineSyntax.isSpace(b[i])) {
      i++;
    }
    return i;
  }

  private static int skipSpace(byte[] b, int from, int to) {
    int i = from;
    while (i < to && PerfLineSyntax.isSpace(b[i])) {
      i++;
    }
    return i;
  }

  private static boolean allDigits(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!PerfLineSyntax.isDigit(b[i])) {
        return false;
      }
    }
    return true;
  }

  /** A frame perf printed on the header line: a hex address, then a symbol and {@code (dso)}. */
  private static boolean looksLikeFrame(byte[] text, int len) {
    int i = 0;
    while (i < len && (PerfLineSyntax.isDigit(text[i]) || (text[i] >= 'a' && text[i] <= 'f'))) {
      i++;
    }
    return i > 0 && i < len && text[i] == ' ' && text[len - 1] == ')';
  }

  private String event(byte[] b, int from, int to) {
    long h = hash(b, from, to);
    int id = eventKeys.find(b, from, to, h);
    if (id < 0) {
      if (eventKeys.size() >= MAX_CACHED_COMMS) {
        eventKeys = new ByteKeyTable();
        events = new String[8];
      }
      id = eventKeys.add(b, from, to, h);
      if (id == events.length) {
        events = Arrays.copyOf(events, id * 2);
      }
      events[id] = new String(b, from, to - from, StandardCharsets.UTF_8);
    }
    return events[id];
  }

  private static final class Comm {
    final String name;
    final boolean java;
    final int processFrame;
    int firstLine = -1; // the first frame line of this comm's last sample

    Comm(String name, boolean java, int processFrame) {
      this.name = name;
      this.java = java;
      this.processFrame = processFrame;
    }
  }

  private Comm comm(byte[] b, int from, int to) {
    long h = hash(b, from, to);
    int id = commKeys.find(b, from, to, h);
    if (id < 0) {
      if (commKeys.size() >= MAX_CACHED_COMMS) {
        commKeys = new ByteKeyTable();
        comms = new Comm[1 << 8];
      }
      id = commKeys.add(b, from, to, h);
      if (id == comms.length) {
        comms = Arrays.copyOf(comms, id * 2);
      }
      String name = new String(b, from, to - from, StandardCharsets.UTF_8);
      String processFrame = FoldedFormat.processFrame(name);
      comms[id] = new Comm(name, FoldedFormat.isJavaProcess(processFrame), names.id(processFrame));
    }
    return comms[id];
  }
}
