package dev.stallwatch.ingest.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CollectorHttpServerTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void servesTheCollectorAndJvmMetricsInPrometheusTextFormat() throws Exception {
    CollectorMetrics metrics = new CollectorMetrics(new PrometheusRegistry());
    metrics.sampleRead();
    metrics.parseErrors(3);
    try (CollectorHttpServer server = CollectorHttpServer.start(new InetSocketAddress("127.0.0.1", 0), metrics.registry())) {
      HttpResponse<String> response = get(server, "/metrics");

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
      assertThat(response.body()).contains(
          "stallwatch_collector_samples_total 1.0",
          "stallwatch_collector_parse_errors_total 3.0",
          "stallwatch_collector_perf_restarts_total 0.0",
          "stallwatch_collector_samples_skipped_total{reason=\"late\"} 0.0",
          "stallwatch_collector_sample_delay_seconds_bucket{le=\"0.5\"}",
          "jvm_memory_used_bytes");
      assertThat(get(server, "/metrics/x").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void othersAddTheirRoutesOnTheSameServer() throws Exception {
    try (CollectorHttpServer server = CollectorHttpServer.start(new InetSocketAddress("127.0.0.1", 0), new PrometheusRegistry())) {
      server.route("/v1/upstream", new CollectorHttpServer.Route() {
        @Override
        public int maxBodyBytes() {
          return 0;
        }

        @Override
        public CollectorHttpServer.Answer handle(CollectorHttpServer.Exchange exchange, byte[] body) {
          return new CollectorHttpServer.Answer(202, "text/plain", "accepted".getBytes(StandardCharsets.UTF_8),
              java.util.Map.of());
        }
      });

      HttpResponse<String> response = get(server, "/v1/upstream");
      assertThat(response.statusCode()).isEqualTo(202);
      assertThat(response.body()).isEqualTo("accepted");
    }
  }

  /** 8 or 200 clients that open a connection and send half a request hold no thread: scrapes still answer. */
  @org.junit.jupiter.params.ParameterizedTest(name = "{0} half-open connections")
  @org.junit.jupiter.params.provider.ValueSource(ints = {8, 200})
  void halfOpenConnectionsDoNotStopTheServerAnswering(int clients) throws Exception {
    try (CollectorHttpServer server = CollectorHttpServer.start(new InetSocketAddress("127.0.0.1", 0), new PrometheusRegistry())) {
      java.util.List<java.net.Socket> slow = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < clients; i++) {
          java.net.Socket socket = new java.net.Socket("127.0.0.1", server.address().getPort());
          socket.getOutputStream().write(("POST /v1/upstream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len")
              .getBytes(StandardCharsets.US_ASCII));
          socket.getOutputStream().flush();
          slow.add(socket);
        }
        HttpResponse<String> response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics"))
                .timeout(java.time.Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
      } finally {
        for (java.net.Socket socket : slow) {
          socket.close();
        }
      }
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
    try (CollectorHttpServer server = CollectorHttpServer.start(new InetSocketAddress("127.0.0.1", 0), new PrometheusRegistry());
         java.net.Socket socket = new java.net.Socket("127.0.0.1", server.address().getPort())) {
      socket.getOutputStream().write("GET /metrics HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.setSoTimeout((int) CollectorHttpServer.IDLE_TIMEOUT.multipliedBy(3).toMillis());
      // the server ends it: end of stream (or a reset), not the read timeout
      int read;
      try {
        read = socket.getInputStream().read();
      } catch (java.net.SocketException reset) {
        read = -1;
      }
      assertThat(read).isEqualTo(-1);
    }
  }

  @Test
  void errorsJettyAnswersItselfAreJson() throws Exception {
    try (CollectorHttpServer server = CollectorHttpServer.start(new InetSocketAddress("127.0.0.1", 0), new PrometheusRegistry());
         java.net.Socket socket = new java.net.Socket("127.0.0.1", server.address().getPort())) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "x".repeat(20_000)
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 431 ").containsIgnoringCase("Content-Type: application/json")
          .contains("{\"error\":");
    }
  }

  @Test
  void parsesListenAddresses() {
    assertThat(CollectorHttpServer.parseAddress("127.0.0.1:9464")).hasValue(new InetSocketAddress("127.0.0.1", 9464));
    assertThat(CollectorHttpServer.parseAddress(":9464")).hasValue(new InetSocketAddress(9464));
    assertThat(CollectorHttpServer.parseAddress("[::1]:9464")).hasValue(new InetSocketAddress("::1", 9464));
    assertThat(CollectorHttpServer.parseAddress("off")).isEmpty();
    assertThat(CollectorHttpServer.parseAddress("")).isEmpty();
    assertThatThrownBy(() -> CollectorHttpServer.parseAddress("9464")).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> CollectorHttpServer.parseAddress("localhost:http")).hasMessageContaining("port number");
  }

  private HttpResponse<String> get(CollectorHttpServer server, String path) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
