package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Access logs on disk, followed through a rotation, into windows per container; driven by a test clock. */
class UpstreamCollectorTest {
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static final String CHECKOUT = "9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
  private static final String INVENTORY = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
  private static final long W30 = Instant.parse("2024-03-05T10:15:30Z").toEpochMilli();
  private static final long W40 = Instant.parse("2024-03-05T10:15:40Z").toEpochMilli();

  @TempDir
  Path dir;

  private final MutableClock clock = new MutableClock(Instant.parse("2024-03-05T10:15:29Z"));
  private final RecordingSink sink = new RecordingSink();

  private Path addressMap() throws IOException {
    Path file = dir.resolve("upstreams.csv");
    try (InputStream in = getClass().getResourceAsStream("/upstream/upstreams.csv")) {
      Files.copy(in, file);
    }
    return file;
  }

  private static void append(Path file, List<String> lines) throws IOException {
    Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  @Test
  void nginxLogAcrossARotationBecomesWindowsPerContainer() throws Exception {
    Path log = dir.resolve("access.log");
    append(log, List.of("10.1.2.3 - - [05/Mar/2024:10:10:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"curl\" "
        + "10.0.0.7:8080 504 0.1 0.1")); // history before the collector started: not counted
    Path map = addressMap();
    UpstreamCollector collector = UpstreamCollector.builder()
        .sink(sink).registry(new PrometheusRegistry()).host("node-a").clock(clock)
        .addressMap(map)
        .nginxLog(log, null, null)
        .build();
    String source = "nginx:" + log;
    assertThat(collector.sourceNames()).containsExactly(source);

    collector.pollLogsAndTick();
    append(log, NginxLineParserTest.fixture("nginx-access.log"));
    collector.pollLogsAndTick();
    Files.move(log, dir.resolve("access.log.1"));
    append(log, List.of("10.1.2.3 - - [05/Mar/2024:10:15:41 +0000] \"GET /api/orders/1 HTTP/1.1\" 504 0 \"-\" "
        + "\"curl/8.5.0\" 10.0.0.7:8080 504 60.001 60.000"));
    // the address map is rewritten: orders moved to a new container
    Files.writeString(map, "10.0.0.7:8080,orders-replacement\n");
    clock.set(Instant.parse("2024-03-05T10:15:45Z"));
    collector.pollLogsAndTick();

    assertThat(sink.windows()).extracting(UpstreamWindow::getContainerId, UpstreamWindow::getRequests,
            UpstreamWindow::getTimeouts)
        .containsExactlyInAnyOrder(
            tuple(ORDERS, 5L, 2L),
            tuple(CHECKOUT, 2L, 0L),
            tuple(INVENTORY, 2L, 1L));
    assertThat(sink.windows()).allSatisfy(w -> {
      assertThat(w.getSource()).isEqualTo(source);
      assertThat(w.getHost()).isEqualTo("node-a");
      assertThat(w.getWindowStartMs()).isEqualTo(W30);
      assertThat(w.getWindowEndMs()).isEqualTo(W30 + 10_000);
    });

    clock.set(Instant.parse("2024-03-05T10:15:55Z"));
    collector.close();
    assertThat(sink.windows()).last().isEqualTo(UpstreamWindow.newBuilder().setSource(source)
        .setContainerId("orders-replacement").setHost("node-a").setWindowStartMs(W40).setWindowEndMs(W40 + 10_000)
        .setRequests(1).setTimeouts(1).build());
    UpstreamMetrics metrics = collector.metrics();
    assertThat(metrics.lines(source)).isEqualTo(10);
    assertThat(metrics.malformedLines(source)).isEqualTo(1);
    assertThat(metrics.unmappedRequests(source)).isEqualTo(1);
    assertThat(metrics.rotations(source, "rename")).isEqualTo(1);
  }

  @Test
  void envoyLogBecomesWindowsPerContainer() throws Exception {
    Path log = dir.resolve("envoy-access.log");
    UpstreamCollector collector = UpstreamCollector.builder()
        .sink(sink).registry(new PrometheusRegistry()).host("node-a").clock(clock)
        .addressMap(addressMap())
        .envoyLog(log)
        .build();
    String source = "envoy:" + log;

    collector.pollLogsAndTick();
    append(log, NginxLineParserTest.fixture("envoy-access.log"));
    collector.pollLogsAndTick();
    clock.set(Instant.parse("2024-03-05T10:15:55Z"));
    collector.pollLogsAndTick();

    assertThat(sink.windows()).extracting(UpstreamWindow::getWindowStartMs, UpstreamWindow::getContainerId,
            UpstreamWindow::getRequests, UpstreamWindow::getTimeouts)
        .containsExactlyInAnyOrder(
            tuple(W30, ORDERS, 1L, 0L),
            tuple(W30, CHECKOUT, 1L, 1L),
            tuple(W30, INVENTORY, 1L, 0L),
            tuple(W40, ORDERS, 2L, 2L));
    assertThat(collector.metrics().malformedLines(source)).isEqualTo(3);
    collector.close();
  }

  @Test
  void sourcesThatNameAddressesNeedAnAddressMap() {
    assertThatThrownBy(() -> UpstreamCollector.builder().sink(sink).registry(new PrometheusRegistry()).host("h")
        .nginxLog(dir.resolve("access.log"), null, null).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("set addressMap(FILE)");
  }

  @Test
  void aScrapeMustFitInTheGracePeriod() throws Exception {
    Path map = addressMap();
    UpstreamCollector.Builder builder = UpstreamCollector.builder().sink(sink).registry(new PrometheusRegistry())
        .host("h").addressMap(map).grace(Duration.ofSeconds(2));
    // without scrapes a short grace is fine
    builder.build().close();

    builder.registry(new PrometheusRegistry())
        .prometheus(URI.create("http://127.0.0.1:9901/stats/prometheus"), PrometheusScrapeSource.Counters.envoyCluster());
    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("must finish within the grace period");
  }

  @Test
  void startedCollectorPublishesOnItsOwnThreads() throws Exception {
    Path log = dir.resolve("access.log");
    UpstreamCollector collector = UpstreamCollector.builder()
        .sink(sink).registry(new PrometheusRegistry()).host("node-a")
        .addressMap(addressMap())
        .nginxLog(log, "$msec $upstream_addr $upstream_status", null)
        .startAtEnd(false) // the log thread may first look before or after the line is written
        .pollInterval(Duration.ofMillis(20))
        .build();
    collector.start();
    try {
      // counted a minute ago: published as soon as the log thread reads it
      long minuteAgo = System.currentTimeMillis() - 60_000;
      append(log, List.of(String.format("%d.%03d 10.0.0.7:8080 504", minuteAgo / 1000, minuteAgo % 1000)));
      await().atMost(Duration.ofSeconds(10)).until(() -> !sink.windows().isEmpty());
    } finally {
      collector.close();
    }
    assertThat(sink.windows()).extracting(UpstreamWindow::getContainerId, UpstreamWindow::getTimeouts)
        .containsExactly(tuple(ORDERS, 1L));
  }
}
