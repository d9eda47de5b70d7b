package dev.stallwatch.ingest.perf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The script's behaviours, one at a time, and the folder's own paths (gzip, blocks, threads). */
class StackFolderTest {
  private static final String HEADER = "goyield 14958   452.102087:    1001001 cpu-clock: \n";
  private static final String FRAMES = """
      \tffffffff821f94c3 schedule+0x23 ([kernel.kallsyms])
      \t           5f0e7 runtime.osyield.abi0+0x7 (/tmp/perfbase/go/goyield)
      \t           828f7 main.yieldNest+0x37 (/tmp/perfbase/go/goyield)
      """;
  private static final String STACK = "goyield;main.yieldNest;runtime.osyield.abi0;schedule";

  private static StackFolder.Folded fold(String text) throws IOException {
    return StackFolder.fold(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)), FoldOptions.DEFAULTS);
  }

  /** Keys as ISO-8859-1, one char per byte, to compare with the reference. */
  private static Map<String, Long> latin1(StackFolder.Folded folded) {
    Map<String, Long> map = new HashMap<>();
    for (FoldWorker.FoldedStack stack : folded.stacks()) {
      map.put(new String(stack.text(), StandardCharsets.ISO_8859_1), stack.count());
    }
    return map;
  }

  @Test
  void sumsPeriodsOfEqualStacks() throws IOException {
    StackFolder.Folded folded = fold(HEADER + FRAMES + "\n" + HEADER + FRAMES + "\n");
    assertThat(folded.asMap()).containsExactly(entry(STACK, 2002002L));
    assertThat(folded.result()).isEqualTo(new StackFolder.Result(2, 0, 0, "cpu-clock", 1));
  }

  @Test
  void missingOrZeroPeriodCountsOne() throws IOException {
    String text = "a b 1 1.0: cpu-clock:\n\tf1 f (/x)\n\n"
        + "a b 1 1.0: 0 cpu-clock:\n\tf1 f (/x)\n\n"
        + "a b 1 1.0: 00 cpu-clock:\n\tf1 g (/x)\n\n";
    assertThat(fold(text).asMap()).containsOnly(entry("a_b;f", 2L), entry("a_b;g", 0L));
  }

  @Test
  void keepsOnlyTheFirstEventType() throws IOException {
    String text = HEADER + FRAMES + "\n"
        + "goyield 14958   452.2: 1 page-faults: \n\t1 pf (/x)\n\n"
        + HEADER + FRAMES + "\n";
    StackFolder.Folded folded = fold(text);
    assertThat(folded.asMap()).containsExactly(entry(STACK, 2002002L));
    assertThat(folded.result().filteredSamples()).isEqualTo(1);
    assertThat(folded.result().event()).isEqualTo("cpu-clock");
  }

  @Test
  void tracepointsWithFieldsAreNeitherFilteredNorWeighted() throws IOException {
    // the event regex needs the line to end with "event:", so these count 1 and are never filtered
    String text = HEADER + FRAMES + "\n"
        + "perf 8033 [000] 673.893626: sched:sched_switch: prev_comm=perf prev_pid=8033 ==> next_pid=18\n"
        + "\tffffffff821f8b58 __schedule+0x618 ([kernel.kallsyms])\n\n";
    assertThat(fold(text).asMap()).containsOnly(entry(STACK, 1001001L), entry("perf;__schedule", 1L));
  }

  @Test
  void aSampleWithoutFramesIsItsProcessAlone() throws IOException {
    assertThat(fold("fib deep 12817   414.8: 5 cpu-clock:\n\n").asMap()).containsExactly(entry("fib_deep", 5L));
  }

  @Test
  void countsAndSkipsMalformedLines() throws IOException {
    String text = "# cmdline : /usr/bin/perf record -g\n"
        + HEADER + "\tthis is not a frame\n" + FRAMES + "garbage\n\n"
        + ":-1    -1 [001]   675.3: cpu-clock:\n\t1 lost (/x)\n\n"; // frames of a bad header are skipped
    StackFolder.Folded folded = fold(text);
    assertThat(folded.asMap()).containsExactly(entry(STACK, 1001001L));
    assertThat(folded.result().malformedLines()).isEqualTo(3);
  }

  @Test
  void aLastSampleWithoutBlankLineIsDroppedLikeTheScriptDoes() throws IOException {
    StackFolder.Folded folded = fold(HEADER + FRAMES + "\n" + HEADER + FRAMES.stripTrailing());
    assertThat(folded.asMap()).containsExactly(entry(STACK, 1001001L));
  }

  @Test
  void aHeaderWithoutBlankLineBeforeItContinuesTheStack() throws IOException {
    String text = HEADER + "\t1 leaf (/x)\n" + "other 7 1.0: 3 cpu-clock:\n\t2 root (/x)\n\n";
    assertThat(fold(text).asMap()).containsExactly(entry("other;root;leaf", 3L));
  }

  @Test
  void detectsGzipByMagicBytesNotByName(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("capture.txt");
    try (GZIPOutputStream gz = new GZIPOutputStream(Files.newOutputStream(file))) {
      gz.write((HEADER + FRAMES + "\n").getBytes(StandardCharsets.US_ASCII));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StackFolder.fold(file, out);
    assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo(STACK + " 1001001\n");
  }

  @Test
  void outputIsByteExactAndSortedLikePerl() throws IOException {
    byte[] text = ("b\u00e9b 1 1.0: 1 cpu-clock:\n\t1 f\u00ff (/x)\n\nab 1 1.0: 1 cpu-clock:\n\t1 g (/x)\n\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StackFolder.fold(new ByteArrayInputStream(text), out);
    assertThat(out.toByteArray()).isEqualTo("ab;g 1\nb\u00e9b;f\u00ff 1\n".getBytes(StandardCharsets.ISO_8859_1));

    StringWriter writer = new StringWriter();
    StackFolder.fold(new ByteArrayInputStream("\u00fcber 1 1.0: 2 cpu-clock:\n\t1 f (/x)\n\n".getBytes(StandardCharsets.UTF_8)), writer);
    assertThat(writer.toString()).isEqualTo("\u00fcber;f 2\n");
  }

  @Test
  void emptyInputFoldsToNothing() throws IOException {
    assertThat(fold("").result()).isEqualTo(new StackFolder.Result(0, 0, 0, null, 0));
  }

  @Test
  void samplesLargerThanABlockAndInputWithoutBlankLinesFoldInOrder() throws IOException {
    byte[] text = PerfTestInputs.bytes(PerfTestInputs.RESOURCES.resolve("recorded-default.perf.txt"));
    StackFolder.Folded tiny = StackFolder.fold(new ByteArrayInputStream(text), FoldOptions.DEFAULTS, 700, 2);
    StackFolder.Folded whole = StackFolder.fold(new ByteArrayInputStream(text), FoldOptions.DEFAULTS);
    assertThat(tiny.asMap()).isEqualTo(whole.asMap());
    assertThat(tiny.result()).isEqualTo(whole.result());

    // perf script without call graphs: one line per sample and no blank line at all
    StringBuilder flat = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      flat.append("gzip  7217 [000] 17.0").append(i).append(":   10101010 cpu-clock:  d19c deflate (/usr/bin/gzip)\n");
    }
    flat.append('\n');
    byte[] flatBytes = flat.toString().getBytes(StandardCharsets.US_ASCII);
    StackFolder.Folded flatFolded = StackFolder.fold(new ByteArrayInputStream(flatBytes), FoldOptions.DEFAULTS, 4096, 2);
    assertThat(latin1(flatFolded)).isEqualTo(ReferenceStackcollapse.fold(flatBytes).stacks);
  }

  @Test
  void fuzzedPerfTextFoldsLikeTheReference() throws IOException {
    byte[] base = PerfTestInputs.bytes(PerfTestInputs.RESOURCES.resolve("recorded-multi-event.perf.txt"));
    String[] lines = new String(base, StandardCharsets.ISO_8859_1).split("\n", -1);
    Random random = new Random(38070);
    for (int round = 0; round < 40; round++) {
      StringBuilder text = new StringBuilder();
      for (String line : lines) {
        int dice = random.nextInt(100);
        if (dice < 8) {
          text.append(new String(PerfLineSyntaxTest.mutate(line.getBytes(StandardCharsets.ISO_8859_1), random),
              StandardCharsets.ISO_8859_1)).append('\n');
        } else if (dice == 8) {
          text.append('\n').append(line).append('\n');
        } else if (dice != 9) {
          text.append(line).append('\n');
        }
      }
      byte[] bytes = text.toString().getBytes(StandardCharsets.ISO_8859_1);
      ReferenceStackcollapse expected = ReferenceStackcollapse.fold(bytes);
      StackFolder.Folded actual = StackFolder.fold(new ByteArrayInputStream(bytes), FoldOptions.DEFAULTS,
          1 << (10 + random.nextInt(8)), 1 + random.nextInt(3));
      assertThat(latin1(actual)).as("round %d", round).isEqualTo(expected.stacks);
      assertThat(actual.result().malformedLines()).isEqualTo(expected.malformed);
      assertThat(actual.result().filteredSamples()).isEqualTo(expected.filtered);
      assertThat(actual.result().samples()).isEqualTo(expected.samples);
    }
  }

  @Test
  void randomBytesNeverThrow() throws IOException {
    Random random = new Random(355);
    for (int round = 0; round < 200; round++) {
      byte[] bytes = new byte[random.nextInt(5000)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = random.nextInt(4) == 0 ? (byte) '\n' : (byte) random.nextInt(256);
      }
      ReferenceStackcollapse expected = ReferenceStackcollapse.fold(bytes);
      StackFolder.Folded actual = StackFolder.fold(new ByteArrayInputStream(bytes), FoldOptions.DEFAULTS, 512, 2);
      assertThat(latin1(actual)).isEqualTo(expected.stacks);
      assertThat(actual.result().malformedLines()).isEqualTo(expected.malformed);
    }
  }
}
