package dev.stallwatch.ingest.perf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.ingest.perf.Samples.Sampled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The byte-level reader against the regex reader it replaced: the same samples, field for field
 * and frame for frame, on every real capture and on seeded random and mutated text; and its
 * bounds and counters on hostile input.
 */
class PerfScriptReaderAgreementTest {
  static Stream<PerfTestInputs.Input> inputs() {
    return PerfTestInputs.all();
  }

  private static List<Sampled> regex(byte[] bytes) {
    List<Sampled> samples = new ArrayList<>();
    new RegexPerfScriptReader(new ByteArrayInputStream(bytes), "reference").forEach(samples::add);
    return samples;
  }

  private static long regexMalformed(byte[] bytes) {
    RegexPerfScriptReader reader = new RegexPerfScriptReader(new ByteArrayInputStream(bytes), "reference");
    reader.forEach(s -> { });
    return reader.malformedLines();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void readsEveryCaptureAsTheRegexReaderDid(PerfTestInputs.Input input) {
    byte[] bytes = PerfTestInputs.bytes(input.path());
    PerfScriptReader reader = Samples.reader(new ByteArrayInputStream(bytes));
    List<Sampled> samples = Samples.readAll(reader);
    assertThat(samples).isNotEmpty().isEqualTo(regex(bytes));
    assertThat(reader.malformedLines()).isEqualTo(regexMalformed(bytes));
  }

  @Test
  @Timeout(30)
  void agreesOnSeededRandomAndMutatedText() throws IOException {
    byte[] real = PerfTestInputs.bytes(PerfTestInputs.RESOURCES.resolve(
        "recorded-F-comm-pid-tid-cpu-time-period-event-ip-sym-dso.perf.txt"));
    String[] lines = new String(real, StandardCharsets.ISO_8859_1).split("\n", -1);
    String alphabet = " \t\r:./[]()-+0123456789abcdef_xyz\u00ff";
    for (long seed = 1; seed <= 300; seed++) {
      Random random = new Random(seed);
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      int start = random.nextInt(lines.length);
      int count = 5 + random.nextInt(200);
      for (int i = 0; i < count; i++) {
        StringBuilder line = new StringBuilder(lines[(start + i) % lines.length]);
        int edits = random.nextInt(4) == 0 ? 1 + random.nextInt(3) : 0;
        for (int e = 0; e < edits && line.length() > 0; e++) {
          int at = random.nextInt(line.length());
          switch (random.nextInt(3)) {
            case 0 -> line.deleteCharAt(at);
            case 1 -> line.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
            default -> line.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
          }
        }
        text.writeBytes(line.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (random.nextInt(40) != 0 || i == count - 1) {
          text.write('\n');
        }
      }
      byte[] bytes = text.toByteArray();
      // the regex reader decodes UTF-8; keep to inputs where bytes and characters agree
      if (!new String(bytes, StandardCharsets.ISO_8859_1).chars().allMatch(c -> c < 0x80)) {
        bytes = new String(bytes, StandardCharsets.ISO_8859_1).replace('\u00ff', '~').getBytes(StandardCharsets.US_ASCII);
      }
      PerfScriptReader reader = Samples.reader(new ByteArrayInputStream(bytes));
      int[] seen = {0};
      List<Sampled> samples = new ArrayList<>();
      reader.read(s -> {
        seen[0]++;
        assertThat(s.depth()).isBetween(0, PerfScriptReader.MAX_FRAMES);
        samples.add(Samples.copy(s));
      });
      assertThat(samples).as("seed %d", seed).isEqualTo(regex(bytes));
      assertThat(reader.malformedLines()).as("seed %d", seed).isEqualTo(regexMalformed(bytes));
      assertThat(reader.samples()).isEqualTo(seen[0]);
      assertThat(reader.lines()).isLessThanOrEqualTo(count);
    }
  }

  @Test
  @Timeout(30)
  void randomBytesStayWithinBoundsAndCountsAddUp() throws IOException {
    for (long seed = 1; seed <= 200; seed++) {
      Random random = new Random(seed);
      byte[] bytes = new byte[random.nextInt(20_000)];
      random.nextBytes(bytes);
      long newlines = 0;
      for (int i = 0; i < bytes.length; i++) {
        if (random.nextInt(30) == 0) {
          bytes[i] = '\n';
        }
        newlines += bytes[i] == '\n' ? 1 : 0;
      }
      PerfScriptReader reader = Samples.reader(new ByteArrayInputStream(bytes));
      long[] seen = {0};
      reader.read(s -> {
        seen[0]++;
        assertThat(s.depth()).isBetween(0, PerfScriptReader.MAX_FRAMES);
      });
      assertThat(reader.samples()).isEqualTo(seen[0]);
      long lastLine = bytes.length > 0 && bytes[bytes.length - 1] != '\n' ? 1 : 0;
      assertThat(reader.lines()).as("seed %d", seed).isEqualTo(newlines + lastLine);
      assertThat(reader.malformedLines()).isLessThanOrEqualTo(reader.lines());
    }
  }

  @Test
  @Timeout(30)
  void aHugeLineIsSkippedAndCountedNotHeld() throws IOException {
    StringBuilder text = new StringBuilder("app 1/1 [000] 1.000000001: 1 cpu-clock:\n\t1 f (/x)\n\n");
    text.append("app 1/1 [000] 1.000000002: 1 cpu-clock:\n\t1 ");
    text.append("g".repeat(20 << 20)).append(" (/x)\n\n");
    text.append("app 1/1 [000] 1.000000003: 1 cpu-clock:\n\t1 h (/x)\n\n");
    PerfScriptReader reader = Samples.reader(text.toString());
    List<Sampled> samples = Samples.readAll(reader);
    // the sample with the huge frame is dropped; the ones around it are whole
    assertThat(samples).extracting(Sampled::frames).containsExactly(List.of("f"), List.of("h"));
    assertThat(reader.oversizedLines()).isEqualTo(1);
    assertThat(reader.malformedLines()).isEqualTo(1);
  }

  @Test
  void framesBeyondTheLimitAreLeftOutAndCounted() throws IOException {
    StringBuilder text = new StringBuilder("app 1/1 [000] 1.000000001: 1 cpu-clock:\n");
    for (int i = 0; i < PerfScriptReader.MAX_FRAMES + 500; i++) {
      text.append("\t1 f").append(i).append(" (/x)\n");
    }
    text.append('\n');
    PerfScriptReader reader = Samples.reader(text.toString());
    List<Sampled> samples = Samples.readAll(reader);
    assertThat(samples).singleElement().satisfies(s -> assertThat(s.frames()).hasSize(PerfScriptReader.MAX_FRAMES));
    assertThat(reader.truncatedSamples()).isEqualTo(1);
  }
}
