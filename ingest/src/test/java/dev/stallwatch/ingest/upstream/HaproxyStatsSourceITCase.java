package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source against a real HAProxy (Debian's haproxy, started on loopback ports with its stats
 * socket in a temporary directory): one backend server answers, one accepts connections and never
 * answers, so HAProxy times it out with a 504; {@code set server ... state drain} and {@code ready}
 * on the same socket become traffic events.
 */
class HaproxyStatsSourceITCase {
  private static final String HEALTHY = "1111111111111111111111111111111111111111111111111111111111111111";
  private static final String WEDGED = "2222222222222222222222222222222222222222222222222222222222222222";

  @TempDir Path dir;
  private Process haproxy;
  private HttpServer answering;
  private ServerSocket silent;

  @AfterEach
  void stop() throws Exception {
    if (haproxy != null) {
      haproxy.destroy();
      if (!haproxy.waitFor(10, TimeUnit.SECONDS)) {
        haproxy.destroyForcibly().waitFor();
      }
    }
    if (answering != null) {
      answering.stop(0);
    }
    if (silent != null) {
      silent.close();
    }
  }

  @Test
  @Timeout(60)
  void countsRequestsAndServerTimeoutsPerServerAndTurnsDrainAndReadyIntoTrafficEvents() throws Exception {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    answering = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
    answering.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(200, 2);
      exchange.getResponseBody().write("ok".getBytes(StandardCharsets.US_ASCII));
      exchange.close();
    });
    answering.start();
    silent = new ServerSocket(0, 50, loopback); // the kernel accepts into its backlog; nobody answers
    int healthyFront = freePort();
    int wedgedFront = freePort();
    Path socket = dir.resolve("admin.sock");
    startHaproxy(socket, healthyFront, answering.getAddress().getPort(), wedgedFront, silent.getLocalPort());

    RecordingSink sink = new RecordingSink();
    UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
    UpstreamAggregator aggregator = new UpstreamAggregator(sink, "it-host", Clock.systemUTC(), Duration.ofSeconds(10),
        Duration.ofSeconds(5), Duration.ofMinutes(5), metrics);
    UpstreamAddressMap addresses = UpstreamAddressMap.of(Map.of(
        "127.0.0.1:" + answering.getAddress().getPort(), HEALTHY,
        "wedged/srv1", WEDGED)); // by name: the address map may name a server as set server does
    HaproxyStatsSource source = new HaproxyStatsSource(socket, Duration.ofSeconds(2), addresses, aggregator, sink,
        metrics, Clock.systemUTC());

    source.poll(); // the baseline
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    for (int i = 0; i < 20; i++) {
      assertThat(get(http, healthyFront)).isEqualTo(200);
    }
    for (int i = 0; i < 3; i++) {
      assertThat(get(http, wedgedFront)).isEqualTo(504);
    }
    source.poll();
    aggregator.closeAll();

    assertThat(totals(sink.windows(), HEALTHY)).containsExactly(20L, 0L);
    assertThat(totals(sink.windows(), WEDGED)).containsExactly(3L, 3L);
    assertThat(sink.traffic()).isEmpty();

    assertThat(command(socket, "set server wedged/srv1 state drain")).isBlank();
    source.poll();
    assertThat(command(socket, "set server wedged/srv1 state ready")).isBlank();
    source.poll();
    assertThat(sink.traffic()).extracting(TrafficEvent::getContainerId, TrafficEvent::getAction, TrafficEvent::getActor)
        .containsExactly(
            tuple(WEDGED, TrafficAction.TRAFFIC_ACTION_DRAINED, "haproxy:wedged/srv1"),
            tuple(WEDGED, TrafficAction.TRAFFIC_ACTION_RESTORED, "haproxy:wedged/srv1"));
    assertThat(metrics.scrapeFailures(source.name())).isZero();
    assertThat(metrics.malformedLines(source.name())).isZero();
  }

  @Test
  @Timeout(30)
  void aSocketNobodyListensOnIsAFailedPollNotAnError() throws Exception {
    RecordingSink sink = new RecordingSink();
    UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());
    UpstreamAggregator aggregator = new UpstreamAggregator(sink, "it-host", Clock.systemUTC(), Duration.ofSeconds(10),
        Duration.ofSeconds(5), Duration.ofMinutes(5), metrics);
    HaproxyStatsSource source = new HaproxyStatsSource(dir.resolve("absent.sock"), Duration.ofSeconds(1),
        UpstreamAddressMap.of(Map.of()), aggregator, sink, metrics, Clock.systemUTC());
    source.poll();
    assertThat(metrics.scrapeFailures(source.name())).isEqualTo(1);
  }

  private void startHaproxy(Path socket, int healthyFront, int healthyServer, int wedgedFront, int wedgedServer)
      throws IOException {
    Path config = dir.resolve("haproxy.cfg");
    Files.writeString(config, String.join("\n",
        "global",
        "  stats socket " + socket + " mode 600 level admin",
        "defaults",
        "  mode http",
        "  timeout connect 1s",
        "  timeout client 10s",
        "  timeout server 2s",
        "listen healthy",
        "  bind 127.0.0.1:" + healthyFront,
        "  server srv1 127.0.0.1:" + healthyServer,
        "listen wedged",
        "  bind 127.0.0.1:" + wedgedFront,
        "  server srv1 127.0.0.1:" + wedgedServer,
        ""));
    ProcessBuilder builder;
    try {
      builder = new ProcessBuilder("haproxy", "-db", "-f", config.toString()).redirectErrorStream(true)
          .redirectOutput(dir.resolve("haproxy.log").toFile());
      haproxy = builder.start();
    } catch (IOException e) {
      throw new AssertionError("this test needs Debian's haproxy on PATH (apt-get install haproxy): " + e.getMessage(), e);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      if (!haproxy.isAlive()) {
        throw new AssertionError("haproxy exited with " + haproxy.exitValue() + ": "
            + Files.readString(dir.resolve("haproxy.log")));
      }
      return Files.exists(socket);
    });
  }

  private static int get(HttpClient http, int port) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
        .timeout(Duration.ofSeconds(5)).build();
    return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** Sends one runtime API command and returns HAProxy's answer. */
  static String command(Path socket, String command) throws IOException {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      StringBuilder answer = new StringBuilder();
      while (channel.read(buffer) >= 0) {
        buffer.flip();
        answer.append(StandardCharsets.UTF_8.decode(buffer));
        buffer.clear();
      }
      return answer.toString();
    }
  }

  private static List<Long> totals(List<UpstreamWindow> windows, String container) {
    long requests = 0;
    long timeouts = 0;
    for (UpstreamWindow w : windows) {
      if (w.getContainerId().equals(container)) {
        requests += w.getRequests();
        timeouts += w.getTimeouts();
      }
    }
    return List.of(requests, timeouts);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
