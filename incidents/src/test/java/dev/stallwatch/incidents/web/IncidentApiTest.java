package dev.stallwatch.incidents.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.TestAlerts;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The HTTP API and the page routes over real HTTP, in front of a real (embedded) PostgreSQL whose
 * rows were written by the store: filters, pagination, authentication, errors, the flame graph,
 * health and metrics.
 */
class IncidentApiTest {
  private static final String TOKEN = "api-test-token-5d41402abc4b2a76";
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  /** "Now" for since=7d: a day after the newest incident. */
  private static final Clock CLOCK = Clock.fixed(T0.plus(Duration.ofDays(2)), ZoneOffset.UTC);
  private static final String HOSTILE_FRAME = "<script>alert('frame')</script>";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir
  static Path dataDir;

  private static IncidentDatabase database;
  private static IncidentWebServer server;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final AtomicReference<Health> ingestorHealth = new AtomicReference<>(Health.ok("running"));

  @BeforeAll
  static void start() {
    database = IncidentDatabase.open(DatabaseOptions.embedded(dataDir));
    List<DeadlockAlert> alerts = new ArrayList<>();
    // inc-0 (oldest) .. inc-5 (newest), an hour apart; hosts alternate; inc-0 and inc-1 resolved
    for (int i = 0; i < 6; i++) {
      DeadlockAlert open = TestAlerts.open("inc-" + i, "c" + i + "f00d" + "0".repeat(58), i % 2 == 0 ? "node-a" : "node-b",
          i < 3 ? "shop" : "pay", T0.plusSeconds(3600L * i));
      alerts.add(open);
      if (i < 2) {
        alerts.add(TestAlerts.resolved(open, open.getDetectedAt().plusSeconds(600), "healthy-windows"));
      }
    }
    alerts.add(DeadlockAlert.newBuilder(TestAlerts.open("hostile", "ee00", "node-c", "shop", T0.minusSeconds(86_400)))
        .setTopStacks(List.of(new WeightedStack("svc;" + HOSTILE_FRAME + ";runtime.osyield", 10L, 1.0)))
        .build());
    database.store().write(alerts);
    server = IncidentWebServer.builder()
        .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .query(new IncidentQuery(database.readOnlyDataSource()))
        .apiToken(ApiToken.of(TOKEN))
        .registry(new PrometheusRegistry())
        .clock(CLOCK)
        .healthCheck("store", new StoreHealthCheck(database.readOnlyDataSource()))
        .healthCheck("ingestor", ingestorHealth::get)
        .start();
  }

  @AfterAll
  static void stop() {
    server.close();
    database.close();
  }

  private static HttpResponse<String> get(String path, String authorization) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(server.baseUri().resolve(path)).GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> api(String path) throws IOException, InterruptedException {
    return get(path, "Bearer " + TOKEN);
  }

  private static JsonNode json(HttpResponse<String> response) throws IOException {
    return MAPPER.readTree(response.body());
  }

  private static List<String> ids(JsonNode page) {
    List<String> ids = new ArrayList<>();
    page.get("incidents").forEach(i -> ids.add(i.get("incidentId").asText()));
    return ids;
  }

  @Test
  void listsEveryIncidentNewestFirstWithTheTotal() throws Exception {
    HttpResponse<String> response = api("/api/v1/incidents");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    JsonNode page = json(response);
    assertThat(ids(page)).containsExactly("inc-5", "inc-4", "inc-3", "inc-2", "inc-1", "inc-0", "hostile");
    assertThat(page.get("total").asLong()).isEqualTo(7);
    assertThat(page.get("next").isNull()).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "host=node-b                                    | inc-5 inc-3 inc-1",
      "status=open&namespace=shop                     | inc-2 hostile",
      "status=RESOLVED                                | inc-1 inc-0",
      "container=c3f0                                 | inc-3",
      "since=2026-11-01T02:00:00Z&until=2026-11-01T04:00:00Z | inc-3 inc-2",
      "since=7d&signature=go-timer-livelock&host=node-a | inc-4 inc-2 inc-0 ",
      "since=2d                                       | inc-5 inc-4 inc-3 inc-2 inc-1 inc-0",
      "host=x%27%20OR%20%271%27%3D%271                 | ''",
  })
  void filtersAsTheCliDoes(String query, String expected) throws Exception {
    HttpResponse<String> response = api("/api/v1/incidents?" + query);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(ids(json(response))).containsExactly(expected.isBlank() ? new String[0] : expected.trim().split(" "));
  }

  @Test
  void theNextLinkWalksThePagesWithTheTimesFixed() throws Exception {
    String path = "/api/v1/incidents?since=7d&limit=2";
    List<String> seen = new ArrayList<>();
    List<String> links = new ArrayList<>();
    while (path != null) {
      JsonNode page = json(api(path));
      seen.addAll(ids(page));
      assertThat(page.get("limit").asInt()).isEqualTo(2);
      path = page.get("next").isNull() ? null : page.get("next").asText();
      if (path != null) {
        links.add(path);
      }
    }
    assertThat(seen).containsExactly("inc-5", "inc-4", "inc-3", "inc-2", "inc-1", "inc-0", "hostile");
    // since=7d became the instant it meant, so later pages do not shift as time goes on
    String since = URLEncoder.encode(CLOCK.instant().minus(Duration.ofDays(7)).toString(), StandardCharsets.UTF_8);
    assertThat(links).hasSize(3).first().isEqualTo("/api/v1/incidents?since=" + since + "&limit=2&offset=2");
  }

  @Test
  void withoutTheRightTokenTheApiAnswers401WithABearerChallenge() throws Exception {
    for (String path : List.of("/api/v1/incidents", "/api/v1/incidents/inc-1", "/api/v1/incidents/inc-1/flamegraph.svg",
        "/api/v1/no-such-route")) {
      HttpResponse<String> none = get(path, null);
      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"stallwatch\"");
      assertThat(none.body()).doesNotContain("inc-1");

      HttpResponse<String> wrong = get(path, "Bearer " + TOKEN.replace('5', '6'));
      assertThat(wrong.statusCode()).as(path).isEqualTo(401);
      assertThat(wrong.headers().firstValue("WWW-Authenticate"))
          .contains("Bearer realm=\"stallwatch\", error=\"invalid_token\"");

      assertThat(get(path, "Basic " + TOKEN).statusCode()).as(path).isEqualTo(401);
    }
    assertThat(get("/api/v1/incidents", "bearer " + TOKEN).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "status=stuck                      | status: expected open or resolved",
      "since=yesterday                   | since: expected a duration back from now",
      "until=2026-13-01                  | until: expected",
      "since=2026-11-02&until=2026-11-01 | must be before until",
      "limit=0                           | limit: expected 1 to 1000",
      "limit=lots                        | limit: expected a whole number",
      "offset=-1                         | offset: expected 0 or more",
      "stauts=open                       | unknown parameter 'stauts'",
      "host=a&host=b                     | parameter 'host' is given 2 times",
  })
  void aBadFilterIs400WithOneLineOfJson(String query, String message) throws Exception {
    HttpResponse<String> response = api("/api/v1/incidents?" + query);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).doesNotContain("\n");
    assertThat(json(response).get("error").asText()).contains(message);
  }

  @Test
  void anIncidentComesWithItsEvidence() throws Exception {
    HttpResponse<String> response = api("/api/v1/incidents/inc-1");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode incident = json(response);
    assertThat(incident.get("status").asText()).isEqualTo("RESOLVED");
    assertThat(incident.get("resolveReason").asText()).isEqualTo("healthy-windows");
    assertThat(incident.get("topStacks").get(0).get("folded").asText()).isEqualTo(TestAlerts.OSYIELD_STACK);
    assertThat(incident.get("knownIssues").get(0).get("url").asText())
        .isEqualTo("https://github.com/golang/go/issues/38023");
    assertThat(incident.get("runtimeVersion").asText()).isEqualTo("go1.14.1");
    assertThat(incident.get("remediation").asText()).startsWith("Upgrade to go1.14.2");
  }

  @Test
  void anUnknownIncidentIs404() throws Exception {
    for (String path : List.of("/api/v1/incidents/no-such-incident", "/api/v1/incidents/no-such-incident/flamegraph.svg",
        "/api/v1/incidents/inc-1%2Fx")) {
      HttpResponse<String> response = api(path);
      assertThat(response.statusCode()).as(path).isEqualTo(404);
      assertThat(json(response).get("error").asText()).startsWith("no incident with ID");
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "/api/v1/incidents?host=node%00a          | parameter 'host' holds the control character U+0000",
      "/api/v1/incidents?signature=%00          | parameter 'signature' holds the control character U+0000",
      "/api/v1/incidents?container=c0%0Af       | parameter 'container' holds the control character U+000A",
      "/api/v1/incidents?since=%00              | holds the control character U+0000",
      // Jetty itself refuses a NUL in the path, with one line of JSON all the same
      "/api/v1/incidents/inc%001                | ''",
      "/api/v1/incidents/inc%001/flamegraph.svg | ''",
      "/api/v1/incidents?host=%zz               | not URL-encoded",
  })
  void controlCharactersAndBadEscapesAre400NotAStoreError(String path, String message) throws Exception {
    String answer = raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN
        + "\r\nConnection: close\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 400 ").containsIgnoringCase("Content-Type: application/json");
    String error = MAPPER.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4)).get("error").asText();
    assertThat(error).isNotBlank().contains(message);
  }

  @Test
  void aBadEscapeInThePathIs400InJsonWithTheSecurityHeaders() throws Exception {
    for (String path : List.of("/api/v1/incidents/%zz", "/incidents/%zz", "/%zz", "/assets/%e2%28%a1.js")) {
      String answer = raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      assertThat(answer).as(path).startsWith("HTTP/1.1 400 ")
          .containsIgnoringCase("Content-Type: application/json")
          .containsIgnoringCase("X-Content-Type-Options: nosniff")
          .containsIgnoringCase("Content-Security-Policy: " + Router.PAGE_POLICY)
          .doesNotContain("<html", "URISyntaxException");
      String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
      assertThat(MAPPER.readTree(body).get("error").asText()).as(path).isNotBlank();
    }
  }

  /** 8 or 200 clients that open a connection and send half a request hold no worker: health still answers. */
  @ParameterizedTest(name = "{0} half-open connections")
  @org.junit.jupiter.params.provider.ValueSource(ints = {8, 200})
  void halfOpenConnectionsDoNotStopTheServerAnswering(int clients) throws Exception {
    List<java.net.Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < clients; i++) {
        java.net.Socket socket = new java.net.Socket(InetAddress.getLoopbackAddress(), server.address().getPort());
        socket.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + i)
            .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        slow.add(socket);
      }
      HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
      for (String path : List.of("/healthz", "/api/v1/incidents?limit=1")) {
        HttpResponse<String> response = fresh.send(HttpRequest.newBuilder(server.baseUri().resolve(path))
            .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(1)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
      }
    } finally {
      for (java.net.Socket socket : slow) {
        socket.close();
      }
    }
  }

  private static String raw(String request) throws IOException {
    try (java.net.Socket socket = new java.net.Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void theFlameGraphIsAnSvgWithItsFrameNamesEscaped() throws Exception {
    HttpResponse<String> response = api("/api/v1/incidents/hostile/flamegraph.svg");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("image/svg+xml"));
    assertThat(response.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(p ->
        assertThat(p).startsWith("default-src 'none'"));
    assertThat(response.body()).startsWith("<?xml").contains("<svg", "runtime.osyield", "&lt;script&gt;")
        .doesNotContain("<script");

    assertThat(api("/api/v1/incidents/inc-2/flamegraph.svg").body()).contains("runtime.adjusttimers");
  }

  @Test
  void thePagesAreServedWithoutATokenAndHoldNoIncidentData() throws Exception {
    for (String path : List.of("/", "/?status=open", "/incidents/inc-1")) {
      HttpResponse<String> page = get(path, null);
      assertThat(page.statusCode()).as(path).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
      assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(p ->
          assertThat(p).contains("script-src 'self'", "frame-ancestors 'none'").doesNotContain("unsafe-inline"));
      assertThat(page.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
      assertThat(page.body()).contains("<main>").doesNotContain("node-a", "c1f00d");
    }
    HttpResponse<String> script = get("/assets/flamegraph.js", null);
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/javascript"));
    assertThat(get("/assets/stallwatch.css", null).headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/css"));

    for (String path : List.of("/assets/nope.js", "/assets/..%2Fincidents.html", "/web/api.js", "/incidents/")) {
      assertThat(get(path, null).statusCode()).as(path).isEqualTo(404);
    }
  }

  @Test
  void onlyGetAndHeadAreAllowed() throws Exception {
    HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(server.baseUri().resolve("/api/v1/incidents"))
        .header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).contains("GET, HEAD");

    HttpResponse<String> head = HTTP.send(HttpRequest.newBuilder(server.baseUri().resolve("/healthz"))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void healthIs200WhenEveryPartIsOkAnd503WhenOneIsNot() throws Exception {
    HttpResponse<String> healthy = get("/healthz", null);
    assertThat(healthy.statusCode()).isEqualTo(200);
    assertThat(json(healthy).get("status").asText()).isEqualTo("ok");
    assertThat(json(healthy).get("checks").get("store").get("detail").asText()).isEqualTo("reachable");

    ingestorHealth.set(Health.failing("stopped: boom"));
    try {
      HttpResponse<String> failing = get("/healthz", null);
      assertThat(failing.statusCode()).isEqualTo(503);
      assertThat(json(failing).get("status").asText()).isEqualTo("failing");
      assertThat(json(failing).get("checks").get("ingestor").get("detail").asText()).isEqualTo("stopped: boom");
      assertThat(json(failing).get("checks").get("store").get("ok").asBoolean()).isTrue();
    } finally {
      ingestorHealth.set(Health.ok("running"));
    }
  }

  @Test
  void metricsCountRequestsPerRouteAndStatus() throws Exception {
    api("/api/v1/incidents/inc-3");
    api("/api/v1/incidents/no-such-incident");
    get("/no/such/page", null);
    HttpResponse<String> metrics = get("/metrics", null);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(metrics.body())
        .contains("stallwatch_http_requests_total{method=\"GET\",route=\"/api/v1/incidents/{id}\",status=\"200\"}")
        .contains("stallwatch_http_requests_total{method=\"GET\",route=\"/api/v1/incidents/{id}\",status=\"404\"}")
        .contains("stallwatch_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}")
        .contains("stallwatch_http_request_duration_seconds_bucket{route=\"/api/v1/incidents/{id}\",le=\"0.005\"}");
  }

  @Test
  void theDefaultPageSizeIsTheCliDefault() throws Exception {
    assertThat(json(api("/api/v1/incidents")).get("limit").asInt()).isEqualTo(IncidentQuery.DEFAULT_LIMIT);
    assertThat(server.baseUri()).isEqualTo(URI.create("http://127.0.0.1:" + server.address().getPort()));
  }
}
