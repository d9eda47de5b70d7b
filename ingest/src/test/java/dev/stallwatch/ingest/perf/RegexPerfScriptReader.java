package dev.stallwatch.ingest.perf;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's reader before it read bytes: a regular expression per header and strings per
 * frame. Kept in the tests as the reference the byte-level {@link PerfScriptReader} must agree with.
 *
 * <p>Reads {@code perf script} output one sample at a time.
 *
 * <p>Headers in the default form and the {@code perf script -F} forms are understood: a comm
 * that may contain spaces and digits, {@code pid/tid} or a lone id, an optional {@code [cpu]},
 * the time, an optional period, any event name ({@code cpu-clock:}, {@code cycles:u:},
 * {@code sched:sched_switch:} with its fields after it), and, without call graphs, the one frame
 * perf prints on the header line. Frames are named by {@link FoldedFormat}, so a sample's frames
 * are exactly those {@link StackFolder} folds. A sample ends at a blank line, at the next
 * header or at the end of input.
 *
 * <p>A line that is neither a header, a frame, a comment nor blank is counted in
 * {@link #malformedLines()} and skipped, with the frames that follow a bad header. Nothing in
 * the text makes this reader throw; an I/O error surfaces as {@link UncheckedIOException}.
 *
 * <p>Where this reader and stackcollapse-perf.pl differ, the script is wrong for the pipeline:
 * a comm like {@code Timer 2} keeps its number here (the script takes {@code 2} as the pid),
 * every event is kept (the script keeps the first event seen; callers filter by {@link
 * PerfSample#event()}), a sample at the end of input without a blank line is not dropped, and
 * {@code \r\n} line ends are accepted.
 */
final class RegexPerfScriptReader implements Iterable<Samples.Sampled>, Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(RegexPerfScriptReader.class);
  private static final int MAX_LOGGED_MALFORMED = 5;
  // comm, pid[/tid] or tid, [cpu], secs.frac: ; the lazy comm takes the first id that the time follows
  private static final Pattern HEADER = Pattern.compile(
      "\\s*(\\S.*?)\\s+(-?\\d+)(?:/(-?\\d+))?\\s+(?:\\[(\\d+)]\\s+)?(\\d+)\\.(\\d{1,9}):(?=\\s|$)",
      Pattern.DOTALL);
  private static final int MAX_HEADER_PREFIX = 512;

  private final String sourceName;
  private final InputStream in;
  private final byte[] chunk = new byte[1 << 16];
  private int chunkPos;
  private int chunkLen;
  private byte[] line = new byte[1 << 10];
  private int lineLen;
  private long lineNumber;
  private boolean eof;
  private boolean iterated;

  private final PerfLineSyntax.FrameFields frame = new PerfLineSyntax.FrameFields();
  private Header header; // the sample being read, or null
  private boolean skippingFrames; // after a malformed header, until the next sample
  private final List<String> frames = new ArrayList<>(); // leaf first, as perf prints them
  private Samples.Sampled pending;

  private long samples;
  private long malformedLines;

  /** Opens a file, plain or gzip (by its magic bytes, not its name). */
  static RegexPerfScriptReader open(Path path) throws IOException {
    return new RegexPerfScriptReader(Files.newInputStream(path), path.toString());
  }

  /**
   * Reads {@code in}, plain or gzip; {@code sourceName} names it in log messages. The reader
   * owns the stream: {@link #close()} closes it.
   */
  RegexPerfScriptReader(InputStream in, String sourceName) {
    this.sourceName = sourceName;
    try {
      this.in = PerfInput.maybeGunzip(in);
    } catch (IOException e) {
      throw new UncheckedIOException(sourceName + ": " + e.getMessage(), e);
    }
  }

  public String sourceName() {
    return sourceName;
  }

  /** Lines skipped so far because they could not be read. */
  public long malformedLines() {
    return malformedLines;
  }

  /** Samples returned so far. */
  public long samples() {
    return samples;
  }

  /** The samples, once: a reader is a single pass over its input. */
  @Override
  public Iterator<Samples.Sampled> iterator() {
    if (iterated) {
      throw new IllegalStateException(sourceName + ": a RegexPerfScriptReader can be iterated only once");
    }
    iterated = true;
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return peek() != null;
      }

      @Override
      public Samples.Sampled next() {
        Samples.Sampled sample = peek();
        if (sample == null) {
          throw new NoSuchElementException();
        }
        pending = null;
        return sample;
      }
    };
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  private Samples.Sampled peek() {
    try {
      while (pending == null && readLine()) {
        onLine();
      }
      if (pending == null && eof) {
        endSample();
      }
      return pending;
    } catch (IOException e) {
      throw new UncheckedIOException(sourceName + ": " + e.getMessage(), e);
    }
  }

  private void onLine() {
    int len = lineLen;
    if (len > 0 && line[len - 1] == '\r') {
      len--;
    }
    if (len == 0) {
      endSample();
      skippingFrames = false;
      return;
    }
    if (line[0] == '#') {
      return;
    }
    boolean indented = PerfLineSyntax.isSpace(line[0]);
    // an indented line is a frame, unless perf padded a comm (headers without call graphs)
    if (!indented || mayHoldTime(len)) {
      Header parsed = parseHeader(len);
      if (parsed != null) {
        endSample();
        header = parsed;
        skippingFrames = false;
        if (parsed.inlineFrame != null) {
          addFrames(parsed.inlineFrame, 0, parsed.inlineFrame.length);
        }
        return;
      }
      if (!indented) {
        malformed(len);
        endSample();
        skippingFrames = true;
        return;
      }
    }
    if (skippingFrames) {
      return;
    }
    if (!addFrames(line, 0, len)) {
      malformed(len);
    }
  }

  /** Adds the frames of one frame line to the current sample; false if it is not a frame line. */
  private boolean addFrames(byte[] text, int from, int to) {
    if (!PerfLineSyntax.splitFrame(text, from, to, frame)) {
      return false;
    }
    if (header == null) {
      return true; // frames of a sample cut off at the start of the input
    }
    String symbol = new String(text, frame.symbolStart, frame.symbolEnd - frame.symbolStart, StandardCharsets.UTF_8);
    String dso = new String(text, frame.dsoStart, frame.dsoEnd - frame.dsoStart, StandardCharsets.UTF_8);
    List<String> names = FoldedFormat.frameNames(symbol, dso, header.java);
    // perf prints the leaf first; keep each line's names in order so that reversing restores them
    for (int i = names.size() - 1; i >= 0; i--) {
      frames.add(names.get(i));
    }
    return true;
  }

  private void endSample() {
    if (header == null) {
      return;
    }
    List<String> rootFirst = new ArrayList<>(frames);
    Collections.reverse(rootFirst);
    pending = new Samples.Sampled(header.comm, header.pid, header.tid, header.cpu, header.timestampNanos,
        header.period, header.event, List.copyOf(rootFirst));
    samples++;
    header = null;
    frames.clear();
  }

  private void malformed(int len) {
    malformedLines++;
    if (malformedLines <= MAX_LOGGED_MALFORMED && LOG.isDebugEnabled()) {
      LOG.debug("{} line {}: skipped unreadable line: {}", sourceName, lineNumber,
          new String(line, 0, Math.min(len, 200), StandardCharsets.UTF_8));
    }
  }

  /** A cheap test before the header regex on indented lines: a {@code digits.digits:} token. */
  private boolean mayHoldTime(int len) {
    for (int i = 2; i < len; i++) {
      if (line[i] == ':' && PerfLineSyntax.isDigit(line[i - 1])) {
        int j = i - 1;
        while (j > 0 && PerfLineSyntax.isDigit(line[j])) {
          j--;
        }
        if (line[j] == '.' && j > 0 && PerfLineSyntax.isDigit(line[j - 1])) {
          return true;
        }
      }
    }
    return false;
  }

  private record Header(String comm, int pid, int tid, int cpu, long timestampNanos, long period,
      String event, boolean java, byte[] inlineFrame) {}

  private Header parseHeader(int len) {
    String text = new String(line, 0, len, StandardCharsets.UTF_8);
    Matcher m = HEADER.matcher(text);
    m.region(0, Math.min(text.length(), MAX_HEADER_PREFIX)).useTransparentBounds(true).useAnchoringBounds(false);
    if (!m.lookingAt()) {
      return null;
    }
    String comm = m.group(1);
    Integer first = parseInt(m.group(2));
    Integer second = m.group(3) == null ? null : parseInt(m.group(3));
    Integer cpu = m.group(4) == null ? Integer.valueOf(-1) : parseInt(m.group(4));
    long seconds = parseLong(m.group(5));
    if (first == null || (m.group(3) != null && second == null) || cpu == null || seconds < 0
        || seconds > Long.MAX_VALUE / 1_000_000_000L - 1) {
      return null;
    }
    String fraction = m.group(6);
    long nanos = Long.parseLong(fraction) * POWERS_OF_TEN[9 - fraction.length()];
    int pid = second == null ? -1 : first;
    int tid = second == null ? first : second;

    // after the time: [period] [event:] [rest], where rest is a tracepoint's fields or a frame
    String[] rest = text.substring(m.end()).trim().split("\\s+", 3);
    int next = 0;
    long period = 0;
    if (next < rest.length && !rest[next].isEmpty() && isDigits(rest[next])) {
      period = parseLong(rest[next]);
      if (period < 0) {
        return null;
      }
      next++;
    }
    String event = "";
    if (next < rest.length && rest[next].endsWith(":") && rest[next].length() > 1) {
      event = rest[next].substring(0, rest[next].length() - 1);
      next++;
    }
    byte[] inlineFrame = null;
    if (next < rest.length && !rest[next].isEmpty()) {
      String tail = String.join(" ", Arrays.asList(rest).subList(next, rest.length));
      byte[] bytes = tail.getBytes(StandardCharsets.UTF_8);
      if (looksLikeFrame(bytes)) {
        inlineFrame = bytes;
      }
    }
    boolean java = FoldedFormat.isJavaProcess(FoldedFormat.processFrame(comm));
    return new Header(comm, pid, tid, cpu, seconds * 1_000_000_000L + nanos, period, event, java, inlineFrame);
  }

  /** A frame perf printed on the header line: a hex address, then a symbol and {@code (dso)}. */
  private static boolean looksLikeFrame(byte[] text) {
    int i = 0;
    while (i < text.length && isHex(text[i])) {
      i++;
    }
    return i > 0 && i < text.length && text[i] == ' ' && text[text.length - 1] == ')';
  }

  private static boolean isHex(byte b) {
    return PerfLineSyntax.isDigit(b) || (b >= 'a' && b <= 'f');
  }

  private static boolean isDigits(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private static final long[] POWERS_OF_TEN = {
      1L, 10L, 100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L};

  /** The value, or null when it does not fit. */
  private static Integer parseInt(String digits) {
    try {
      return Integer.valueOf(digits);
    } catch (NumberFormatException e) {
      return null; // too many digits for an id: not a header we can use
    }
  }

  /** The value, or -1 when it does not fit. */
  private static long parseLong(String digits) {
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return -1; // too many digits: treated as a malformed header
    }
  }

  /** Reads the next line (without its line feed) into {@link #line}; false at the end. */
  private boolean readLine() throws IOException {
    lineLen = 0;
    boolean any = false;
    while (true) {
      if (chunkPos == chunkLen) {
        if (eof) {
          return any;
        }
        chunkLen = in.read(chunk, 0, chunk.length);
        chunkPos = 0;
        if (chunkLen <= 0) {
          chunkLen = 0;
          eof = true;
          return any;
        }
      }
      any = true;
      int start = chunkPos;
      int newline = start;
      while (newline < chunkLen && chunk[newline] != '\n') {
        newline++;
      }
      append(start, newline);
      if (newline < chunkLen) {
        chunkPos = newline + 1;
        lineNumber++;
        return true;
      }
      chunkPos = chunkLen;
    }
  }

  private void append(int from, int to) {
    int n = to - from;
    if (lineLen + n > line.length) {
      line = Arrays.copyOf(line, Math.max(line.length * 2, lineLen + n));
    }
    System.arraycopy(chunk, from, line, lineLen, n);
    lineLen += n;
  }
}
