package dev.stallwatch.ingest.perf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole-output comparison with what the real stackcollapse-perf.pl printed for each input
 * ({@code regenerate.sh} writes the expected files).
 */
class StackFolderGoldenTest {
  static Stream<PerfTestInputs.Input> inputs() {
    return PerfTestInputs.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void foldsExactlyLikeStackcollapsePerl(PerfTestInputs.Input input) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StackFolder.Result result = StackFolder.fold(input.path(), out);

    byte[] expected = Files.readAllBytes(input.expectedFolded());
    assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo(new String(expected, StandardCharsets.ISO_8859_1));
    assertThat(result.malformedLines()).isEqualTo(input.expectedUnrecognized());
    assertThat(result.stacks()).isEqualTo(expected.length == 0 ? 0 : new String(expected, StandardCharsets.ISO_8859_1).split("\n").length);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void writerOutputIsTheSameText(PerfTestInputs.Input input) throws IOException {
    StringWriter out = new StringWriter();
    StackFolder.fold(input.path(), out);
    assertThat(out.toString()).isEqualTo(Files.readString(input.expectedFolded(), StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void smallBlocksOnFourThreadsGiveTheSameOutput(PerfTestInputs.Input input) throws IOException {
    byte[] text = PerfTestInputs.bytes(input.path());
    StackFolder.Folded whole = StackFolder.fold(new java.io.ByteArrayInputStream(text), FoldOptions.DEFAULTS,
        text.length + 1, 1);
    StackFolder.Folded blocks = StackFolder.fold(new java.io.ByteArrayInputStream(text), FoldOptions.DEFAULTS,
        16 << 10, 4);
    assertThat(blocks.asMap()).isEqualTo(whole.asMap());
    assertThat(blocks.result()).isEqualTo(whole.result());
  }
}
