package dev.stallwatch.ingest.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.Samples;
import dev.stallwatch.schemas.v1.ProfileWindow;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProfileWindowAssemblerTest {
  private static final long T0 = 1_700_000_000_000L; // on a 10 s boundary
  private static final ContainerRef ORDERS = new ContainerRef("c1", "node-a", "orders-0", "shop", "go1.14.1");

  private static PerfSample sample(long epochMs, long period, String event, String... frames) {
    return Samples.sample("orders svc", 42, 43, 0, epochMs * 1_000_000L, period, event, List.of(frames));
  }

  @Test
  void alignsWindowsToTheEpochAndSumsEqualStacks() {
    ProfileWindowAssembler assembler = new ProfileWindowAssembler(10_000, 99);
    assembler.add(ORDERS, sample(T0 + 9_999, 10_101_010, "cpu-clock", "runtime.morestack", "runtime.osyield"));
    assembler.add(ORDERS, sample(T0 + 1, 10_101_010, "cpu-clock", "runtime.morestack", "runtime.osyield"));
    assembler.add(ORDERS, sample(T0 + 10_000, 10_101_010, "cpu-clock", "main.main"));

    List<ProfileWindow> windows = assembler.drainAll();

    assertThat(windows).extracting(ProfileWindow::getWindowStartMs).containsExactly(T0, T0 + 10_000);
    ProfileWindow first = windows.get(0);
    assertThat(first.getWindowEndMs()).isEqualTo(T0 + 10_000);
    assertThat(first.getStacksList()).singleElement().satisfies(stack -> {
      assertThat(stack.getSamples()).isEqualTo(2);
      assertThat(stack.getWeight()).isEqualTo(2 * 10_101_010L);
      // comm first, spaces folded as in the folded format, then root to leaf
      assertThat(stack.getFramesList()).extracting(first::getStrings)
          .containsExactly("orders_svc", "runtime.morestack", "runtime.osyield");
    });
    assertThat(first.getStrings(0)).isEmpty();
    assertThat(first.getTotalWeight()).isEqualTo(2 * 10_101_010L);
    assertThat(first.getSampleCount()).isEqualTo(2);
    assertThat(first.getRuntime().getVersion()).isEqualTo("go1.14.1");
    assertThat(first.getPod()).isEqualTo("orders-0");
    assertThat(assembler.openWindows()).isZero();
  }

  @Test
  void weighsBySampleFrequencyWithoutAClockPeriod() {
    ProfileWindowAssembler assembler = new ProfileWindowAssembler(10_000, 49);
    assembler.add(ORDERS, sample(T0, 0, "cpu-clock", "a"));
    assembler.add(ORDERS, sample(T0 + 1, 250_000, "cycles", "a")); // a cycle count is not nanoseconds
    assertThat(assembler.drainAll().get(0).getTotalWeight()).isEqualTo(2 * Math.round(1e9 / 49));
  }

  @Test
  void drainBeforeEmitsOnlyClosedWindowsOldestFirst() {
    ProfileWindowAssembler assembler = new ProfileWindowAssembler(10_000, 99);
    assembler.add(new ContainerRef("c2", "node-b", "", "", ""), sample(T0 + 25_000, 1, "cpu-clock", "x"));
    assembler.add(ORDERS, sample(T0 + 15_000, 1, "cpu-clock", "x"));
    assembler.add(ORDERS, sample(T0 + 5_000, 1, "cpu-clock", "x"));

    assertThat(assembler.drainBefore(T0 + 20_000)).extracting(ProfileWindow::getWindowStartMs)
        .containsExactly(T0, T0 + 10_000);
    assertThat(assembler.openWindows()).isEqualTo(1);
    assertThat(assembler.drainBefore(T0 + 20_000)).isEmpty();
  }

  @Test
  void cgroupCpuMakesAWindowEvenWithoutSamples() {
    ProfileWindowAssembler assembler = new ProfileWindowAssembler(10_000, 99);
    assembler.addCgroupCpu(ORDERS, T0 + 3, 9_500_000_000L);
    ProfileWindow window = assembler.drainAll().get(0);
    assertThat(window.getWindowStartMs()).isEqualTo(T0);
    assertThat(window.getCgroupCpuNs()).isEqualTo(9_500_000_000L);
    assertThat(window.getStacksCount()).isZero();
  }

  @Test
  void rejectsNonsenseSizes() {
    assertThatThrownBy(() -> new ProfileWindowAssembler(0, 99)).hasMessageContaining("window size");
    assertThatThrownBy(() -> new ProfileWindowAssembler(10_000, 0)).hasMessageContaining("frequency");
  }
}
