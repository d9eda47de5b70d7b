package dev.stallwatch.ingest.upstream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP push endpoints on the collector's server, for callers that count for themselves.
 *
 * <p>{@code POST /v1/upstream}: one object or an array of them,
 * <pre>
 * {"container_id": "3f9c...", "window_start_ms": 1709633730000, "requests": 1200, "timeouts": 35}
 * {"upstream": "10.0.0.7:8080", "timestamp_ms": 1709633734512, "requests": 1, "timeouts": 1, "source": "checkout"}
 * </pre>
 * {@code container_id} or {@code upstream} (looked up in the address map); {@code window_start_ms}
 * (aligned to the collector's windows; {@code window_end_ms} may follow, one window later) or
 * {@code timestamp_ms} or neither (now); {@code requests} and {@code timeouts}, integers with
 * {@code 0 <= timeouts <= requests}; optional {@code source}, the windows then carry
 * {@code push:SOURCE}, else {@code push}. Counts add up: a caller may push every request or a
 * window's total once. The whole body is checked before anything is counted.
 *
 * <p>{@code POST /v1/traffic}:
 * {@code {"container_id": "3f9c...", "action": "DRAINED", "actor": "lb-hook:haproxy-3", "reason": "timeouts"}},
 * action {@code DRAINED} or {@code RESTORED}, optional {@code reason} and {@code timestamp_ms}
 * (default now). Published as a {@code TrafficEvent} at once.
 *
 * <p>Answers 202 with a JSON object; bad input gets 400 (405 wrong method, 413 body too large)
 * and {@code {"error": "..."}} on one line.
 */
public final class PushEndpoints {
  private static final Logger LOG = LoggerFactory.getLogger(PushEndpoints.class);
  public static final String UPSTREAM_PATH = "/v1/upstream";
  public static final String TRAFFIC_PATH = "/v1/traffic";
  static final int MAX_BODY_BYTES = 1 << 20;
  static final int MAX_ID_LENGTH = 256;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> UPSTREAM_FIELDS = Set.of("container_id", "upstream", "source", "window_start_ms",
      "window_end_ms", "timestamp_ms", "requests", "timeouts");
  private static final Set<String> TRAFFIC_FIELDS = Set.of("container_id", "action", "actor", "reason",
      "timestamp_ms");

  private final UpstreamAggregator aggregator;
  private final UpstreamAddressMap addresses;
  private final EventSink sink;
  private final UpstreamMetrics metrics;
  private final Clock clock;

  public PushEndpoints(UpstreamAggregator aggregator, UpstreamAddressMap addresses, EventSink sink,
      UpstreamMetrics metrics, Clock clock) {
    this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    this.addresses = Objects.requireNonNull(addresses, "addresses");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Adds {@code /v1/upstream} and {@code /v1/traffic} to {@code server}. */
  public void register(HttpServer server) {
    server.createContext(UPSTREAM_PATH, exchange -> handle(exchange, UPSTREAM_PATH, this::upstream));
    server.createContext(TRAFFIC_PATH, exchange -> handle(exchange, TRAFFIC_PATH, this::traffic));
  }

  private interface BodyHandler {
    ObjectNode handle(JsonNode body) throws PushRejected;
  }

  private void handle(HttpExchange exchange, String path, BodyHandler handler) throws IOException {
    int status;
    ObjectNode answer;
    try {
      if (!exchange.getRequestURI().getPath().equals(path)) {
        throw new PushRejected(404, "no such endpoint: " + exchange.getRequestURI().getPath());
      }
      if (!exchange.getRequestMethod().equals("POST")) {
        exchange.getResponseHeaders().set("Allow", "POST");
        throw new PushRejected(405, path + " takes POST, not " + exchange.getRequestMethod());
      }
      answer = handler.handle(readJson(exchange));
      status = 202;
    } catch (PushRejected e) {
      status = e.status;
      answer = JSON.createObjectNode().put("error", e.getMessage());
    } catch (RuntimeException e) {
      // e.g. the spool cannot write: the caller should retry, and an operator should see why
      LOG.error("{}: could not take a push from {}", path, exchange.getRemoteAddress(), e);
      status = 500;
      answer = JSON.createObjectNode().put("error", "internal error: " + e);
    }
    byte[] bytes = (JSON.writeValueAsString(answer) + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (var out = exchange.getResponseBody()) {
      out.write(bytes);
    }
    exchange.close();
    metrics.pushRequests.labelValues(path, String.valueOf(status)).inc();
  }

  private static JsonNode readJson(HttpExchange exchange) throws IOException, PushRejected {
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readNBytes(MAX_BODY_BYTES + 1);
    }
    if (body.length > MAX_BODY_BYTES) {
      throw new PushRejected(413, "body is larger than " + MAX_BODY_BYTES + " bytes");
    }
    try {
      JsonNode json = JSON.readTree(body);
      if (json == null || json.isMissingNode()) {
        throw new PushRejected(400, "body is empty: expected JSON");
      }
      return json;
    } catch (JsonProcessingException e) {
      throw new PushRejected(400, "body is not JSON: " + e.getOriginalMessage());
    }
  }

  // ---- /v1/upstream

  private record PushedCount(String source, String containerId, String unmappedAddress, long timestampMs,
      long requests, long timeouts) {}

  private ObjectNode upstream(JsonNode body) throws PushRejected {
    List<JsonNode> items = new ArrayList<>();
    if (body.isArray()) {
      body.forEach(items::add);
      if (items.isEmpty()) {
        throw new PushRejected(400, "empty array: expected at least one count");
      }
    } else {
      items.add(body);
    }
    long now = clock.millis();
    List<PushedCount> counts = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      counts.add(count(items.get(i), body.isArray() ? "item " + i + ": " : "", now));
    }
    int unmapped = 0;
    for (PushedCount count : counts) {
      if (count.containerId == null) {
        unmapped++;
        metrics.unmappedRequests.labelValues(count.source).inc(count.requests);
        continue;
      }
      aggregator.record(count.source, count.containerId, count.timestampMs, count.requests, count.timeouts);
    }
    return JSON.createObjectNode().put("accepted", counts.size() - unmapped).put("unmapped", unmapped);
  }

  private PushedCount count(JsonNode item, String where, long now) throws PushRejected {
    requireObject(item, where, UPSTREAM_FIELDS);
    String containerId = optionalText(item, "container_id", where);
    String upstream = optionalText(item, "upstream", where);
    if ((containerId == null) == (upstream == null)) {
      throw new PushRejected(400, where + "give exactly one of container_id and upstream");
    }
    String sourceName = optionalText(item, "source", where);
    String source = sourceName == null ? "push" : "push:" + sourceName;
    long requests = requiredLong(item, "requests", where);
    long timeouts = requiredLong(item, "timeouts", where);
    if (requests < 0 || timeouts < 0 || timeouts > requests) {
      throw new PushRejected(400, where + "expected 0 <= timeouts <= requests, got requests " + requests
          + " and timeouts " + timeouts);
    }
    long timestamp = timestamp(item, where, now);
    switch (aggregator.admission(timestamp)) {
      case TOO_OLD -> throw new PushRejected(400, where + Instant.ofEpochMilli(timestamp)
          + " is older than the windows this collector still corrects");
      case TOO_FAR_AHEAD -> throw new PushRejected(400, where + Instant.ofEpochMilli(timestamp)
          + " is more than " + UpstreamAggregator.MAX_CLOCK_AHEAD.toSeconds() + " s ahead of this collector's clock");
      case OPEN, CORRECTION -> { }
    }
    if (containerId != null) {
      return new PushedCount(source, containerId, null, timestamp, requests, timeouts);
    }
    return new PushedCount(source, addresses.containerFor(upstream).orElse(null), upstream, timestamp, requests,
        timeouts);
  }

  private long timestamp(JsonNode item, String where, long now) throws PushRejected {
    boolean window = item.has("window_start_ms");
    boolean instant = item.has("timestamp_ms");
    if (window && instant) {
      throw new PushRejected(400, where + "give window_start_ms or timestamp_ms, not both");
    }
    if (item.has("window_end_ms") && !window) {
      throw new PushRejected(400, where + "window_end_ms needs window_start_ms");
    }
    if (instant) {
      return requiredLong(item, "timestamp_ms", where);
    }
    if (!window) {
      return now;
    }
    long start = requiredLong(item, "window_start_ms", where);
    long size = aggregator.windowMs();
    if (aggregator.windowStart(start) != start) {
      throw new PushRejected(400, where + "window_start_ms " + start + " is not aligned to this collector's "
          + size + " ms windows");
    }
    if (item.has("window_end_ms") && requiredLong(item, "window_end_ms", where) != start + size) {
      throw new PushRejected(400, where + "window_end_ms must be window_start_ms + " + size);
    }
    return start;
  }

  // ---- /v1/traffic

  private ObjectNode traffic(JsonNode body) throws PushRejected {
    requireObject(body, "", TRAFFIC_FIELDS);
    String containerId = optionalText(body, "container_id", "");
    if (containerId == null) {
      throw new PushRejected(400, "container_id is required");
    }
    String actionName = optionalText(body, "action", "");
    if (actionName == null) {
      throw new PushRejected(400, "action is required: DRAINED or RESTORED");
    }
    TrafficAction action = switch (actionName.toUpperCase(Locale.ROOT)) {
      case "DRAINED" -> TrafficAction.TRAFFIC_ACTION_DRAINED;
      case "RESTORED" -> TrafficAction.TRAFFIC_ACTION_RESTORED;
      default -> throw new PushRejected(400, "action must be DRAINED or RESTORED, got " + actionName);
    };
    String actor = optionalText(body, "actor", "");
    if (actor == null) {
      throw new PushRejected(400, "actor is required, e.g. \"lb-hook:haproxy-3\"");
    }
    String reason = body.has("reason") && !body.get("reason").isNull() ? text(body, "reason", "") : "";
    long timestamp = body.has("timestamp_ms") ? requiredLong(body, "timestamp_ms", "") : clock.millis();
    if (timestamp <= 0) {
      throw new PushRejected(400, "timestamp_ms must be positive epoch milliseconds");
    }
    sink.publish(TrafficEvent.newBuilder()
        .setContainerId(containerId)
        .setAction(action)
        .setActor(actor)
        .setReason(reason)
        .setTimestampMs(timestamp)
        .build());
    return JSON.createObjectNode().put("accepted", 1);
  }

  // ---- field checks

  private static void requireObject(JsonNode node, String where, Set<String> fields) throws PushRejected {
    if (!node.isObject()) {
      throw new PushRejected(400, where + "expected a JSON object");
    }
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) {
        throw new PushRejected(400, where + "unknown field " + name);
      }
    }
  }

  /** A non-blank string field, or null when absent or null. */
  private static String optionalText(JsonNode item, String field, String where) throws PushRejected {
    JsonNode node = item.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    String value = text(item, field, where);
    if (value.isBlank()) {
      throw new PushRejected(400, where + field + " is blank");
    }
    if (value.length() > MAX_ID_LENGTH) {
      throw new PushRejected(400, where + field + " is longer than " + MAX_ID_LENGTH + " characters");
    }
    return value;
  }

  private static String text(JsonNode item, String field, String where) throws PushRejected {
    JsonNode node = item.get(field);
    if (!node.isTextual()) {
      throw new PushRejected(400, where + field + " must be a string, got " + node);
    }
    return node.asText();
  }

  private static long requiredLong(JsonNode item, String field, String where) throws PushRejected {
    JsonNode node = item.get(field);
    if (node == null || node.isNull()) {
      throw new PushRejected(400, where + field + " is required");
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw new PushRejected(400, where + field + " must be an integer, got " + node);
    }
    return node.asLong();
  }
}
