package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.ingest.collector.CollectorHttpServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random bodies (valid pushes mutated: bytes flipped, cut, repeated, JSON fragments and
 * hostile values spliced in) over HTTP: every answer is a 202 or a one-line JSON 400, a 202
 * publishes what it says and a 400 nothing, and the server keeps answering. A failing seed
 * reproduces the failing bodies exactly.
 */
class PushEndpointsFuzzTest {
  private static final String TOKEN = "push-fuzz-token-0b7e4f2c9a1d5e83";
  private static final Instant NOW = Instant.parse("2024-03-05T10:15:34.512Z");
  private static final int BODIES_PER_SEED = 250;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> VALID = List.of(
      "{\"container_id\":\"3f9c\",\"window_start_ms\":1709633730000,\"requests\":1200,\"timeouts\":35}",
      "{\"upstream\":\"10.0.0.7:8080\",\"timestamp_ms\":1709633734512,\"requests\":1,\"timeouts\":1,\"source\":\"checkout\"}",
      "[{\"container_id\":\"a\",\"requests\":3,\"timeouts\":0},{\"upstream\":\"10.0.0.7:8080\",\"requests\":2,\"timeouts\":2}]",
      "{\"container_id\":\"3f9c\",\"action\":\"DRAINED\",\"actor\":\"lb-hook:haproxy-3\",\"reason\":\"timeouts\"}",
      "{\"container_id\":\"3f9c\",\"action\":\"restored\",\"actor\":\"operator\",\"timestamp_ms\":1709633731000}");
  private static final List<String> FRAGMENTS = List.of("{", "}", "[", "]", "\"", ":", ",", "null", "true", "-1", "0",
      "1e309", "-0.0", "99999999999999999999999999", "NaN", "\"\\u0000\"", "\"\\ud800\"", "\\", "\u00e9", "\uFFFF",
      "[".repeat(200), "{\"a\":".repeat(50), "\"" + "x".repeat(300) + "\"", "\"source\":\"a b\"", "\"requests\":",
      "\"timeouts\":-5", "\"action\":\"DRAINED\"", "\"container_id\":\"\"", "/*", "\u0000", "\r\n");

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 7, 42, 1009, 65537})
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void randomBodiesAreAnsweredWith202OrOneLineOf400AndTheServerStaysUp(long seed) throws Exception {
    MutableClock clock = new MutableClock(NOW);
    RecordingSink sink = new RecordingSink();
    UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
    UpstreamAggregator aggregator = new UpstreamAggregator(sink, "node-a", clock, Duration.ofSeconds(10),
        Duration.ofSeconds(2), Duration.ofMinutes(5), metrics);
    HttpClient http = HttpClient.newHttpClient();
    try (CollectorHttpServer server = CollectorHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new PrometheusRegistry())) {
      new PushEndpoints(aggregator, UpstreamAddressMap.of(Map.of("10.0.0.7:8080", "3f9c")), sink, metrics, clock)
          .register(server, PushEndpoints.Access.bearer(("Bearer " + TOKEN)::equals, Set.of()));
      URI base = URI.create("http://127.0.0.1:" + server.address().getPort());
      Random random = new Random(seed);
      int accepted = 0;
      for (int n = 0; n < BODIES_PER_SEED; n++) {
        String path = random.nextBoolean() ? PushEndpoints.UPSTREAM_PATH : PushEndpoints.TRAFFIC_PATH;
        byte[] body = mutate(VALID.get(random.nextInt(VALID.size())), random);
        int trafficBefore = sink.traffic().size();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve(path))
            .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());

        String what = "seed " + seed + " body " + n + " to " + path + ": " + new String(body, StandardCharsets.UTF_8);
        assertThat(response.statusCode()).as(what).isIn(202, 400);
        assertThat(response.body()).as(what).endsWith("\n").hasLineCount(1);
        JsonNode answer = JSON.readTree(response.body());
        if (response.statusCode() == 202) {
          accepted++;
          assertThat(answer.has("accepted")).as(what).isTrue();
          if (path.equals(PushEndpoints.TRAFFIC_PATH)) {
            assertThat(sink.traffic()).as(what).hasSize(trafficBefore + 1);
          }
        } else {
          assertThat(answer.get("error").asText()).as(what).isNotBlank();
          assertThat(sink.traffic()).as(what).hasSize(trafficBefore);
        }
      }
      assertThat(metrics.pushRequests(PushEndpoints.UPSTREAM_PATH, 500)
          + metrics.pushRequests(PushEndpoints.TRAFFIC_PATH, 500)).isZero();
      // still serving: an intact push goes through
      HttpResponse<String> intact = http.send(HttpRequest.newBuilder(base.resolve(PushEndpoints.TRAFFIC_PATH))
          .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(VALID.get(3))).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(intact.statusCode()).isEqualTo(202);
      assertThat(accepted).as("the mutations reach the error paths").isLessThan(BODIES_PER_SEED);
    }
  }

  private static byte[] mutate(String valid, Random random) {
    StringBuilder text = new StringBuilder(valid);
    int mutations = 1 + random.nextInt(4);
    for (int m = 0; m < mutations; m++) {
      int at = text.length() == 0 ? 0 : random.nextInt(text.length());
      switch (random.nextInt(5)) {
        case 0 -> {
          if (text.length() > 0) {
            text.setCharAt(at, (char) (0x20 + random.nextInt(0x5f)));
          }
        }
        case 1 -> text.delete(at, Math.min(text.length(), at + 1 + random.nextInt(8)));
        case 2 -> text.insert(at, FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
        case 3 -> text.insert(at, text.substring(at, Math.min(text.length(), at + random.nextInt(16))));
        default -> text.setLength(at);
      }
    }
    byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    if (random.nextInt(10) == 0 && bytes.length > 0) {
      // a byte that is not UTF-8
      bytes[random.nextInt(bytes.length)] = (byte) (0x80 + random.nextInt(0x80));
    }
    return bytes;
  }
}
