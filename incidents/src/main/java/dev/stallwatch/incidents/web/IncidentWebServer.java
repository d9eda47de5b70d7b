package dev.stallwatch.incidents.web;

import com.sun.net.httpserver.HttpServer;
import dev.stallwatch.incidents.query.IncidentQuery;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP side of {@code stallwatch serve}, on the JDK's own HTTP server: the incident API under
 * {@code /api/v1} (bearer token), the incident pages, {@code /healthz} and {@code /metrics}.
 *
 * <p>Why the JDK server and not Javalin on Jetty: eight GET routes need no framework; the jar takes
 * on no web stack (Jetty 12, and Kotlin's runtime for Javalin) to keep in step with Flink's and
 * Kafka's dependencies; and every line that touches a request is here to read. It speaks plain
 * HTTP/1.1: off loopback, put a TLS proxy in front so that the bearer token never crosses a network
 * in the clear.
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
  public static final int DEFAULT_THREADS = 8;
  /** How long {@link #close()} lets requests in progress finish (Java 17's server always waits this long). */
  private static final int STOP_DELAY_SECONDS = 1;

  private final HttpServer server;
  private final ExecutorService executor;

  private IncidentWebServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Where the server listens; the port is the bound one when 0 was asked for. */
  public InetSocketAddress address() {
    return server.getAddress();
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
    server.stop(STOP_DELAY_SECONDS);
    executor.shutdown();
    try {
      if (!executor.awaitTermination(STOP_DELAY_SECONDS, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
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
      HttpServer server;
      try {
        server = HttpServer.create(listen, 0);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on " + listen + ": " + e.getMessage(), e);
      }
      ExecutorService executor = Executors.newFixedThreadPool(threads, new WebThreads());
      server.setExecutor(executor);
      server.createContext("/", router);
      server.start();
      return new IncidentWebServer(server, executor);
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

  /** Daemon threads with names that say whose they are in a thread dump. */
  private static final class WebThreads implements ThreadFactory {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = new Thread(task, "stallwatch-web-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    }
  }
}
