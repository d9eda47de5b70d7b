package dev.stallwatch.ingest.perf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Checks the byte-level rules against the script's own regular expressions, on real and mutated lines. */
class PerfLineSyntaxTest {
  private static final byte[] TRICKY = " \t\r\f\u000b()[]:;/+x0123456789abcdef->_.#'\"LZ\u00e9".getBytes(StandardCharsets.ISO_8859_1);
  private static List<byte[]> corpus;

  @BeforeAll
  static void buildCorpus() {
    List<byte[]> lines = new ArrayList<>();
    PerfTestInputs.all().forEach(input -> {
      byte[] text = PerfTestInputs.bytes(input.path());
      int start = 0;
      for (int i = 0; i < text.length && lines.size() < 400_000; i++) {
        if (text[i] == '\n') {
          lines.add(Arrays.copyOfRange(text, start, i));
          start = i + 1;
        }
      }
    });
    Random random = new Random(38023);
    int real = lines.size();
    for (int n = 0; n < 60_000; n++) {
      lines.add(mutate(lines.get(random.nextInt(real)), random));
    }
    corpus = lines;
  }

  static byte[] mutate(byte[] line, Random random) {
    byte[] out = line.clone();
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits; e++) {
      int at = out.length == 0 ? 0 : random.nextInt(out.length + 1);
      byte b = TRICKY[random.nextInt(TRICKY.length)];
      switch (random.nextInt(4)) {
        case 0 -> { // insert
          byte[] longer = new byte[out.length + 1];
          System.arraycopy(out, 0, longer, 0, at);
          longer[at] = b;
          System.arraycopy(out, at, longer, at + 1, out.length - at);
          out = longer;
        }
        case 1 -> { // delete
          if (at < out.length) {
            byte[] shorter = new byte[out.length - 1];
            System.arraycopy(out, 0, shorter, 0, at);
            System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
            out = shorter;
          }
        }
        case 2 -> { // replace
          if (at < out.length) {
            out[at] = b;
          }
        }
        default -> { // cut
          out = Arrays.copyOf(out, at);
        }
      }
    }
    return out;
  }

  private static String latin1(byte[] line) {
    return new String(line, StandardCharsets.ISO_8859_1);
  }

  @Test
  void commEndIsWhatTheHeaderRegexCaptures() {
    for (byte[] line : corpus) {
      Matcher m = ReferenceStackcollapse.HEADER.matcher(latin1(line));
      int expected = m.find() ? m.end(1) : -1;
      assertThat(PerfLineSyntax.commEnd(line, 0, line.length)).as(latin1(line)).isEqualTo(expected);
    }
  }

  @Test
  void findEventIsWhatTheEventRegexCaptures() {
    PerfLineSyntax.EventFields fields = new PerfLineSyntax.EventFields();
    for (byte[] line : corpus) {
      Matcher m = ReferenceStackcollapse.EVENT.matcher(latin1(line));
      boolean matches = m.find();
      assertThat(PerfLineSyntax.findEvent(line, 0, line.length, fields)).as(latin1(line)).isEqualTo(matches);
      if (matches) {
        assertThat(latin1(line).substring(fields.eventStart, fields.eventEnd)).isEqualTo(m.group(2));
        String period = latin1(line).substring(fields.periodStart, fields.periodEnd);
        assertThat(period).as(latin1(line)).isEqualTo(m.group(1) == null ? "" : m.group(1));
      }
    }
  }

  @Test
  void splitFrameIsWhatTheFrameRegexCaptures() {
    PerfLineSyntax.FrameFields fields = new PerfLineSyntax.FrameFields();
    for (byte[] line : corpus) {
      Matcher m = ReferenceStackcollapse.FRAME.matcher(latin1(line));
      boolean matches = m.find();
      assertThat(PerfLineSyntax.splitFrame(line, 0, line.length, fields)).as(latin1(line)).isEqualTo(matches);
      if (matches) {
        assertThat(latin1(line).substring(fields.symbolStart, fields.symbolEnd)).as(latin1(line)).isEqualTo(m.group(2));
        assertThat(latin1(line).substring(fields.dsoStart, fields.dsoEnd)).as(latin1(line)).isEqualTo(m.group(3));
      }
    }
  }

  @Test
  void commIsTheShortestPrefixFollowedByAnId() {
    assertThat(commOf("V8 WorkerThread 24636/25607 [000] 94564.109216: 100 cycles:")).isEqualTo("V8 WorkerThread");
    assertThat(commOf("swapper     0 [000] 158665.570607:   10101010 cpu-clock: ")).isEqualTo("swapper");
    // the script's reading, not perf's: a number inside the comm ends it
    assertThat(commOf("Timer 2 x 42 [000] 1.000001: 1 cpu-clock:")).isEqualTo("Timer");
    // a one-character comm cannot be one: the comm runs on to the period
    assertThat(commOf("X 42 [000] 1.000001: 5 cpu-clock:")).isEqualTo("X 42 [000] 1.000001:");
    assertThat(commOf("X 42 [000] 1.000001: cpu-clock:")).isNull();
  }

  @Test
  void eventNeedsTheLineToEndWithIt() {
    assertThat(eventOf("java 1/2 [000] 1.5: 7 cycles:u: ")).isEqualTo("cycles:u|7");
    assertThat(eventOf("java 2 1.5: sched:sched_switch:")).isEqualTo("sched:sched_switch|");
    assertThat(eventOf("perf 8033 [000] 673.8: sched:sched_switch: prev_comm=perf prev_pid=8033")).isNull();
  }

  @Test
  void frameDsoIsInTheLastParentheses() {
    assertThat(frameOf("\t 113d [unknown] (/tmp/libdel.so (deleted))")).isEqualTo("[unknown] (/tmp/libdel.so|deleted)");
    assertThat(frameOf("\t 7f79 RegExp:[&<>\"'] (x;y)+0x10 (/tmp/perf-1.map)")).isEqualTo("RegExp:[&<>\"'] (x;y)+0x10|/tmp/perf-1.map");
    // no symbol: Perl backtracks into the blanks or the address for a one-character symbol
    assertThat(frameOf("\t 7f12  (/lib/x.so)")).isEqualTo(" |/lib/x.so");
    assertThat(frameOf("\t 7f12 (/lib/x.so)")).isEqualTo("2|/lib/x.so");
    assertThat(frameOf("\t 7 (/lib/x.so)")).isNull();
  }

  private static String commOf(String line) {
    byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
    int end = PerfLineSyntax.commEnd(b, 0, b.length);
    return end < 0 ? null : line.substring(0, end);
  }

  private static String eventOf(String line) {
    byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
    PerfLineSyntax.EventFields f = new PerfLineSyntax.EventFields();
    return PerfLineSyntax.findEvent(b, 0, b.length, f)
        ? line.substring(f.eventStart, f.eventEnd) + "|" + line.substring(f.periodStart, f.periodEnd) : null;
  }

  private static String frameOf(String line) {
    byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
    PerfLineSyntax.FrameFields f = new PerfLineSyntax.FrameFields();
    return PerfLineSyntax.splitFrame(b, 0, b.length, f)
        ? line.substring(f.symbolStart, f.symbolEnd) + "|" + line.substring(f.dsoStart, f.dsoEnd) : null;
  }
}
