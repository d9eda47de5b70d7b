package dev.stallwatch.ingest.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool in front of a real Kafka producer whose broker cannot be reached (a loopback port
 * nobody listens on). The broker-restart test is SpoolingPublisherITCase in the app module.
 */
class SpoolingPublisherTest {
  @TempDir
  Path dir;

  private static String unreachableBroker() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + socket.getLocalPort();
    }
  }

  private SpoolingPublisher.Builder publisher(String bootstrap, PrometheusRegistry registry) {
    return SpoolingPublisher.builder()
        .bootstrapServers(bootstrap)
        .spoolDir(dir)
        .registry(registry)
        .closeTimeout(Duration.ofMillis(100));
  }

  private static UpstreamWindow window(long n) {
    return UpstreamWindow.newBuilder().setSource("push").setContainerId("container-" + (n % 3)).setHost("node-a")
        .setWindowStartMs(n * 10_000).setWindowEndMs(n * 10_000 + 10_000).setRequests(n).build();
  }

  private static double gauge(PrometheusRegistry registry, String name) {
    return registry.scrape().stream()
        .filter(m -> m.getMetadata().getPrometheusName().equals(name))
        .map(m -> ((GaugeSnapshot) m).getDataPoints().get(0).getValue())
        .findFirst().orElseThrow();
  }

  @Test
  void windowsWaitOnDiskWhileKafkaIsUnreachableAndOutliveTheProcess() throws Exception {
    String broker = unreachableBroker();
    PrometheusRegistry registry = new PrometheusRegistry();
    try (SpoolingPublisher spool = publisher(broker, registry).build()) {
      for (long n = 0; n < 50; n++) {
        spool.publish(window(n));
      }
      spool.publish(TrafficEvent.newBuilder().setContainerId("container-1").setAction(
          TrafficAction.TRAFFIC_ACTION_DRAINED).setActor("test").build());
      spool.flush();

      assertThat(spool.pending()).isEqualTo(51);
      assertThat(spool.awaitDelivered(Duration.ofMillis(50))).isFalse();
      assertThat(gauge(registry, "stallwatch_spool_pending_windows")).isEqualTo(51.0);
      assertThat(gauge(registry, "stallwatch_spool_bytes")).isGreaterThan(51 * 20.0);
    }
    // the next collector process finds them on disk
    try (SpoolingPublisher spool = publisher(broker, new PrometheusRegistry()).build()) {
      assertThat(spool.pending()).isEqualTo(51);
      assertThat(spool.sent()).isZero();
    }
  }

  @Test
  void whenTheSpoolIsFullTheOldestWindowsAreDroppedAndCounted() throws Exception {
    try (SpoolingPublisher spool = publisher(unreachableBroker(), new PrometheusRegistry())
        .maxBytes(64 * 1024).segmentBytes(16 * 1024).build()) {
      int published = 2000;
      for (long n = 0; n < published; n++) {
        spool.publish(window(n));
      }

      assertThat(spool.dropped()).isPositive();
      assertThat(spool.pending()).isEqualTo(published - spool.dropped());
      assertThat(spool.spoolBytes()).isLessThanOrEqualTo(64 * 1024);
    }
  }

  @Test
  void publishingAfterCloseIsAnError() throws Exception {
    SpoolingPublisher spool = publisher(unreachableBroker(), new PrometheusRegistry()).build();
    spool.close();

    assertThatThrownBy(() -> spool.publish(window(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is closed");
  }

  @Test
  void aSpoolSmallerThanFourSegmentsIsRefused() {
    assertThatThrownBy(() -> SpoolingPublisher.builder().bootstrapServers("127.0.0.1:1").spoolDir(dir)
        .maxBytes(64 * 1024).segmentBytes(32 * 1024).build())
        .hasMessageContaining("a quarter of the spool size");
  }
}
