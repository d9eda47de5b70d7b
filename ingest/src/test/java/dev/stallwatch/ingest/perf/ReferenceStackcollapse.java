package dev.stallwatch.ingest.perf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A slow, literal transcription of stackcollapse-perf.pl's main loop (default options) with the
 * script's own regular expressions, as the oracle for {@link StackFolder}'s byte-level rules.
 * Lines are ISO-8859-1 strings, so every byte is one char, as in Perl without {@code use utf8}.
 * Naming is {@link FoldedFormat}'s, which the golden files check against the real script.
 */
final class ReferenceStackcollapse {
  // Java's \s \d \w are ASCII like Perl's on byte strings; UNIX_LINES makes . and $ Perl's
  static final Pattern HEADER = Pattern.compile("^(\\S.+?)\\s+(\\d+)/*(\\d+)*\\s+", Pattern.UNIX_LINES);
  static final Pattern EVENT = Pattern.compile(":\\s*(\\d+)*\\s+(\\S+):\\s*$", Pattern.UNIX_LINES);
  static final Pattern FRAME = Pattern.compile("^\\s*(\\w+)\\s*(.+) \\((.*)\\)", Pattern.UNIX_LINES);

  final Map<String, Long> stacks = new HashMap<>();
  long malformed;
  long filtered;
  long samples;

  static ReferenceStackcollapse fold(byte[] input) {
    ReferenceStackcollapse reference = new ReferenceStackcollapse();
    String text = new String(input, StandardCharsets.ISO_8859_1);
    List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
    if (text.endsWith("\n")) {
      lines.remove(lines.size() - 1); // Perl's <> yields no empty line after the last line feed
    }
    reference.run(lines);
    return reference;
  }

  private void run(List<String> lines) {
    String pname = null;
    long period = 0;
    String eventFilter = null;
    List<String> stack = new ArrayList<>();
    for (String line : lines) {
      if (line.startsWith("#")) {
        continue;
      }
      if (line.isEmpty()) {
        if (pname == null) {
          continue;
        }
        stack.add(0, pname);
        stacks.merge(String.join(";", stack), period, StackCounter::saturatedAdd);
        samples++;
        stack.clear();
        pname = null;
        continue;
      }
      Matcher header = HEADER.matcher(line);
      if (header.find()) {
        String periodText = "";
        Matcher event = EVENT.matcher(line);
        if (event.find()) {
          periodText = event.group(1);
          if (eventFilter == null) {
            eventFilter = event.group(2);
          } else if (!event.group(2).equals(eventFilter)) {
            filtered++;
            continue;
          }
        }
        period = periodText == null || periodText.isEmpty() || periodText.equals("0")
            ? 1 : saturatedParse(periodText);
        pname = header.group(1).replace(' ', '_');
        continue;
      }
      Matcher frame = FRAME.matcher(line);
      if (frame.find()) {
        if (pname == null) {
          continue;
        }
        stack.addAll(0, FoldedFormat.frameNames(frame.group(2), frame.group(3), pname.startsWith("java")));
        continue;
      }
      malformed++;
    }
  }

  private static long saturatedParse(String digits) {
    long value = 0;
    for (int i = 0; i < digits.length(); i++) {
      int digit = digits.charAt(i) - '0';
      if (value > (Long.MAX_VALUE - digit) / 10) {
        return Long.MAX_VALUE;
      }
      value = value * 10 + digit;
    }
    return value;
  }
}
