package dev.stallwatch.ingest.perf;

/**
 * How stackcollapse-perf.pl reads the lines of {@code perf script} output, on bytes.
 *
 * <p>The script classifies a line with three regular expressions. Each method here computes
 * exactly what the matching expression captures (Perl's leftmost, backtracking semantics, and
 * its ASCII-only {@code \s \d \w} on byte strings), without a regex engine, so the folder runs at
 * memory speed and never backtracks catastrophically. The regexes themselves live in the tests,
 * which check these methods against them.
 *
 * <p>Ranges are {@code [from, to)} over one line without its line feed.
 */
final class PerfLineSyntax {
  private static final boolean[] SPACE = new boolean[256];
  private static final boolean[] DIGIT = new boolean[256];
  private static final boolean[] WORD = new boolean[256];

  static {
    for (char c : new char[] {' ', '\t', '\n', '\r', '\f', 0x0B}) {
      SPACE[c] = true;
    }
    for (int c = 0; c < 256; c++) {
      DIGIT[c] = c >= '0' && c <= '9';
      WORD[c] = DIGIT[c] || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }
  }

  private PerfLineSyntax() {}

  static boolean isSpace(byte b) {
    return SPACE[b & 0xFF];
  }

  static boolean isDigit(byte b) {
    return DIGIT[b & 0xFF];
  }

  static boolean isWord(byte b) {
    return WORD[b & 0xFF];
  }

  /**
   * The end of the comm if the line is a sample header, else -1. The script's test is
   * {@code /^(\S.+?)\s+(\d+)\/*(\d+)*\s+/}: the shortest comm of at least two characters that is
   * followed by blanks, digits, optional {@code /digits} and a blank. So {@code Timer 2 x 42 ...}
   * has comm {@code Timer}, and a one-character comm swallows fields up to the next number.
   */
  static int commEnd(byte[] b, int from, int to) {
    if (to - from < 2 || isSpace(b[from])) {
      return -1;
    }
    int e = from + 2;
    while (e < to) {
      if (!isSpace(b[e])) {
        e++;
        continue;
      }
      int q = e;
      while (q < to && isSpace(b[q])) {
        q++;
      }
      if (q < to && isDigit(b[q])) {
        int r = q;
        while (r < to && isDigit(b[r])) {
          r++;
        }
        while (r < to && b[r] == '/') {
          r++;
        }
        while (r < to && isDigit(b[r])) {
          r++;
        }
        if (r < to && isSpace(b[r])) {
          return e;
        }
        q = r;
      }
      // any start inside the blank run fails the same way; resume after what was examined
      e = q;
    }
    return -1;
  }

  /** Where the event name and period sit in a header line; see {@link #findEvent}. */
  static final class EventFields {
    int eventStart;
    int eventEnd;
    int periodStart;
    int periodEnd;
  }

  /**
   * Finds the event name and the optional period the way {@code /:\s*(\d+)*\s+(\S+):\s*$/} does:
   * the line must end with {@code name:} (then only blanks), preceded by blanks, optional digits
   * (the period), optional blanks and a colon. False when it does not, e.g. when a tracepoint's
   * fields follow the event name; the script then neither filters the sample nor reads a period.
   */
  static boolean findEvent(byte[] b, int from, int to, EventFields out) {
    int end = to;
    while (end > from && isSpace(b[end - 1])) {
      end--;
    }
    int colon = end - 1;
    if (colon <= from || b[colon] != ':') {
      return false;
    }
    int start = colon;
    while (start > from && !isSpace(b[start - 1])) {
      start--;
    }
    if (start == colon || start == from) {
      return false; // empty name, or no blank before it
    }
    int i = start;
    while (i > from && isSpace(b[i - 1])) {
      i--;
    }
    int digitsEnd = i;
    while (i > from && isDigit(b[i - 1])) {
      i--;
    }
    int digitsStart = i;
    while (i > from && isSpace(b[i - 1])) {
      i--;
    }
    if (i == from || b[i - 1] != ':') {
      return false;
    }
    out.eventStart = start;
    out.eventEnd = colon;
    out.periodStart = digitsStart;
    out.periodEnd = digitsEnd;
    return true;
  }

  /**
   * The sample weight the script takes from the period digits: none or {@code 0} count as 1
   * (Perl's falsy strings), anything else its value. Saturates instead of overflowing.
   */
  static long period(byte[] b, int start, int end) {
    if (start == end || (end - start == 1 && b[start] == '0')) {
      return 1;
    }
    long value = 0;
    for (int i = start; i < end; i++) {
      int digit = b[i] - '0';
      if (value > (Long.MAX_VALUE - digit) / 10) {
        return Long.MAX_VALUE;
      }
      value = value * 10 + digit;
    }
    return value;
  }

  /** Symbol and dso of a frame line; see {@link #splitFrame}. */
  static final class FrameFields {
    int symbolStart;
    int symbolEnd;
    int dsoStart;
    int dsoEnd;
  }

  /**
   * Splits a frame line the way {@code /^\s*(\w+)\s*(.+) \((.*)\)/} does: the symbol runs from
   * after the address to the last {@code " ("} that has a {@code )} after it, and the dso from
   * there to the last {@code )} of the line. So {@code sym (/lib/x.so (deleted))} has symbol
   * {@code sym (/lib/x.so} and dso {@code deleted)}, as in the script.
   *
   * @return false when the script would report the line as unrecognized
   */
  static boolean splitFrame(byte[] b, int from, int to, FrameFields out) {
    int i = from;
    while (i < to && isSpace(b[i])) {
      i++;
    }
    int addrStart = i;
    while (i < to && isWord(b[i])) {
      i++;
    }
    int addrEnd = i;
    if (addrEnd == addrStart) {
      return false;
    }
    while (i < to && isSpace(b[i])) {
      i++;
    }
    int close = lastIndexOf(b, from, to, (byte) ')');
    if (close < 0) {
      return false;
    }
    if (splitSymbolDso(b, i, close, out)) {
      return true;
    }
    // No " (" after the first symbol character: Perl backtracks into the blanks or the address
    // to find a one-character symbol in front of a " (" that starts right at the symbol.
    int symbolStart = i;
    if (symbolStart >= to || b[symbolStart] != '(' || b[symbolStart - 1] != ' ' || close < symbolStart + 1) {
      return false;
    }
    if (symbolStart - addrEnd >= 2) {
      out.symbolStart = symbolStart - 2;
    } else if (symbolStart - addrEnd == 1 && addrEnd - addrStart >= 2) {
      out.symbolStart = addrEnd - 1;
    } else {
      return false;
    }
    out.symbolEnd = out.symbolStart + 1;
    out.dsoStart = symbolStart + 1;
    out.dsoEnd = close;
    return true;
  }

  /**
   * The common case of {@link #splitFrame}, which depends only on the bytes from the symbol's
   * first character to the line's last {@code )} (inclusive): that range is what the folder
   * interns a frame by.
   */
  static boolean splitSymbolDso(byte[] b, int symbolStart, int close, FrameFields out) {
    for (int p = close - 2; p >= symbolStart + 1; p--) {
      if (b[p] == ' ' && b[p + 1] == '(') {
        out.symbolStart = symbolStart;
        out.symbolEnd = p;
        out.dsoStart = p + 2;
        out.dsoEnd = close;
        return true;
      }
    }
    return false;
  }

  static int lastIndexOf(byte[] b, int from, int to, byte value) {
    for (int i = to - 1; i >= from; i--) {
      if (b[i] == value) {
        return i;
      }
    }
    return -1;
  }
}
