package dev.stallwatch.ingest.collector;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The collector's one HTTP server: {@code GET /metrics} in the Prometheus text format, and the
 * routes other parts of the collector add with {@link #route} (e.g. {@code POST /v1/upstream}).
 * A JDK server on two threads: scrapes and pushes are a few requests a minute.
 */
public final class CollectorHttpServer implements AutoCloseable {
  public static final String DEFAULT_ADDRESS = "127.0.0.1:9464";
  public static final String METRICS_PATH = "/metrics";
  private static final int THREADS = 2;

  private final HttpServer server;
  private final ExecutorService executor;

  private CollectorHttpServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Binds {@code address}, serves {@code registry} on {@code /metrics} and starts. */
  public static CollectorHttpServer start(InetSocketAddress address, PrometheusRegistry registry) throws IOException {
    Objects.requireNonNull(registry, "registry");
    HttpServer server = HttpServer.create(address, 0);
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
      Thread t = new Thread(r, "stallwatch-http-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext(METRICS_PATH, new MetricsHandler(registry));
    server.start();
    return new CollectorHttpServer(server, executor);
  }

  /**
   * Parses {@code HOST:PORT} ({@code [::1]:9464} for IPv6, {@code :9464} for every interface);
   * empty or {@code off} means no server.
   *
   * @throws IllegalArgumentException for anything else
   */
  public static Optional<InetSocketAddress> parseAddress(String text) {
    String value = text == null ? "" : text.strip();
    if (value.isEmpty() || value.equalsIgnoreCase("off")) {
      return Optional.empty();
    }
    int colon = value.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("HTTP address must be HOST:PORT (or off), got '" + value + "'");
    }
    String host = value.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(value.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("HTTP address must end with a port number, got '" + value + "'", e);
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("HTTP port must be 0-65535, got " + port);
    }
    return Optional.of(host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port));
  }

  /** Serves {@code path} (and the paths below it) with {@code handler}. */
  public void route(String path, HttpHandler handler) {
    server.createContext(path, handler);
  }

  /** The underlying server, for whoever needs more than {@link #route}. */
  public HttpServer server() {
    return server;
  }

  /** The bound address: with port 0 the port the system chose. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private static final class MetricsHandler implements HttpHandler {
    private final PrometheusRegistry registry;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    MetricsHandler(PrometheusRegistry registry) {
      this.registry = registry;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
      try (exchange) {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
          exchange.getResponseHeaders().set("Allow", "GET, HEAD");
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        if (!exchange.getRequestURI().getPath().equals(METRICS_PATH)) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
        writer.write(body, registry.scrape());
        exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
        if (method.equals("HEAD")) {
          exchange.sendResponseHeaders(200, -1);
          return;
        }
        exchange.sendResponseHeaders(200, body.size());
        try (OutputStream out = exchange.getResponseBody()) {
          body.writeTo(out);
        }
      }
    }
  }
}
