package dev.stallwatch.ingest.perf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import dev.stallwatch.ingest.perf.Samples.Sampled;

class PerfScriptReaderTest {
  private static final String FRAMES = """
      \tffffffff821f94c3 schedule+0x23 ([kernel.kallsyms])
      \t           5f0e7 runtime.osyield.abi0+0x7 (/tmp/perfbase/go/goyield)
      \t           828f7 main.yieldNest (/tmp/perfbase/go/goyield)

      """;

  private static List<Sampled> read(String text) {
    return read(Samples.reader(text));
  }

  private static List<Sampled> read(PerfScriptReader reader) {
    return Samples.readAll(reader);
  }

  private static Sampled only(String text) {
    List<Sampled> samples = read(text);
    assertThat(samples).hasSize(1);
    return samples.get(0);
  }

  @Test
  void readsTheDefaultHeader() {
    Sampled sample = only("C2 CompilerThre  7211 [001] 1795733183.034064:   10101010 cpu-clock: \n" + FRAMES);
    assertThat(sample).isEqualTo(new Sampled("C2 CompilerThre", -1, 7211, 1, 1795733183_034064000L, 10101010,
        "cpu-clock", List.of("main.yieldNest", "runtime.osyield.abi0", "schedule")));
    assertThat(sample.processId()).isEqualTo(7211);
  }

  @Test
  void readsPidTidCpuAndPeriodForm() {
    Sampled sample = only("gzip  7217/7218  [000] 1795733183.034050:   10101010 cpu-clock: \n" + FRAMES);
    assertThat(sample.pid()).isEqualTo(7217);
    assertThat(sample.tid()).isEqualTo(7218);
    assertThat(sample.cpu()).isZero();
    assertThat(sample.period()).isEqualTo(10101010);
  }

  @Test
  void readsTidOnlyWithoutCpuOrPeriod() {
    Sampled sample = only("gzip  7217 1795733183.034050: cpu-clock: \n" + FRAMES);
    assertThat(sample.pid()).isEqualTo(-1);
    assertThat(sample.tid()).isEqualTo(7217);
    assertThat(sample.cpu()).isEqualTo(-1);
    assertThat(sample.period()).isZero();
    assertThat(sample.event()).isEqualTo("cpu-clock");
    assertThat(sample.timestampNanos()).isEqualTo(1795733183_034050000L);
  }

  @Test
  void keepsDigitsInsideTheComm() {
    Sampled sample = only("Timer 2 worker 4242 [003] 12.000000001: 1 cycles:u:\n" + FRAMES);
    assertThat(sample.comm()).isEqualTo("Timer 2 worker");
    assertThat(sample.tid()).isEqualTo(4242);
    assertThat(sample.cpu()).isEqualTo(3);
    assertThat(sample.timestampNanos()).isEqualTo(12_000_000_001L);
    assertThat(sample.event()).isEqualTo("cycles:u");
  }

  @Test
  void readsTracepointEventsWithTheirFields() {
    Sampled sample = only("perf  8033 [000]   673.893626: sched:sched_switch: prev_comm=perf prev_pid=8033"
        + " prev_prio=120 prev_state=D ==> next_comm=migration/0 next_pid=18 next_prio=0\n" + FRAMES);
    assertThat(sample.event()).isEqualTo("sched:sched_switch");
    assertThat(sample.period()).isZero();
    assertThat(sample.frames()).hasSize(3);
  }

  @Test
  void namesFramesLikeTheFolder() {
    String text = """
        java 17857   538.351768:    1001001 cpu-clock:\s
        \t            1238 jit_callback+0x2f (/tmp/perfbase/odd/oddcases)
        \t    7f79fe5df050 Ljava/lang/String;::hashCode+0x10 (/tmp/perf-17857.map)
        \t    7f79fe5df0d0 [unknown] (/tmp/perf-17857.map)
        \t            113d [unknown] (/tmp/perfbase/odd/libdel_copy2.so (deleted))
        \t           3fbc2 msort_with_tmp+0x262 (inlined)
        \t          10c0b0 outer->inner+0x4 (/lib/x.so)
        \t    7ffc71ee9580 [unknown] ([unknown])
        \tffffffff813a2413 finish_task_switch.isra.0+0x93 ([kernel.kallsyms])

        """;
    assertThat(only(text).frames()).containsExactly(
        "finish_task_switch.isra.0", "[unknown]", "outer", "inner_[i]", "msort_with_tmp", "[unknown] ",
        "[perf-17857.map]", "java/lang/String:::hashCode", "jit_callback");
  }

  @Test
  void aSampleWithoutFramesHasNone() {
    List<Sampled> samples = read("swapper     0 [000] 1.5: 7 cpu-clock:\n\nswapper     0 [001] 1.6: 7 cpu-clock:\n\n");
    assertThat(samples).hasSize(2).allSatisfy(sample -> assertThat(sample.frames()).isEmpty());
  }

  @Test
  void readsTheFramePrintedOnTheHeaderWithoutCallGraphs() {
    // perf pads the comm to 16 columns when there is no call graph, and prints no blank lines
    List<Sampled> samples = read("""
                    gzip  7217 [000] 1795733183.034050:   10101010 cpu-clock:  d19c deflate+0x1c (/usr/bin/gzip)
                    perf  8033 [001] 1795733183.034051:   10101010 cpu-clock:  ffffffff81 schedule ([kernel.kallsyms])
        """);
    assertThat(samples).extracting(Sampled::comm).containsExactly("gzip", "perf");
    assertThat(samples).extracting(Sampled::frames).containsExactly(List.of("deflate"), List.of("schedule"));
  }

  @Test
  void countsAndSkipsMalformedLinesAndTheFramesOfABadHeader() {
    PerfScriptReader reader = Samples.reader(new ByteArrayInputStream(("""
        # ========
        # cmdline : /usr/bin/perf record -g
        goyield 14958   452.102087:    1001001 cpu-clock:
        \tnot a frame
        \t5f0e7 runtime.osyield.abi0+0x7 (/tmp/goyield)

        this header has no time 12 cpu-clock:
        \t5f0e7 runtime.osyield.abi0+0x7 (/tmp/goyield)

        \u0000\u00ff garbage
        goyield 14958   452.102088:    1001001 cpu-clock:
        \t5f0e7 runtime.osyield.abi0+0x7 (/tmp/goyield)

        """).getBytes(StandardCharsets.UTF_8)));
    List<Sampled> samples = read(reader);
    assertThat(samples).hasSize(2).allSatisfy(s -> assertThat(s.frames()).containsExactly("runtime.osyield.abi0"));
    assertThat(reader.malformedLines()).isEqualTo(3);
    assertThat(reader.samples()).isEqualTo(2);
  }

  @Test
  void keepsALastSampleWithoutBlankLineAndAcceptsCrLf() {
    List<Sampled> samples = read("a b 1 1.000001: 1 cpu-clock:\r\n\t1 f (/x)\r\n\r\na b 1 1.000002: 1 cpu-clock:\r\n\t1 g (/x)");
    assertThat(samples).extracting(Sampled::frames).containsExactly(List.of("f"), List.of("g"));
  }

  @Test
  void opensGzipByMagicBytesNotByName(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("capture.txt");
    try (GZIPOutputStream gz = new GZIPOutputStream(Files.newOutputStream(file))) {
      gz.write(("goyield 14958   452.102087:    1001001 cpu-clock:\n" + FRAMES).getBytes(StandardCharsets.UTF_8));
    }
    assertThat(Samples.read(file)).singleElement().extracting(Sampled::comm).isEqualTo("goyield");
  }

  @Test
  void isASinglePass() throws IOException {
    PerfScriptReader reader = Samples.reader(InputStream.nullInputStream());
    assertThat(read(reader)).isEmpty();
    assertThatThrownBy(() -> reader.read(s -> { })).isInstanceOf(IllegalStateException.class).hasMessageContaining("once");
  }

  @Test
  void randomBytesNeverThrow() {
    java.util.Random random = new java.util.Random(38023);
    for (int round = 0; round < 200; round++) {
      byte[] bytes = new byte[random.nextInt(5000)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = random.nextInt(4) == 0 ? (byte) '\n' : (byte) random.nextInt(256);
      }
      PerfScriptReader reader = Samples.reader(new ByteArrayInputStream(bytes));
      assertThat(read(reader).size()).isEqualTo(reader.samples());
    }
  }

  static Stream<PerfTestInputs.Input> singleEventInputs() {
    return PerfTestInputs.singleEvent();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("singleEventInputs")
  void agreesWithTheFolder(PerfTestInputs.Input input) throws IOException {
    Map<String, Long> fromReader = new HashMap<>();
    try (InputStream in = Files.newInputStream(input.path())) {
      PerfScriptReader reader = Samples.reader(in);
      for (Sampled sample : read(reader)) {
        String stack = FoldedFormat.stack(FoldedFormat.processFrame(sample.comm()), sample.frames());
        fromReader.merge(stack, sample.period() == 0 ? 1 : sample.period(), Long::sum);
      }
      assertThat(reader.malformedLines()).isZero();
    }
    ByteArrayOutputStream ignored = new ByteArrayOutputStream();
    StackFolder.Result result = StackFolder.fold(input.path(), ignored);
    try (InputStream in = Files.newInputStream(input.path())) {
      assertThat(fromReader).isEqualTo(StackFolder.fold(in, FoldOptions.DEFAULTS).asMap());
    }
    assertThat(result.samples()).isPositive();
  }

  @Test
  void readsEveryEventOfAMultiEventCapture() throws IOException {
    Map<String, Integer> events = new HashMap<>();
    try (InputStream in = Files.newInputStream(PerfTestInputs.RESOURCES.resolve("recorded-multi-event.perf.txt"))) {
      PerfScriptReader reader = Samples.reader(in);
      read(reader).forEach(sample -> events.merge(sample.event(), 1, Integer::sum));
      assertThat(reader.malformedLines()).isZero(); // the ":-1 -1" sample perf prints for a lost thread is read
    }
    assertThat(events).containsOnlyKeys("cpu-clock", "page-faults", "sched:sched_switch");
  }
}
