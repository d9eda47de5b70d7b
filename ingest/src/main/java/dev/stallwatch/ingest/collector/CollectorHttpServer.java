package dev.stallwatch.ingest.collector;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's one HTTP server, on Jetty: {@code GET /metrics} in the Prometheus text format,
 * and the routes other parts of the collector add with {@link #route} (e.g. {@code POST /v1/upstream}).
 *
 * <p>Jetty parses request lines and headers without holding a thread, so slow or half-open
 * connections cost a socket, not a worker; each connection is closed after {@link #IDLE_TIMEOUT}
 * without a byte, at most {@link #MAX_CONNECTIONS} are open, headers are bounded and a body is
 * read (asynchronously, up to the route's bound) before the route runs.
 */
public final class CollectorHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CollectorHttpServer.class);
  public static final String DEFAULT_ADDRESS = "127.0.0.1:9464";
  public static final String METRICS_PATH = "/metrics";
  /** Time a connection may stay silent: the whole request line and headers must come within it. */
  public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(10);
  public static final int MAX_CONNECTIONS = 512;
  static final int MAX_REQUEST_HEADER_BYTES = 8 * 1024;
  private static final int MAX_THREADS = 16;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One request as a route sees it. */
  public record Exchange(String method, String path, HttpFields headers, InetSocketAddress local,
      InetSocketAddress remote) {
    /** The first value of a header, or null. */
    public String header(String name) {
      return headers.get(name);
    }
  }

  /** A route's answer; {@link #json} for the usual one. */
  public record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
    public static Answer json(int status, String json) {
      return new Answer(status, "application/json", (json + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
    }

    public static Answer error(int status, String message) {
      return json(status, JSON.createObjectNode().put("error", message).toString());
    }

    public Answer withHeader(String name, String value) {
      Map<String, String> more = new java.util.LinkedHashMap<>(headers);
      more.put(name, value);
      return new Answer(status, contentType, body, Map.copyOf(more));
    }
  }

  /** What serves one path. */
  public interface Route {
    /** The most body bytes this route reads; a longer body gets 413 before {@link #handle}. */
    int maxBodyBytes();

    /** Checks the request line and headers before any body is read; an answer ends the request there. */
    default Optional<Answer> admit(Exchange exchange) {
      return Optional.empty();
    }

    Answer handle(Exchange exchange, byte[] body) throws Exception;

    /** Sees the answers the server gives for this route itself (413, an unreadable body), e.g. to count them. */
    default Answer refused(Answer answer) {
      return answer;
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final Map<String, Route> routes = new ConcurrentHashMap<>();
  private volatile Consumer<Throwable> fatal = e -> { };

  private CollectorHttpServer(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  /** Binds {@code address}, serves {@code registry} on {@code /metrics} and starts. */
  public static CollectorHttpServer start(InetSocketAddress address, PrometheusRegistry registry) throws IOException {
    Objects.requireNonNull(registry, "registry");
    QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 2);
    threads.setName("stallwatch-http");
    threads.setDaemon(true);
    Server server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(MAX_REQUEST_HEADER_BYTES);
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    http.setIdleTimeout(IDLE_TIMEOUT.toMillis());
    // one acceptor and one selector: the collector must stay near 1% of a core
    ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    connector.setHost(address.getAddress() == null ? address.getHostString()
        : address.getAddress().isAnyLocalAddress() ? null : address.getAddress().getHostAddress());
    connector.setPort(address.getPort());
    connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
    server.addConnector(connector);
    server.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, server));
    server.setErrorHandler(new JsonErrors());
    server.setStopTimeout(1_000);
    CollectorHttpServer collectorServer = new CollectorHttpServer(server, connector);
    collectorServer.route(METRICS_PATH, new MetricsRoute(registry));
    server.setHandler(collectorServer.new Dispatcher());
    try {
      server.start();
    } catch (IOException e) {
      stopQuietly(server);
      throw e;
    } catch (Exception e) {
      stopQuietly(server);
      throw new IOException(e.getMessage(), e);
    }
    return collectorServer;
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

  /** Serves exactly {@code path} with {@code route}. */
  public void route(String path, Route route) {
    if (routes.putIfAbsent(path, Objects.requireNonNull(route, "route")) != null) {
      throw new IllegalArgumentException("a route for " + path + " is there already");
    }
  }

  /**
   * What to do when a route fails with an {@link Error} (out of memory, a broken class): the
   * collector ends the process rather than serve on half alive.
   */
  public void onFatalError(Consumer<Throwable> fatal) {
    this.fatal = Objects.requireNonNull(fatal, "fatal");
  }

  /** The bound address: with port 0 the port the system chose. */
  public InetSocketAddress address() {
    String host = connector.getHost();
    return host == null ? new InetSocketAddress(connector.getLocalPort())
        : new InetSocketAddress(host, connector.getLocalPort());
  }

  @Override
  public void close() {
    stopQuietly(server);
  }

  private static void stopQuietly(Server server) {
    try {
      server.stop();
    } catch (Exception e) {
      LOG.warn("the HTTP server did not stop cleanly: {}", e.toString());
    }
  }

  private final class Dispatcher extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      String path = request.getHttpURI().getPath();
      Route route = path == null ? null : routes.get(path);
      if (route == null) {
        send(response, callback, Answer.error(404, "no such endpoint: " + request.getHttpURI().getPath()));
        return true;
      }
      Exchange exchange = new Exchange(request.getMethod(), path, request.getHeaders(),
          inet(request.getConnectionMetaData().getLocalSocketAddress()),
          inet(request.getConnectionMetaData().getRemoteSocketAddress()));
      Optional<Answer> refused = guarded(() -> route.admit(exchange).orElse(null));
      if (refused.isPresent()) {
        send(response, callback, refused.get());
        return true;
      }
      int max = route.maxBodyBytes();
      long declared = request.getLength();
      if (declared > max) {
        send(response, callback, route.refused(Answer.error(413, "body is larger than " + max + " bytes")));
        return true;
      }
      if (max == 0) {
        send(response, callback, guarded(() -> route.handle(exchange, new byte[0])).orElseThrow());
        return true;
      }
      // without a thread while the body trickles in; the idle timeout ends a stalled one
      Content.Source.asByteArrayAsync(request, max).whenComplete((body, failure) -> {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause() : failure;
        if (cause instanceof IllegalStateException) {
          // Jetty stopped reading at the bound (a body without Content-Length)
          send(response, callback, route.refused(Answer.error(413, "body is larger than " + max + " bytes")));
        } else if (cause != null) {
          send(response, callback, route.refused(Answer.error(400, "could not read the body: " + cause.getMessage())));
        } else {
          send(response, callback, guarded(() -> route.handle(exchange, body)).orElseThrow());
        }
      });
      return true;
    }
  }

  private interface Step {
    Answer run() throws Exception;
  }

  private Optional<Answer> guarded(Step step) {
    try {
      return Optional.ofNullable(step.run());
    } catch (Error e) {
      fatal.accept(e);
      throw e;
    } catch (Exception e) {
      LOG.error("an HTTP route failed", e);
      return Optional.of(Answer.error(500, "internal error: " + e));
    }
  }

  private static void send(Response response, Callback callback, Answer answer) {
    response.setStatus(answer.status());
    HttpFields.Mutable headers = response.getHeaders();
    answer.headers().forEach(headers::put);
    headers.put("X-Content-Type-Options", "nosniff");
    headers.put(HttpHeader.CACHE_CONTROL, "no-store");
    if (answer.contentType() != null) {
      headers.put(HttpHeader.CONTENT_TYPE, answer.contentType());
    }
    headers.put(HttpHeader.CONTENT_LENGTH, answer.body().length);
    response.write(true, ByteBuffer.wrap(answer.body()), callback);
  }

  private static InetSocketAddress inet(SocketAddress address) {
    return address instanceof InetSocketAddress inet ? inet : null;
  }

  /** Errors Jetty answers itself (a bad request line, headers too large) are JSON too. */
  static final class JsonErrors extends ErrorHandler {
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
        Callback callback) {
      send(response, callback, Answer.error(code, message == null ? "HTTP " + code : message));
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
      fields.put(new HttpField(HttpHeader.CONTENT_TYPE, "application/json"));
      return ByteBuffer.wrap(Answer.error(status, reason == null ? "bad request" : reason).body());
    }
  }

  private static final class MetricsRoute implements Route {
    private final PrometheusRegistry registry;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    MetricsRoute(PrometheusRegistry registry) {
      this.registry = registry;
    }

    @Override
    public int maxBodyBytes() {
      return 0;
    }

    @Override
    public Answer handle(Exchange exchange, byte[] ignored) {
      String method = exchange.method();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        return new Answer(405, null, new byte[0], Map.of("Allow", "GET, HEAD"));
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
      try {
        writer.write(body, registry.scrape());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      // HEAD: Jetty sends the headers of the GET answer and no body
      return new Answer(200, writer.getContentType(), body.toByteArray(), Map.of());
    }
  }
}
