package dev.stallwatch.incidents.web;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** {@code GET /metrics}: the registry in the Prometheus text format. Not authenticated, as scrapers expect. */
final class MetricsEndpoint {
  private final PrometheusRegistry registry;
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  MetricsEndpoint(PrometheusRegistry registry) {
    this.registry = registry;
  }

  void handle(WebExchange exchange) throws IOException {
    ByteArrayOutputStream text = new ByteArrayOutputStream(8192);
    writer.write(text, registry.scrape());
    exchange.header("Cache-Control", "no-store");
    exchange.send(200, writer.getContentType(), text.toByteArray());
  }
}
