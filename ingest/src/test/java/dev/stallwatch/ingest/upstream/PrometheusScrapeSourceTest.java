package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.sun.net.httpserver.HttpServer;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Envoy /stats/prometheus scrapes from {@code upstream/envoy-stats-*.txt}, turned into window counts. */
class PrometheusScrapeSourceTest {
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static final String CHECKOUT = "9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
  private static final Instant T0 = Instant.parse("2024-03-05T10:15:31Z");

  private final MutableClock clock = new MutableClock(T0);
  private final RecordingSink sink = new RecordingSink();
  private final UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
  private final UpstreamAggregator aggregator = new UpstreamAggregator(sink, "node-a", clock, Duration.ofSeconds(10),
      Duration.ofSeconds(5), Duration.ofMinutes(5), metrics);
  private final UpstreamAddressMap addresses = UpstreamAddressMap.of(Map.of("orders", ORDERS, "checkout", CHECKOUT));
  private HttpServer server;

  private PrometheusScrapeSource source(URI target) {
    return new PrometheusScrapeSource(target, PrometheusScrapeSource.Counters.envoyCluster(), Duration.ofSeconds(2),
        addresses, aggregator, metrics, clock);
  }

  private static String fixture(String name) throws IOException {
    try (InputStream in = PrometheusScrapeSourceTest.class.getResourceAsStream("/upstream/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.stop(0);
    }
  }

  private static UpstreamWindow window(String source, String container, Instant start, long requests, long timeouts) {
    return UpstreamWindow.newBuilder().setSource(source).setContainerId(container).setHost("node-a")
        .setWindowStartMs(start.toEpochMilli()).setWindowEndMs(start.toEpochMilli() + 10_000)
        .setRequests(requests).setTimeouts(timeouts).build();
  }

  @Test
  void increasesBetweenScrapesLandInTheWindowOfTheirMidpoint() throws Exception {
    PrometheusScrapeSource source = source(URI.create("http://envoy:9901/stats/prometheus"));
    source.accept(fixture("envoy-stats-1.txt"), T0.toEpochMilli());
    source.accept(fixture("envoy-stats-2.txt"), T0.plusSeconds(10).toEpochMilli());
    clock.set(T0.plusSeconds(20));
    aggregator.tick();

    String name = "prometheus:http://envoy:9901/stats/prometheus";
    // scrapes at :31 and :41, midpoint :36: window [:30, :40)
    assertThat(sink.windows()).containsExactlyInAnyOrder(
        window(name, ORDERS, Instant.parse("2024-03-05T10:15:30Z"), 600, 41),
        window(name, CHECKOUT, Instant.parse("2024-03-05T10:15:30Z"), 120, 0));
    // xds_cluster is not in the map; payments appeared in the second scrape (its baseline)
    assertThat(metrics.unmappedRequests(name)).isEqualTo(1);
    // the line with the unclosed label set
    assertThat(metrics.malformedLines(name)).isEqualTo(1);
  }

  @Test
  void countersThatWentDownWereResetAndCountFromZero() throws Exception {
    PrometheusScrapeSource source = source(URI.create("http://envoy:9901/stats/prometheus"));
    source.accept(fixture("envoy-stats-1.txt"), T0.toEpochMilli());
    source.accept(fixture("envoy-stats-2.txt"), T0.plusSeconds(10).toEpochMilli());
    // Envoy restarted between the second and third scrape
    source.accept(fixture("envoy-stats-3-after-restart.txt"), T0.plusSeconds(20).toEpochMilli());
    clock.set(T0.plusSeconds(30));
    aggregator.tick();

    String name = "prometheus:http://envoy:9901/stats/prometheus";
    assertThat(sink.windows()).filteredOn(w -> w.getWindowStartMs() == Instant.parse("2024-03-05T10:15:40Z").toEpochMilli())
        .containsExactlyInAnyOrder(
            window(name, ORDERS, Instant.parse("2024-03-05T10:15:40Z"), 40, 6),
            window(name, CHECKOUT, Instant.parse("2024-03-05T10:15:40Z"), 55, 0));
    // orders total and timeouts, checkout total and timeouts, xds_cluster total, payments total
    assertThat(metrics.counterResets(name)).isEqualTo(6);
  }

  @Test
  void aLongGapSetsANewBaselineInsteadOfOneHugeWindow() throws Exception {
    PrometheusScrapeSource source = source(URI.create("http://envoy:9901/stats/prometheus"));
    source.accept(fixture("envoy-stats-1.txt"), T0.toEpochMilli());
    source.accept(fixture("envoy-stats-2.txt"), T0.plusSeconds(60).toEpochMilli());
    clock.set(T0.plusSeconds(80));
    aggregator.tick();

    assertThat(sink.windows()).isEmpty();
  }

  @Test
  void scrapesARealHttpEndpointAndCountsFailedScrapes() throws Exception {
    AtomicReference<String> body = new AtomicReference<>(fixture("envoy-stats-1.txt"));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/stats/prometheus", exchange -> {
      String text = body.get();
      if (text == null) {
        exchange.sendResponseHeaders(503, -1);
      } else {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
      }
      exchange.close();
    });
    server.start();
    URI target = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/stats/prometheus");
    PrometheusScrapeSource source = source(target);

    source.poll();
    body.set(null);
    clock.advance(Duration.ofSeconds(5));
    source.poll();
    body.set(fixture("envoy-stats-2.txt"));
    clock.advance(Duration.ofSeconds(5));
    source.poll();
    clock.advance(Duration.ofSeconds(10));
    aggregator.tick();

    assertThat(metrics.scrapeFailures(source.name())).isEqualTo(1);
    assertThat(sink.windows()).extracting(UpstreamWindow::getContainerId, UpstreamWindow::getRequests,
            UpstreamWindow::getTimeouts)
        .containsExactlyInAnyOrder(
            tuple(ORDERS, 600L, 41L),
            tuple(CHECKOUT, 120L, 0L));
  }
}
