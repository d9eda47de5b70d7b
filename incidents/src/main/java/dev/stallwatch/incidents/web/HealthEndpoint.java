package dev.stallwatch.incidents.web;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /healthz}: 200 when every part is ok, else 503; the body names each part's state.
 * Not authenticated (load balancers and probes call it) and so says nothing about incidents.
 */
final class HealthEndpoint {
  private final Map<String, HealthCheck> checks;

  HealthEndpoint(Map<String, HealthCheck> checks) {
    this.checks = new LinkedHashMap<>(checks);
  }

  void handle(WebExchange exchange) throws IOException {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    ObjectNode parts = JsonNodeFactory.instance.objectNode();
    boolean ok = true;
    for (Map.Entry<String, HealthCheck> check : checks.entrySet()) {
      Health health = check.getValue().check();
      ok &= health.ok();
      parts.putObject(check.getKey()).put("ok", health.ok()).put("detail", health.detail());
    }
    body.put("status", ok ? "ok" : "failing");
    body.set("checks", parts);
    exchange.header("Cache-Control", "no-store");
    exchange.sendJson(ok ? 200 : 503, body);
  }
}
