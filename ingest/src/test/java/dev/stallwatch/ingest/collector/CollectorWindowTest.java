package dev.stallwatch.ingest.collector;

import static dev.stallwatch.ingest.collector.HostFixture.DOCKER_A;
import static dev.stallwatch.ingest.collector.HostFixture.DOCKER_B;
import static dev.stallwatch.ingest.collector.HostFixture.SERVICE;
import static dev.stallwatch.ingest.collector.HostFixture.dockerScope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.stallwatch.ingest.collector.CollectorMetrics.SkipReason;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.Samples;
import dev.stallwatch.schemas.v1.ProfileWindow;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When windows close and what they hold, driven by {@link Collector#tick} with times of the
 * test's choosing instead of the wall clock. No perf: samples are handed in as perf's reader
 * would hand them over.
 */
class CollectorWindowTest {
  private static final long T0 = 1_795_734_600_000L; // a window boundary (10 s aligned)
  private static final long SECOND = 1_000L;
  private static final long PERIOD_NS = 10_101_010L; // perf's period for cpu-clock at 99 Hz

  @TempDir Path dir;
  private HostFixture host;
  private final RecordingSink sink = new RecordingSink();

  @BeforeEach
  void setUp() {
    host = new HostFixture(dir)
        .process(100, dockerScope(DOCKER_A))
        .process(200, dockerScope(DOCKER_B))
        .process(300, SERVICE);
  }

  private Collector collector(boolean includeHostProcesses) {
    return Collector.builder()
        .host("node-1")
        .procRoot(host.procRoot)
        .cgroupRoot(host.cgroupRoot)
        .includeHostProcesses(includeHostProcesses)
        .sink(sink)
        .metrics(new CollectorMetrics(new PrometheusRegistry()))
        .build();
  }

  private static PerfSample sample(int pid, long epochMillis, String... frames) {
    return Samples.sample("app", pid, pid, 0, epochMillis * 1_000_000L, PERIOD_NS, "cpu-clock", List.of(frames));
  }

  @Test
  void publishesAWindowOnlyWhenItsEndPlusTheGraceHasPassed() {
    Collector collector = collector(false);
    collector.onSample(sample(100, T0 + SECOND, "main", "spin"));
    collector.onSample(sample(100, T0 + 5 * SECOND, "main", "spin"));

    collector.tick(T0 + 9_999);
    collector.tick(T0 + 10 * SECOND);
    collector.tick(T0 + 11_999);
    assertThat(sink.windows()).isEmpty();

    collector.tick(T0 + 12 * SECOND);
    assertThat(sink.windows()).singleElement().satisfies(w -> {
      assertThat(w.getContainerId()).isEqualTo(DOCKER_A);
      assertThat(w.getHost()).isEqualTo("node-1");
      assertThat(w.getWindowStartMs()).isEqualTo(T0);
      assertThat(w.getWindowEndMs()).isEqualTo(T0 + 10 * SECOND);
      assertThat(w.getSampleCount()).isEqualTo(2);
      assertThat(w.getTotalWeight()).isEqualTo(2 * PERIOD_NS);
      assertThat(stacks(w)).containsExactly("app;main;spin");
    });
    assertThat(collector.metrics().windowsPublished()).isEqualTo(1);
  }

  @Test
  void samplesOfTheNextWindowWaitForTheirOwnEnd() {
    Collector collector = collector(false);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.onSample(sample(100, T0 + 10_500, "b")); // arrives before the first window closes
    collector.onSample(sample(200, T0 + 3 * SECOND, "c"));

    collector.tick(T0 + 12 * SECOND);
    assertThat(sink.windows()).extracting(ProfileWindow::getWindowStartMs, ProfileWindow::getContainerId)
        .containsExactlyInAnyOrder(tuple(T0, DOCKER_A), tuple(T0, DOCKER_B));

    collector.tick(T0 + 21 * SECOND);
    assertThat(sink.windows()).hasSize(2);
    collector.tick(T0 + 22 * SECOND);
    assertThat(sink.windows()).hasSize(3);
    assertThat(sink.windows().get(2).getWindowStartMs()).isEqualTo(T0 + 10 * SECOND);
    assertThat(stacks(sink.windows().get(2))).containsExactly("app;b");
  }

  @Test
  void aSampleLaterThanTheGraceIsCountedAndNeverPublishesItsWindowTwice() {
    Collector collector = collector(false);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.tick(T0 + 12 * SECOND);

    collector.onSample(sample(100, T0 + 9 * SECOND, "late"));
    collector.onSample(sample(200, T0 + 9 * SECOND, "late"));
    collector.tick(T0 + 40 * SECOND);
    collector.close();

    assertThat(sink.windows()).singleElement().satisfies(w -> assertThat(w.getSampleCount()).isEqualTo(1));
    assertThat(collector.metrics().skipped(SkipReason.LATE)).isEqualTo(2);
    assertThat(collector.metrics().samplesRead()).isEqualTo(3);
  }

  @Test
  void cgroupCpuOfAWindowIsTheCounterDifferenceBetweenItsBoundaries() {
    Collector collector = collector(false);
    host.cpuUsage(dockerScope(DOCKER_A), 1_000_000);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.tick(T0 + 10 * SECOND + 3); // first reading: the window before it gets no figure
    host.cpuUsage(dockerScope(DOCKER_A), 9_000_000);
    collector.onSample(sample(100, T0 + 15 * SECOND, "a"));
    collector.tick(T0 + 20 * SECOND + 3);
    collector.tick(T0 + 22 * SECOND);

    assertThat(sink.windows()).hasSize(2);
    assertThat(sink.windows().get(0).hasCgroupCpuNs()).isFalse();
    assertThat(sink.windows().get(1).getWindowStartMs()).isEqualTo(T0 + 10 * SECOND);
    assertThat(sink.windows().get(1).getCgroupCpuNs()).isEqualTo(8_000_000_000L);
    assertThat(scrape(collector)).contains("stallwatch_collector_container_cpu_cores{container_id=\"" + DOCKER_A + "\"} 0.8");
  }

  @Test
  void aContainerThatStopsBeingSampledStillGetsWindowsWithItsCpu() {
    Collector collector = collector(false);
    host.cpuUsage(dockerScope(DOCKER_A), 0);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.tick(T0 + 10 * SECOND);
    host.cpuUsage(dockerScope(DOCKER_A), 2_500_000);
    collector.tick(T0 + 20 * SECOND);
    collector.tick(T0 + 22 * SECOND);

    assertThat(sink.windows()).last().satisfies(w -> {
      assertThat(w.getWindowStartMs()).isEqualTo(T0 + 10 * SECOND);
      assertThat(w.getSampleCount()).isZero();
      assertThat(w.getCgroupCpuNs()).isEqualTo(2_500_000_000L);
    });
  }

  @Test
  void aCgroupReadLongAfterItsBoundaryGivesNoFigureForTheWindowsAroundIt() {
    Collector collector = collector(false);
    host.cpuUsage(dockerScope(DOCKER_A), 0);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.tick(T0 + 10 * SECOND);
    host.cpuUsage(dockerScope(DOCKER_A), 5_000_000);
    collector.onSample(sample(100, T0 + 15 * SECOND, "a"));
    collector.tick(T0 + 21_500); // a stalled tick: 1.5 s after the boundary
    host.cpuUsage(dockerScope(DOCKER_A), 9_000_000);
    collector.onSample(sample(100, T0 + 25 * SECOND, "a"));
    collector.tick(T0 + 30 * SECOND);
    collector.tick(T0 + 32 * SECOND);

    assertThat(sink.windows()).hasSize(3).noneMatch(ProfileWindow::hasCgroupCpuNs);
  }

  @Test
  void cpuOfACounterThatRestartedIsItsNewReading() {
    Collector collector = collector(false);
    host.cpuUsage(dockerScope(DOCKER_A), 90_000_000);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.tick(T0 + 10 * SECOND);
    host.cpuUsage(dockerScope(DOCKER_A), 3_000_000); // the service restarted in a new cgroup of that name
    collector.onSample(sample(100, T0 + 15 * SECOND, "a"));
    collector.tick(T0 + 20 * SECOND);
    collector.tick(T0 + 22 * SECOND);

    assertThat(sink.windows().get(1).getCgroupCpuNs()).isEqualTo(3_000_000_000L);
  }

  @Test
  void hostProcessesAreSkippedUnlessIncludedThenNamedAfterTheirCgroup() {
    Collector excluding = collector(false);
    excluding.onSample(sample(300, T0 + SECOND, "nginx"));
    excluding.tick(T0 + 12 * SECOND);
    assertThat(sink.windows()).isEmpty();
    assertThat(excluding.metrics().skipped(SkipReason.NO_CONTAINER)).isEqualTo(1);

    Collector including = collector(true);
    including.onSample(sample(300, T0 + SECOND, "nginx"));
    including.tick(T0 + 12 * SECOND);
    assertThat(sink.windows()).singleElement()
        .extracting(ProfileWindow::getContainerId).isEqualTo("cgroup:" + SERVICE);
  }

  @Test
  void theIdleTaskAndExitedProcessesAreSkipped() {
    Collector collector = collector(true);
    collector.onSample(sample(0, T0 + SECOND, "do_idle"));
    collector.onSample(sample(4242, T0 + SECOND, "gone"));
    collector.tick(T0 + 12 * SECOND);

    assertThat(sink.windows()).isEmpty();
    assertThat(collector.metrics().skipped(SkipReason.IDLE)).isEqualTo(1);
    assertThat(collector.metrics().skipped(SkipReason.NO_CONTAINER)).isEqualTo(1);
  }

  @Test
  void aThreadWhoseProcessEntryIsGoneIsAttributedByItsThreadId() {
    host.process(501, dockerScope(DOCKER_B));
    Collector collector = collector(false);
    collector.onSample(Samples.sample("worker", 500, 501, 1, (T0 + SECOND) * 1_000_000L, PERIOD_NS, "cpu-clock", List.of("f")));
    collector.tick(T0 + 12 * SECOND);

    assertThat(sink.windows()).singleElement().extracting(ProfileWindow::getContainerId).isEqualTo(DOCKER_B);
  }

  @Test
  void closePublishesTheWindowsStillOpenAndFlushesTheSink() {
    Collector collector = collector(false);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.onSample(sample(100, T0 + 14 * SECOND, "b"));
    collector.tick(T0 + 12 * SECOND);
    assertThat(sink.windows()).hasSize(1);

    collector.close();
    assertThat(sink.windows()).hasSize(2);
    assertThat(sink.windows().get(1).getWindowStartMs()).isEqualTo(T0 + 10 * SECOND);
    assertThat(sink.flushes()).isEqualTo(1);

    collector.onSample(sample(100, T0 + 15 * SECOND, "after"));
    assertThat(collector.metrics().skipped(SkipReason.LATE)).isEqualTo(1);
  }

  @Test
  void containerSeriesAreRemovedFiveMinutesAfterTheirLastWindow() {
    Collector collector = collector(false);
    collector.onSample(sample(100, T0 + SECOND, "a"));
    collector.onSample(sample(200, T0 + SECOND, "b"));
    collector.tick(T0 + 12 * SECOND);
    long later = T0 + 300 * SECOND;
    collector.onSample(sample(200, later + SECOND, "b"));
    collector.tick(later + 12 * SECOND);
    assertThat(scrape(collector)).contains(DOCKER_A, DOCKER_B);

    collector.tick(T0 + 320 * SECOND); // A's last window ended 310 s before
    assertThat(scrape(collector)).doesNotContain(DOCKER_A).contains(DOCKER_B);
  }

  @Test
  void theWindowThreadWakesAtBoundariesAndWhenTheGraceEnds() {
    Collector collector = collector(false);
    assertThat(collector.untilNextDue(T0 + 500)).isEqualTo(1_000); // never sleeps past a second
    assertThat(collector.untilNextDue(T0 + 1_500)).isEqualTo(500); // grace ends at T0 + 2 s
    assertThat(collector.untilNextDue(T0 + 9_700)).isEqualTo(300); // the next boundary
    assertThat(collector.untilNextDue(T0 + 2_000)).isEqualTo(1_000);
  }

  static List<String> stacks(ProfileWindow window) {
    return window.getStacksList().stream()
        .map(s -> String.join(";", s.getFramesList().stream().map(window::getStrings).toList()))
        .toList();
  }

  private static String scrape(Collector collector) {
    return PrometheusTextFormatWriter.create()
        .toDebugString(collector.metrics().registry().scrape());
  }
}
