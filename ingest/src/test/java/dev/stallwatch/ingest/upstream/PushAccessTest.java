package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.ingest.collector.CollectorHttpServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who gets a push through the collector's real HTTP server: only a caller with the bearer token,
 * sending JSON, naming this collector in {@code Host}, and not a web page; bodies and the
 * containers they name are bounded.
 */
class PushAccessTest {
  private static final String TOKEN = "push-test-token-7c4a8d09ca3762af";
  private static final Instant NOW = Instant.parse("2024-03-05T10:15:34.512Z");
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static final String DRAIN = "{\"container_id\":\"" + ORDERS + "\",\"action\":\"DRAINED\",\"actor\":\"forged\"}";
  private static final String TIMEOUTS = "{\"container_id\":\"" + ORDERS + "\",\"requests\":100,\"timeouts\":100}";

  private final MutableClock clock = new MutableClock(NOW);
  private final RecordingSink sink = new RecordingSink();
  private final UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
  private final UpstreamAggregator aggregator = new UpstreamAggregator(sink, "node-a", clock, Duration.ofSeconds(10),
      Duration.ofSeconds(2), Duration.ofMinutes(5), metrics);
  private final HttpClient http = HttpClient.newHttpClient();
  private CollectorHttpServer server;
  private URI base;

  @BeforeEach
  void startServer() throws IOException {
    server = CollectorHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new PrometheusRegistry());
    endpoints().register(server, PushEndpoints.Access.bearer(("Bearer " + TOKEN)::equals, Set.of("node-a.local")));
    base = URI.create("http://127.0.0.1:" + server.address().getPort());
  }

  private PushEndpoints endpoints() {
    return new PushEndpoints(aggregator, UpstreamAddressMap.of(Map.of()), sink, metrics, clock);
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> push(String path, String body) throws Exception {
    return post(path, body, "Authorization", "Bearer " + TOKEN, "Content-Type", "application/json");
  }

  /** A request as written by hand: HttpClient will not send a foreign Host. */
  private String raw(String request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private String rawPush(String host, String body) throws IOException {
    return raw("POST /v1/traffic HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + TOKEN
        + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + body.length() + "\r\n\r\n"
        + body);
  }

  private void assertNothingPublished() {
    clock.advance(Duration.ofSeconds(20));
    aggregator.tick();
    assertThat(sink.traffic()).isEmpty();
    assertThat(sink.windows()).isEmpty();
  }

  @Test
  void forgedPushesWithoutOrWithAWrongTokenGet401AndPublishNothing() throws Exception {
    for (String path : new String[] {"/v1/traffic", "/v1/upstream"}) {
      String body = path.equals("/v1/traffic") ? DRAIN : TIMEOUTS;
      HttpResponse<String> none = post(path, body, "Content-Type", "application/json");
      HttpResponse<String> wrong = post(path, body, "Content-Type", "application/json",
          "Authorization", "Bearer " + TOKEN.replace('7', '8'));
      HttpResponse<String> basic = post(path, body, "Content-Type", "application/json", "Authorization", "Basic " + TOKEN);

      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
      assertThat(none.body()).contains("Authorization: Bearer");
      assertThat(wrong.statusCode()).as(path).isEqualTo(401);
      assertThat(wrong.body()).contains("not accepted");
      assertThat(basic.statusCode()).as(path).isEqualTo(401);
    }
    assertNothingPublished();
    assertThat(metrics.pushRequests("/v1/traffic", 401)).isEqualTo(3);
    assertThat(push("/v1/traffic", DRAIN).statusCode()).isEqualTo(202);
    assertThat(sink.traffic()).hasSize(1);
  }

  @Test
  void withoutATokenConfiguredEveryPushIsRefused() throws Exception {
    server.close();
    server = CollectorHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new PrometheusRegistry());
    endpoints().register(server, PushEndpoints.Access.off());
    base = URI.create("http://127.0.0.1:" + server.address().getPort());

    HttpResponse<String> response = push("/v1/traffic", DRAIN);

    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.body()).contains("pushes are off", PushEndpoints.PUSH_TOKEN_ENV, "--push-token-file");
    assertNothingPublished();
  }

  @Test
  void aBrowsersCrossOriginSimpleRequestCannotGetThrough() throws Exception {
    // what a page elsewhere can send without a preflight: text/plain, a form, no custom header
    HttpResponse<String> textPlain = post("/v1/traffic", DRAIN, "Content-Type", "text/plain",
        "Authorization", "Bearer " + TOKEN);
    HttpResponse<String> form = post("/v1/traffic", DRAIN, "Content-Type", "application/x-www-form-urlencoded",
        "Authorization", "Bearer " + TOKEN);
    HttpResponse<String> noType = post("/v1/traffic", DRAIN, "Authorization", "Bearer " + TOKEN);
    HttpResponse<String> latin1 = post("/v1/traffic", DRAIN, "Content-Type", "application/json; charset=iso-8859-1",
        "Authorization", "Bearer " + TOKEN);
    HttpResponse<String> foreignOrigin = post("/v1/traffic", DRAIN, "Content-Type", "application/json",
        "Authorization", "Bearer " + TOKEN, "Origin", "https://evil.example");
    HttpResponse<String> nullOrigin = post("/v1/traffic", DRAIN, "Content-Type", "application/json",
        "Authorization", "Bearer " + TOKEN, "Origin", "null");
    HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(base.resolve("/v1/traffic"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());

    assertThat(textPlain.statusCode()).isEqualTo(415);
    assertThat(textPlain.body()).contains("application/json");
    assertThat(form.statusCode()).isEqualTo(415);
    assertThat(noType.statusCode()).isEqualTo(415);
    assertThat(latin1.statusCode()).isEqualTo(415);
    assertThat(foreignOrigin.statusCode()).isEqualTo(403);
    assertThat(nullOrigin.statusCode()).isEqualTo(403);
    assertThat(preflight.statusCode()).isEqualTo(405);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    assertNothingPublished();
  }

  @Test
  void aHostHeaderThatIsNotThisCollectorIsRefused() throws Exception {
    int port = server.address().getPort();
    // DNS rebinding: a foreign name resolving to 127.0.0.1 arrives with that name in Host
    assertThat(rawPush("evil.example:" + port, DRAIN)).startsWith("HTTP/1.1 421 ").contains("--http-allowed-host");
    assertThat(rawPush("127.0.0.2:" + port, DRAIN)).startsWith("HTTP/1.1 421 ");
    assertThat(rawPush("127.0.0.1:" + (port + 1), DRAIN)).startsWith("HTTP/1.1 421 ");
    assertThat(rawPush("127.0.0.1", DRAIN)).startsWith("HTTP/1.1 421 ");
    assertNothingPublished();

    assertThat(rawPush("127.0.0.1:" + port, DRAIN)).startsWith("HTTP/1.1 202 ");
    assertThat(rawPush("localhost:" + port, DRAIN)).startsWith("HTTP/1.1 202 ");
    assertThat(rawPush("NODE-A.local:" + port, DRAIN)).startsWith("HTTP/1.1 202 ");
    assertThat(sink.traffic()).hasSize(3);
  }

  @Test
  void aBodyOverTheBoundGets413WithOrWithoutALength() throws Exception {
    String big = "[" + (TIMEOUTS + ",").repeat(PushEndpoints.MAX_BODY_BYTES / TIMEOUTS.length()) + TIMEOUTS + "]";
    assertThat(big.length()).isGreaterThan(PushEndpoints.MAX_BODY_BYTES);

    HttpResponse<String> declared = push("/v1/upstream", big);
    String chunked = raw("POST /v1/upstream HTTP/1.1\r\nHost: 127.0.0.1:" + server.address().getPort()
        + "\r\nAuthorization: Bearer " + TOKEN + "\r\nContent-Type: application/json\r\nConnection: close\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(big.length()) + "\r\n" + big + "\r\n0\r\n\r\n");

    assertThat(declared.statusCode()).isEqualTo(413);
    assertThat(declared.body()).contains("larger than " + PushEndpoints.MAX_BODY_BYTES);
    assertThat(chunked).startsWith("HTTP/1.1 413 ");
    assertThat(metrics.pushRequests("/v1/upstream", 413)).isEqualTo(2);
    assertNothingPublished();
  }

  @Test
  void aFloodOfDistinctContainersIsBoundedCountedAndTheCollectorKeepsPublishing() throws Exception {
    int flood = UpstreamAggregator.MAX_CONTAINERS_PER_SOURCE + 700;
    int dropped = 0;
    for (int first = 0; first < flood; first += 500) {
      StringJoiner batch = new StringJoiner(",", "[", "]");
      for (int i = first; i < Math.min(flood, first + 500); i++) {
        batch.add("{\"container_id\":\"c" + i + "\",\"requests\":1,\"timeouts\":1,\"source\":\"lb\"}");
      }
      HttpResponse<String> response = push("/v1/upstream", batch.toString());
      assertThat(response.statusCode()).isEqualTo(202);
      if (response.body().contains("dropped")) {
        dropped += Integer.parseInt(response.body().replaceAll(".*\"dropped\":(\\d+).*\\n?", "$1"));
      }
    }
    // a known container still counts; a made-up source beyond the bound does not
    assertThat(push("/v1/upstream", "{\"container_id\":\"c1\",\"requests\":5,\"timeouts\":0,\"source\":\"lb\"}").body())
        .isEqualTo("{\"accepted\":1,\"unmapped\":0}\n");
    for (int s = 0; s < UpstreamAggregator.MAX_SOURCES + 3; s++) {
      push("/v1/upstream", "{\"container_id\":\"" + ORDERS + "\",\"requests\":1,\"timeouts\":0,\"source\":\"s" + s + "\"}");
    }

    assertThat(dropped).isEqualTo(700);
    assertThat(metrics.droppedEvents("push:lb", "too_many_containers")).isEqualTo(700);
    // "lb" already holds one of the MAX_SOURCES places
    assertThat(metrics.droppedEvents(UpstreamAggregator.OVERFLOW_SOURCE, "too_many_sources")).isEqualTo(4);
    clock.advance(Duration.ofSeconds(20));
    assertThat(aggregator.tick()).isEqualTo(UpstreamAggregator.MAX_CONTAINERS_PER_SOURCE + UpstreamAggregator.MAX_SOURCES - 1);
    assertThat(sink.windows()).filteredOn(w -> w.getContainerId().equals("c1")).singleElement()
        .satisfies(w -> assertThat(w.getRequests()).isEqualTo(6));

    // the next window has room again
    assertThat(push("/v1/upstream", "{\"container_id\":\"c" + (flood - 1) + "\",\"requests\":1,\"timeouts\":0,"
        + "\"source\":\"lb\"}").body()).isEqualTo("{\"accepted\":1,\"unmapped\":0}\n");
    assertThat(push("/v1/traffic", DRAIN).statusCode()).isEqualTo(202);
    assertThat(sink.traffic()).hasSize(1);
  }
}
