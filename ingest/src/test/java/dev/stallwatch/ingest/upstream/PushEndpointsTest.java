package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.ingest.collector.CollectorHttpServer;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The push endpoints on the collector's real HTTP server on 127.0.0.1, called over HTTP with the token. */
class PushEndpointsTest {
  private static final Instant NOW = Instant.parse("2024-03-05T10:15:34.512Z");
  private static final long WINDOW = Instant.parse("2024-03-05T10:15:30Z").toEpochMilli();
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";

  private final MutableClock clock = new MutableClock(NOW);
  private final RecordingSink sink = new RecordingSink();
  private final UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
  private final UpstreamAggregator aggregator = new UpstreamAggregator(sink, "node-a", clock, Duration.ofSeconds(10),
      Duration.ofSeconds(2), Duration.ofMinutes(5), metrics);
  static final String TOKEN = "push-test-token-7c4a8d09ca3762af";
  private final HttpClient http = HttpClient.newHttpClient();
  private CollectorHttpServer server;
  private URI base;

  @BeforeEach
  void startServer() throws IOException {
    server = CollectorHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new PrometheusRegistry());
    new PushEndpoints(aggregator, UpstreamAddressMap.of(Map.of("10.0.0.7:8080", ORDERS)), sink, metrics, clock)
        .register(server, PushEndpoints.Access.bearer(("Bearer " + TOKEN)::equals, Set.of()));
    base = URI.create("http://127.0.0.1:" + server.address().getPort());
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(base.resolve(path)).header("Authorization", "Bearer " + TOKEN)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private void assertRejected(String path, String body, String message) throws Exception {
    HttpResponse<String> response = post(path, body);
    assertThat(response.statusCode()).as(body).isEqualTo(400);
    assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(response.body()).as(body).startsWith("{\"error\":\"").contains(message).endsWith("}\n");
    assertThat(response.body().lines().count()).isEqualTo(1);
  }

  private static UpstreamWindow window(String source, long requests, long timeouts) {
    return UpstreamWindow.newBuilder().setSource(source).setContainerId(ORDERS).setHost("node-a")
        .setWindowStartMs(WINDOW).setWindowEndMs(WINDOW + 10_000).setRequests(requests).setTimeouts(timeouts).build();
  }

  @Test
  void countsForAContainerOrAnAddressAddUpInTheirWindow() throws Exception {
    HttpResponse<String> one = post("/v1/upstream",
        "{\"container_id\":\"" + ORDERS + "\",\"window_start_ms\":" + WINDOW + ",\"window_end_ms\":" + (WINDOW + 10_000)
            + ",\"requests\":1200,\"timeouts\":35}");
    HttpResponse<String> batch = post("/v1/upstream", "["
        + "{\"upstream\":\"10.0.0.7:8080\",\"timestamp_ms\":" + (WINDOW + 4_000) + ",\"requests\":1,\"timeouts\":1},"
        + "{\"upstream\":\"10.0.0.7:8080\",\"requests\":2,\"timeouts\":0},"
        + "{\"upstream\":\"10.0.0.99:8080\",\"requests\":5,\"timeouts\":5},"
        + "{\"container_id\":\"" + ORDERS + "\",\"requests\":7,\"timeouts\":1,\"source\":\"checkout-svc\"}]");

    assertThat(one.statusCode()).isEqualTo(202);
    assertThat(one.body()).isEqualTo("{\"accepted\":1,\"unmapped\":0}\n");
    assertThat(batch.statusCode()).isEqualTo(202);
    assertThat(batch.body()).isEqualTo("{\"accepted\":3,\"unmapped\":1}\n");

    clock.advance(Duration.ofSeconds(10));
    aggregator.tick();
    assertThat(sink.windows()).containsExactlyInAnyOrder(
        window("push", 1203, 36),
        window("push:checkout-svc", 7, 1));
    assertThat(metrics.unmappedRequests("push")).isEqualTo(5);
    assertThat(metrics.pushRequests("/v1/upstream", 202)).isEqualTo(2);
  }

  @Test
  void badUpstreamCountsAreRejectedWithOneLineAndNothingIsCounted() throws Exception {
    assertRejected("/v1/upstream", "not json", "body is not JSON");
    assertRejected("/v1/upstream", "", "body is empty");
    assertRejected("/v1/upstream", "[]", "empty array");
    assertRejected("/v1/upstream", "42", "expected a JSON object");
    assertRejected("/v1/upstream", "{\"requests\":1,\"timeouts\":0}", "exactly one of container_id and upstream");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"upstream\":\"a\",\"requests\":1,\"timeouts\":0}",
        "exactly one of container_id and upstream");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"timeouts\":0}", "requests is required");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":\"5\",\"timeouts\":0}",
        "requests must be an integer, got \\\"5\\\"");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1.5,\"timeouts\":0}",
        "requests must be an integer");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1,\"timeouts\":2}",
        "expected 0 <= timeouts <= requests, got requests 1 and timeouts 2");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1,\"timeouts\":0,\"window_start_ms\":"
        + (WINDOW + 1) + "}", "not aligned to this collector's 10000 ms windows");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1,\"timeouts\":0,\"window_start_ms\":"
        + WINDOW + ",\"window_end_ms\":" + (WINDOW + 60_000) + "}", "window_end_ms must be window_start_ms + 10000");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1,\"timeouts\":0,\"window_start_ms\":"
        + WINDOW + ",\"timestamp_ms\":" + WINDOW + "}", "not both");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1,\"timeouts\":0,\"timestamp_ms\":"
        + (WINDOW - 3_600_000) + "}", "older than the windows this collector still corrects");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1,\"timeouts\":0,\"timestamp_ms\":"
        + (WINDOW + 3_600_000) + "}", "ahead of this collector's clock");
    assertRejected("/v1/upstream", "{\"container_id\":\"c\",\"requests\":1,\"timeouts\":0,\"tiemouts\":0}",
        "unknown field tiemouts");
    assertRejected("/v1/upstream", "{\"container_id\":\" \",\"requests\":1,\"timeouts\":0}", "container_id is blank");
    // one bad item rejects the batch, and names it
    assertRejected("/v1/upstream", "[{\"container_id\":\"c\",\"requests\":1,\"timeouts\":0},"
        + "{\"container_id\":\"c\",\"requests\":-1,\"timeouts\":0}]", "item 1: expected 0 <= timeouts");

    clock.advance(Duration.ofSeconds(10));
    aggregator.tick();
    assertThat(sink.windows()).isEmpty();
    assertThat(metrics.pushRequests("/v1/upstream", 400)).isEqualTo(18);
  }

  @Test
  void trafficEventsArePublishedAtOnce() throws Exception {
    HttpResponse<String> drained = post("/v1/traffic", "{\"container_id\":\"" + ORDERS + "\",\"action\":\"DRAINED\","
        + "\"actor\":\"lb-hook:haproxy-3\",\"reason\":\"upstream timeouts\",\"timestamp_ms\":1709633731000}");
    HttpResponse<String> restored = post("/v1/traffic",
        "{\"container_id\":\"" + ORDERS + "\",\"action\":\"restored\",\"actor\":\"operator:alice\"}");

    assertThat(drained.statusCode()).isEqualTo(202);
    assertThat(drained.body()).isEqualTo("{\"accepted\":1}\n");
    assertThat(restored.statusCode()).isEqualTo(202);
    assertThat(sink.traffic()).containsExactly(
        TrafficEvent.newBuilder().setContainerId(ORDERS).setAction(TrafficAction.TRAFFIC_ACTION_DRAINED)
            .setActor("lb-hook:haproxy-3").setReason("upstream timeouts").setTimestampMs(1709633731000L).build(),
        TrafficEvent.newBuilder().setContainerId(ORDERS).setAction(TrafficAction.TRAFFIC_ACTION_RESTORED)
            .setActor("operator:alice").setTimestampMs(NOW.toEpochMilli()).build());
  }

  @Test
  void badTrafficEventsAreRejectedWithOneLine() throws Exception {
    assertRejected("/v1/traffic", "{\"action\":\"DRAINED\",\"actor\":\"a\"}", "container_id is required");
    assertRejected("/v1/traffic", "{\"container_id\":\"c\",\"actor\":\"a\"}", "action is required");
    assertRejected("/v1/traffic", "{\"container_id\":\"c\",\"action\":\"PAUSED\",\"actor\":\"a\"}",
        "action must be DRAINED or RESTORED, got PAUSED");
    assertRejected("/v1/traffic", "{\"container_id\":\"c\",\"action\":\"DRAINED\"}", "actor is required");
    assertRejected("/v1/traffic", "{\"container_id\":\"c\",\"action\":\"DRAINED\",\"actor\":\"a\",\"reason\":7}",
        "reason must be a string");
    assertRejected("/v1/traffic", "{\"container_id\":\"c\",\"action\":\"DRAINED\",\"actor\":\"a\",\"timestamp_ms\":-5}",
        "timestamp_ms must be positive");
    assertRejected("/v1/traffic", "{\"container_id\":\"c\",\"action\":\"DRAINED\",\"actor\":\"a\",\"drain\":true}",
        "unknown field drain");
    assertRejected("/v1/traffic", "{\"container_id\":\"" + "x".repeat(300) + "\",\"action\":\"DRAINED\",\"actor\":\"a\"}",
        "longer than 256 characters");

    assertThat(sink.traffic()).isEmpty();
  }

  @Test
  void wrongMethodsAndPathsAreRefused() throws Exception {
    HttpResponse<String> get = http.send(HttpRequest.newBuilder(base.resolve("/v1/upstream")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> below = post("/v1/traffic/extra", "{}");

    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).contains("POST");
    assertThat(get.body()).isEqualTo("{\"error\":\"/v1/upstream takes POST, not GET\"}\n");
    assertThat(below.statusCode()).isEqualTo(404);
  }

  @Test
  void aBodyOverTheLimitIsRefused() throws Exception {
    HttpResponse<String> response = post("/v1/upstream", " ".repeat(PushEndpoints.MAX_BODY_BYTES + 1));

    assertThat(response.statusCode()).isEqualTo(413);
  }
}
