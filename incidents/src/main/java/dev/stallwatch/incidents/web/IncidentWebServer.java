package dev.stallwatch.incidents.web;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.stallwatch.incidents.query.IncidentQuery;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.UriCompliance;
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

/**
 * The HTTP side of {@code stallwatch serve}, on Jetty (its core server, no servlets): the incident
 * API under {@code /api/v1} (bearer token), the incident pages, {@code /healthz} and {@code /metrics}.
 *
 * <p>Why Jetty: it reads request lines and headers without holding a thread, so slow or
 * half-open clients cost a socket each and never the workers that answer; each connection is
 * closed after {@link #IDLE_TIMEOUT} without a byte; at most {@link #MAX_CONNECTIONS} are open;
 * request headers are bounded and no route reads a body. It speaks plain HTTP/1.1: off loopback,
 * put a TLS proxy in front so that the bearer token never crosses a network in the clear.
 *
 * <pre>
 * GET /                                       list page (no data in it: its script calls the API)
 * GET /incidents/{id}                         incident page (likewise)
 * GET /assets/{name}                          the pages' scripts and styles
 * GET /api/v1/incidents?since&amp;until&amp;container&amp;host&amp;namespace&amp;signature&amp;status&amp;limit&amp;offset
 * GET /api/v1/incidents/{id}
 * GET /api/v1/incidents/{id}/flamegraph.svg
 * GET /healthz                                200 or 503 with each part's state
 * GET /metrics                                Prometheus text format
 * </pre>
 */
public final class IncidentWebServer implements AutoCloseable {
  /** Workers that answer requests (each may wait on the store); connections do not hold one. */
  public static final int DEFAULT_THREADS = 16;
  public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(20);
  public static final int MAX_CONNECTIONS = 1_024;
  static final int MAX_REQUEST_HEADER_BYTES = 16 * 1024;
  /** Jetty's own acceptor and selector threads besides the workers. */
  private static final int SERVER_THREADS = 4;
  /** How long {@link #close()} lets requests in progress finish. */
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(1);

  private final Server server;
  private final ServerConnector connector;

  private IncidentWebServer(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Where the server listens; the port is the bound one when 0 was asked for. */
  public InetSocketAddress address() {
    String host = connector.getHost();
    return host == null ? new InetSocketAddress(connector.getLocalPort())
        : new InetSocketAddress(host, connector.getLocalPort());
  }

  /**
   * {@code http://host:port} without a trailing slash: a URL this machine can open (loopback when
   * the server listens on every interface).
   */
  public URI baseUri() {
    InetSocketAddress address = address();
    InetAddress bound = address.getAddress();
    String host = (bound.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : bound).getHostAddress();
    return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort());
  }

  /** Stops accepting, lets requests in progress finish for a moment, then stops the threads. */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      // stopping is best effort: the threads are daemons
      org.slf4j.LoggerFactory.getLogger(IncidentWebServer.class).warn("the web server did not stop cleanly: {}",
          e.toString());
    }
  }

  /** Configures the server; {@link #start()} checks the whole and binds. */
  public static final class Builder {
    private InetSocketAddress listen;
    private IncidentQuery query;
    private ApiToken apiToken;
    private PrometheusRegistry registry;
    private final Map<String, HealthCheck> healthChecks = new LinkedHashMap<>();
    private Clock clock = Clock.systemUTC();
    private int threads = DEFAULT_THREADS;

    private Builder() {}

    public Builder listen(InetSocketAddress listen) {
      this.listen = Objects.requireNonNull(listen, "listen address");
      return this;
    }

    /** Reads the incidents; give it the database's read-only data source. */
    public Builder query(IncidentQuery query) {
      this.query = Objects.requireNonNull(query, "query");
      return this;
    }

    public Builder apiToken(ApiToken apiToken) {
      this.apiToken = Objects.requireNonNull(apiToken, "API token");
      return this;
    }

    /** Where the request metrics go and what {@code /metrics} shows. */
    public Builder registry(PrometheusRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** A part that {@code /healthz} reports, in the order added. */
    public Builder healthCheck(String name, HealthCheck check) {
      Objects.requireNonNull(name, "name");
      if (healthChecks.putIfAbsent(name, Objects.requireNonNull(check, "check")) != null) {
        throw new IllegalArgumentException("a health check named '" + name + "' is there already");
      }
      return this;
    }

    /** What {@code since=7d} counts back from. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * Binds and starts serving.
     *
     * @throws UncheckedIOException when the address cannot be bound (in use, not local)
     */
    public IncidentWebServer start() {
      if (listen == null) {
        throw new IllegalStateException("the web server needs an address: set listen(...), e.g. 127.0.0.1:8080");
      }
      if (query == null) {
        throw new IllegalStateException("the web server reads incidents: set query(new IncidentQuery("
            + "database.readOnlyDataSource()))");
      }
      if (apiToken == null) {
        throw new IllegalStateException("the API needs a bearer token: set apiToken(ApiToken.of(...))");
      }
      if (registry == null) {
        throw new IllegalStateException("set registry(...): /metrics shows it");
      }
      Router router = new Router(routes(), apiToken, new HttpMetrics(registry));
      QueuedThreadPool pool = new QueuedThreadPool(threads + SERVER_THREADS, 2);
      pool.setName("stallwatch-web");
      pool.setDaemon(true);
      Server server = new Server(pool);
      HttpConfiguration http = new HttpConfiguration();
      http.setRequestHeaderSize(MAX_REQUEST_HEADER_BYTES);
      http.setSendServerVersion(false);
      http.setSendXPoweredBy(false);
      http.setIdleTimeout(IDLE_TIMEOUT.toMillis());
      // routes match the still-encoded path, so %2F inside an ID is never a separator
      http.setUriCompliance(UriCompliance.DEFAULT.with("stallwatch", UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR,
          UriCompliance.Violation.AMBIGUOUS_PATH_SEGMENT, UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING));
      ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
      InetAddress bound = listen.getAddress();
      connector.setHost(bound == null ? listen.getHostString() : bound.isAnyLocalAddress() ? null
          : bound.getHostAddress());
      connector.setPort(listen.getPort());
      connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
      server.addConnector(connector);
      server.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, server));
      server.setErrorHandler(new JsonErrors());
      server.setStopTimeout(STOP_TIMEOUT.toMillis());
      server.setHandler(router);
      try {
        server.start();
      } catch (Exception e) {
        try {
          server.stop();
        } catch (Exception ignored) {
          // the bind failed: nothing runs
        }
        throw new UncheckedIOException("cannot listen on " + listen + ": " + e.getMessage(),
            e instanceof IOException io ? io : new IOException(e));
      }
      return new IncidentWebServer(server, connector);
    }

    private List<Route> routes() {
      WebAssets assets = new WebAssets();
      IncidentApi api = new IncidentApi(query, clock);
      HealthEndpoint health = new HealthEndpoint(healthChecks);
      MetricsEndpoint metrics = new MetricsEndpoint(registry);
      return List.of(
          Route.get("/", exchange -> page(exchange, assets.page(WebAssets.LIST_PAGE))),
          Route.get("/incidents/{id}", exchange -> page(exchange, assets.page(WebAssets.INCIDENT_PAGE))),
          Route.get("/assets/{name}", exchange -> page(exchange, assets.asset(exchange.pathParameter("name"))
              .orElseThrow(() -> HttpError.notFound("no asset " + exchange.pathParameter("name"))))),
          Route.get(IncidentApi.INCIDENTS, api::list),
          Route.get(IncidentApi.INCIDENTS + "/{id}", api::incident),
          Route.get(IncidentApi.INCIDENTS + "/{id}/flamegraph.svg", api::flameGraph),
          Route.get("/healthz", health::handle),
          Route.get("/metrics", metrics::handle));
    }

    private static void page(WebExchange exchange, WebAssets.Asset asset) throws IOException {
      exchange.send(200, asset.contentType(), asset.content());
    }
  }

  /** The errors Jetty answers itself (a bad URI such as {@code %zz}, headers too large): one line of JSON. */
  private static final class JsonErrors extends ErrorHandler {
    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
        Callback callback) {
      HttpFields.Mutable headers = response.getHeaders();
      Router.securityHeaders(headers::put);
      headers.put(HttpHeader.CACHE_CONTROL, "no-store");
      headers.put(HttpHeader.CONTENT_TYPE, WebExchange.JSON + "; charset=utf-8");
      // the cause says what was wrong (e.g. which URI rule), the message often only "Bad Request"
      byte[] body = body(code, cause != null && cause.getMessage() != null ? cause.getMessage() : message);
      headers.put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
      Router.securityHeaders((name, value) -> fields.put(new HttpField(name, value)));
      fields.put(new HttpField(HttpHeader.CONTENT_TYPE, WebExchange.JSON + "; charset=utf-8"));
      return ByteBuffer.wrap(body(status, reason));
    }

    private static byte[] body(int code, String message) {
      String text = message == null || message.isBlank() ? "HTTP " + code : message;
      return JsonNodeFactory.instance.objectNode().put("error", text).toString().getBytes(StandardCharsets.UTF_8);
    }
  }
}
