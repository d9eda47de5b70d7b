package dev.stallwatch.ingest.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.Samples;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner's life cycle with commands that stand in for perf: restarts, parse errors, clean stops. */
class PerfRunnerTest {
  private static final String SAMPLE = """
      spin 4242/4243 [001] 1795734601.250000:   10101010 cpu-clock:\s
      \t    55d0c0a0b0c0 spin_loop+0x10 (/usr/local/bin/spin)
      \t    7f0000001234 __libc_start_main+0xf3 (/usr/lib/x86_64-linux-gnu/libc.so.6)

      """;

  @TempDir Path dir;

  private final Recording listener = new Recording();

  @Test
  void aPerfThatEndsIsStartedAgainAfterABackoffAndCounted() {
    Path output = FakePerf.script(dir.resolve("output.txt"), SAMPLE + "this line is no perf output\n\n");
    PerfSettings settings = PerfSettings.builder().command("cat " + output).build();
    try (PerfRunner runner = PerfRunner.builder(settings, listener)
        .initialBackoff(Duration.ofMillis(20))
        .maxBackoff(Duration.ofMillis(40))
        .build()) {
      runner.start();

      await().atMost(Duration.ofSeconds(20)).until(() -> runner.restarts() >= 3 && listener.samples.size() >= 3);
      assertThat(listener.restarts.get()).isEqualTo(runner.restarts());
      assertThat(listener.malformed.get()).isGreaterThanOrEqualTo(3);
      Samples.Sampled sample = listener.samples.get(0);
      assertThat(sample.comm()).isEqualTo("spin");
      assertThat(sample.pid()).isEqualTo(4242);
      assertThat(sample.tid()).isEqualTo(4243);
      assertThat(sample.frames()).containsExactly("__libc_start_main", "spin_loop");
    } catch (PerfUnavailableException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  @Test
  void perfOutputWithoutOneSampleFailsTheStartSayingWhatItPrinted() {
    Path output = FakePerf.script(dir.resolve("garbage.txt"), "this is not perf script output\nnor is this\n\nor this\n");
    for (String command : new String[] {"cat " + output, "cat " + output + "; sleep 600"}) {
      PerfSettings settings = PerfSettings.builder().command(command).build();
      PerfRunner runner = PerfRunner.builder(settings, listener).startTimeout(Duration.ofSeconds(3)).build();
      assertThatThrownBy(runner::start).isInstanceOf(PerfUnavailableException.class)
          .hasMessageContaining("perf printed 4 line(s) of which none parsed as a perf script sample")
          .hasMessageContaining("'this is not perf script output'");
      runner.close();
    }
    assertThat(listener.samples).isEmpty();
  }

  @Test
  void closeStopsPerfAndEveryProcessItStarted() throws Exception {
    Path output = FakePerf.script(dir.resolve("output.txt"), SAMPLE);
    // a shell with a child of its own, both running until stopped, like a perf record | perf script pipeline
    PerfSettings settings = PerfSettings.builder().command("cat " + output + "; sleep 600 & sleep 600; wait").build();
    PerfRunner runner = PerfRunner.builder(settings, listener).build();
    runner.start();
    ProcessHandle shell = perfCommands(output).findFirst().orElseThrow();
    await().atMost(Duration.ofSeconds(10)).until(() -> shell.descendants().filter(ProcessHandle::isAlive).count() >= 2);
    List<ProcessHandle> all = Stream.concat(Stream.of(shell), shell.descendants()).toList();
    assertThat(all).hasSizeGreaterThanOrEqualTo(3).allMatch(ProcessHandle::isAlive);

    runner.close();

    await().atMost(Duration.ofSeconds(10)).until(() -> all.stream().noneMatch(ProcessHandle::isAlive));
    assertThat(perfCommands(output)).isEmpty();
    assertThat(runner.restarts()).isZero();
  }

  /** This JVM's live children that run the perf command reading {@code output}. */
  private static Stream<ProcessHandle> perfCommands(Path output) {
    return ProcessHandle.current().children().filter(ProcessHandle::isAlive)
        .filter(p -> p.info().commandLine().map(c -> c.contains(output.toString())).orElse(false));
  }

  private static final class Recording implements PerfRunner.Listener {
    final List<Samples.Sampled> samples = new CopyOnWriteArrayList<>();
    final AtomicLong malformed = new AtomicLong();
    final AtomicLong restarts = new AtomicLong();

    @Override
    public void onSample(PerfSample sample) {
      samples.add(Samples.copy(sample)); // the reader reuses the sample
    }

    @Override
    public void onMalformedLines(long count) {
      malformed.addAndGet(count);
    }

    @Override
    public void onRestart() {
      restarts.incrementAndGet();
    }
  }
}
