package dev.stallwatch.incidents.web;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.incidents.flamegraph.FlameGraphSvg;
import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.query.IncidentJson;
import dev.stallwatch.incidents.query.IncidentPage;
import dev.stallwatch.incidents.query.IncidentQuery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/** {@code /api/v1/incidents}: the incident history as JSON, and an incident's flame graph. */
final class IncidentApi {
  static final String INCIDENTS = "/api/v1/incidents";
  /** A standalone SVG opened by itself must not run anything, whatever a frame is called. */
  private static final String SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

  private final IncidentQuery query;
  private final Clock clock;

  IncidentApi(IncidentQuery query, Clock clock) {
    this.query = query;
    this.clock = clock;
  }

  /** One page, newest first, with {@code next}: the URL of the next page, or null on the last one. */
  void list(WebExchange exchange) throws IOException {
    SearchParameters search = SearchParameters.parse(exchange.query(), clock);
    IncidentPage page = query.search(search.filter(), search.limit(), search.offset());
    ObjectNode body = IncidentJson.page(page);
    if (page.hasMore()) {
      body.put("next", INCIDENTS + "?" + search.queryString(search.offset() + page.incidents().size()));
    } else {
      body.putNull("next");
    }
    exchange.header("Cache-Control", "no-store");
    exchange.sendJson(200, body);
  }

  void incident(WebExchange exchange) throws IOException {
    Incident incident = find(exchange);
    exchange.header("Cache-Control", "no-store");
    exchange.sendJson(200, IncidentJson.of(incident));
  }

  void flameGraph(WebExchange exchange) throws IOException {
    Incident incident = find(exchange);
    exchange.header("Cache-Control", "no-store");
    exchange.header("Content-Security-Policy", SVG_POLICY);
    exchange.send(200, "image/svg+xml", FlameGraphSvg.forIncident(incident).getBytes(StandardCharsets.UTF_8));
  }

  private Incident find(WebExchange exchange) {
    String id = exchange.pathParameter("id");
    return query.findById(id).orElseThrow(() -> HttpError.notFound("no incident with ID '" + id + "'"));
  }
}
