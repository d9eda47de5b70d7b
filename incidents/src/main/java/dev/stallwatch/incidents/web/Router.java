package dev.stallwatch.incidents.web;

import dev.stallwatch.incidents.store.IncidentStoreException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dispatches every request: the bearer token for {@code /api/}, then the route, then its handler;
 * errors become one-line JSON answers. Every answer carries the security headers and is counted.
 */
final class Router extends Handler.Abstract {
  static final String API_PREFIX = "/api/";
  /**
   * The pages load only their own scripts and styles and talk only to this server; inline script
   * is never allowed, so even an escaping bug could not run a frame name as code.
   */
  static final String PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      + "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
  private static final Logger LOG = LoggerFactory.getLogger(Router.class);

  private final List<Route> routes;
  private final ApiToken token;
  private final HttpMetrics metrics;

  Router(List<Route> routes, ApiToken token, HttpMetrics metrics) {
    this.routes = List.copyOf(routes);
    this.token = token;
    this.metrics = metrics;
  }

  /** Runs on one of Jetty's worker threads: the handlers query the store and block. */
  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    long start = System.nanoTime();
    WebExchange exchange = new WebExchange(request, response, callback);
    String routeLabel = HttpMetrics.UNMATCHED;
    try {
      securityHeaders(exchange::header);
      String path = exchange.rawPath();
      Route route = null;
      Map<String, String> parameters = Map.of();
      for (Route candidate : routes) {
        Optional<Map<String, String>> match = candidate.match(path);
        if (match.isPresent()) {
          route = candidate;
          parameters = match.get();
          break;
        }
      }
      if (route != null) {
        routeLabel = route.template();
      }
      answer(exchange, route, parameters);
    } catch (IOException e) {
      // the client went away while the answer was written: nothing left to tell it
      LOG.debug("{} {}: could not write the answer: {}", request.getMethod(), request.getHttpURI(), e.toString());
      if (exchange.status() == 0) {
        callback.failed(e);
      }
    } finally {
      int status = exchange.status() == 0 ? 500 : exchange.status();
      metrics.observe(routeLabel, request.getMethod(), status, System.nanoTime() - start);
    }
    return true;
  }

  private void answer(WebExchange exchange, Route route, Map<String, String> parameters) throws IOException {
    try {
      // before the route: an unauthenticated client learns nothing, not even which API paths exist
      if (exchange.rawPath().startsWith(API_PREFIX)) {
        authenticate(exchange);
      }
      if (route == null) {
        throw HttpError.notFound("not found: " + exchange.rawPath());
      }
      if (!exchange.method().equals("GET") && !exchange.method().equals("HEAD")) {
        throw HttpError.methodNotAllowed(exchange.method());
      }
      exchange.pathParameters(parameters);
      route.handler().handle(exchange);
    } catch (HttpError e) {
      if (exchange.status() == 0) {
        e.headers().forEach(exchange::header);
        exchange.sendError(e.status(), e.getMessage());
      }
    } catch (IncidentStoreException e) {
      LOG.warn("{} {}: {}", exchange.method(), exchange.rawPath(), e.getMessage());
      if (exchange.status() == 0) {
        exchange.sendError(503, "the incident store is unavailable; see the server log");
      }
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", exchange.method(), exchange.rawPath(), e);
      if (exchange.status() == 0) {
        exchange.sendError(500, "internal error; see the server log");
      }
    }
  }

  private void authenticate(WebExchange exchange) {
    String authorization = exchange.header("Authorization");
    if (!token.accepts(authorization)) {
      boolean given = ApiToken.presentedToken(authorization) != null;
      throw HttpError.unauthorized(given ? "the bearer token is not accepted"
          : "the API needs 'Authorization: Bearer <token>' (the token of stallwatch serve)", given);
    }
  }

  /** Also on the errors Jetty answers itself (a bad URI, headers too large). */
  static void securityHeaders(BiConsumer<String, String> header) {
    header.accept("X-Content-Type-Options", "nosniff");
    header.accept("X-Frame-Options", "DENY");
    header.accept("Referrer-Policy", "no-referrer");
    header.accept("Content-Security-Policy", PAGE_POLICY);
    // the pages change with the jar: revalidate rather than show stale scripts
    header.accept("Cache-Control", "no-cache");
  }
}
