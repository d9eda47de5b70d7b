package dev.stallwatch.ingest.upstream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.stallwatch.ingest.collector.CollectorHttpServer;
import dev.stallwatch.ingest.collector.CollectorHttpServer.Answer;
import dev.stallwatch.ingest.collector.CollectorHttpServer.Exchange;
import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
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
  /** A push is a window's counts or one event: 64 KiB is hundreds of them. */
  static final int MAX_BODY_BYTES = 64 * 1024;
  static final int MAX_ID_LENGTH = 256;
  /** Items in one {@code /v1/upstream} array. */
  static final int MAX_ITEMS = 1_000;
  public static final String PUSH_TOKEN_ENV = "STALLWATCH_PUSH_TOKEN";
  private static final String PUSH_TOKEN_HINT = PUSH_TOKEN_ENV + " or --push-token-file FILE";
  // a source names metric series: keep it short and plain
  private static final Pattern SOURCE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@/-]{0,63}");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  // nesting and numbers bounded below Jackson's defaults: a push is flat
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).maxNumberLength(40)
          .maxStringLength(MAX_BODY_BYTES).build())
      .build());
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

  /**
   * Adds {@code /v1/upstream} and {@code /v1/traffic} to {@code server}, open to the callers
   * {@code access} lets through.
   */
  public void register(CollectorHttpServer server, Access access) {
    Objects.requireNonNull(access, "access");
    server.route(UPSTREAM_PATH, new PushRoute(UPSTREAM_PATH, access, this::upstream));
    server.route(TRAFFIC_PATH, new PushRoute(TRAFFIC_PATH, access, this::traffic));
  }

  /**
   * Who may push: the bearer check of the {@code Authorization} header (empty: pushes are off), and
   * the host names a {@code Host} header may carry besides the address the connection reached
   * ({@code localhost} on loopback is always fine).
   */
  public record Access(Optional<Predicate<String>> bearer, Set<String> hostNames) {
    public Access {
      Objects.requireNonNull(bearer, "bearer");
      hostNames = hostNames.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    /** No token configured: every push is refused. */
    public static Access off() {
      return new Access(Optional.empty(), Set.of());
    }

    public static Access bearer(Predicate<String> authorization, Set<String> hostNames) {
      return new Access(Optional.of(authorization), hostNames);
    }
  }

  private interface BodyHandler {
    ObjectNode handle(JsonNode body) throws PushRejected;
  }

  private final class PushRoute implements CollectorHttpServer.Route {
    private final String path;
    private final Access access;
    private final BodyHandler handler;

    PushRoute(String path, Access access, BodyHandler handler) {
      this.path = path;
      this.access = access;
      this.handler = handler;
    }

    @Override
    public int maxBodyBytes() {
      return MAX_BODY_BYTES;
    }

    @Override
    public Optional<Answer> admit(Exchange exchange) {
      try {
        if (!exchange.method().equals("POST")) {
          return Optional.of(count(Answer.error(405, path + " takes POST, not " + exchange.method())
              .withHeader("Allow", "POST")));
        }
        checkAccess(exchange, access);
        checkContentType(exchange.header("Content-Type"));
        return Optional.empty();
      } catch (PushRejected e) {
        Answer answer = Answer.error(e.status, e.getMessage());
        if (e.status == 401) {
          answer = answer.withHeader("WWW-Authenticate", "Bearer realm=\"stallwatch-collect\"");
        }
        return Optional.of(count(answer));
      }
    }

    @Override
    public Answer handle(Exchange exchange, byte[] body) {
      try {
        return count(Answer.json(202, handler.handle(parse(body)).toString()));
      } catch (PushRejected e) {
        return count(Answer.error(e.status, e.getMessage()));
      } catch (RuntimeException e) {
        // e.g. the spool cannot write: the caller should retry, and an operator should see why
        LOG.error("{}: could not take a push from {}", path, exchange.remote(), e);
        return count(Answer.error(500, "internal error: " + e));
      }
    }

    @Override
    public Answer refused(Answer answer) {
      return count(answer);
    }

    private Answer count(Answer answer) {
      metrics.pushRequests.labelValues(path, String.valueOf(answer.status())).inc();
      return answer;
    }
  }

  /**
   * A browser on another site must not get a push through: it sends {@code Origin} with every
   * cross-origin POST, and a DNS-rebound page sends its own name as {@code Host}.
   */
  static void checkAccess(Exchange exchange, Access access) throws PushRejected {
    if (!hostAllowed(exchange.header("Host"), exchange.local(), access.hostNames())) {
      throw new PushRejected(421, "Host " + exchange.header("Host") + " is not this collector's address; "
          + "name it with --http-allowed-host");
    }
    if (exchange.header("Origin") != null) {
      throw new PushRejected(403, "requests from web pages (with an Origin header) are refused");
    }
    if (access.bearer().isEmpty()) {
      throw new PushRejected(403, "pushes are off: start collect with " + PUSH_TOKEN_HINT);
    }
    String authorization = exchange.header("Authorization");
    if (authorization == null) {
      throw new PushRejected(401, "pushes need 'Authorization: Bearer <token>' (the token of " + PUSH_TOKEN_HINT
          + ")");
    }
    if (!access.bearer().get().test(authorization)) {
      throw new PushRejected(401, "the bearer token is not accepted");
    }
  }

  static boolean hostAllowed(String host, InetSocketAddress local, Set<String> names) {
    if (host == null || host.isBlank() || local == null) {
      return false;
    }
    String name;
    String port;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close < 0) {
        return false;
      }
      name = host.substring(1, close);
      port = host.length() > close + 1 && host.charAt(close + 1) == ':' ? host.substring(close + 2) : null;
      if (host.length() > close + 1 && port == null) {
        return false;
      }
    } else {
      int colon = host.indexOf(':');
      name = colon < 0 ? host : host.substring(0, colon);
      port = colon < 0 ? null : host.substring(colon + 1);
    }
    if ((port == null ? 80 : parsePort(port)) != local.getPort()) {
      return false;
    }
    name = name.toLowerCase(Locale.ROOT);
    InetAddress reached = local.getAddress();
    if (names.contains(name) || (name.equals("localhost") && reached != null && reached.isLoopbackAddress())) {
      return true;
    }
    // only IP literals are compared as addresses: a name is never looked up
    if (reached == null || !(IPV4.matcher(name).matches() || name.contains(":"))) {
      return false;
    }
    try {
      InetAddress literal = InetAddress.getByName(name);
      return literal.equals(reached);
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static int parsePort(String port) {
    try {
      return port.length() <= 5 ? Integer.parseInt(port) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** JSON only: a browser's simple cross-origin request can send text/plain or a form, never JSON. */
  static void checkContentType(String contentType) throws PushRejected {
    if (contentType == null) {
      throw new PushRejected(415, "send Content-Type: application/json");
    }
    String[] parts = contentType.split(";");
    if (!parts[0].strip().equalsIgnoreCase("application/json")) {
      throw new PushRejected(415, "send Content-Type: application/json, not " + parts[0].strip());
    }
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].strip().toLowerCase(Locale.ROOT);
      if (parameter.startsWith("charset=") && !parameter.replace("\"", "").equals("charset=utf-8")) {
        throw new PushRejected(415, "the body must be UTF-8, not " + parameter);
      }
    }
  }

  static JsonNode parse(byte[] body) throws PushRejected {
    try {
      JsonNode json = JSON.readTree(body);
      if (json == null || json.isMissingNode()) {
        throw new PushRejected(400, "body is empty: expected JSON");
      }
      return json;
    } catch (StreamConstraintsException e) {
      throw new PushRejected(400, "body is not acceptable JSON: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw new PushRejected(400, "body is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new PushRejected(400, "body is not JSON: " + e.getMessage());
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
      if (items.size() > MAX_ITEMS) {
        throw new PushRejected(400, "array of " + items.size() + " counts: push at most " + MAX_ITEMS + " at a time");
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
    int dropped = 0;
    for (PushedCount count : counts) {
      if (count.containerId == null) {
        unmapped++;
        metrics.unmappedRequests.labelValues(count.source).inc(count.requests);
        continue;
      }
      switch (aggregator.record(count.source, count.containerId, count.timestampMs, count.requests, count.timeouts)) {
        case OPEN, CORRECTION -> { }
        default -> dropped++;
      }
    }
    ObjectNode answer = JSON.createObjectNode().put("accepted", counts.size() - unmapped - dropped)
        .put("unmapped", unmapped);
    if (dropped > 0) {
      // over the bound of containers or sources per window: counted in /metrics
      answer.put("dropped", dropped);
    }
    return answer;
  }

  private PushedCount count(JsonNode item, String where, long now) throws PushRejected {
    requireObject(item, where, UPSTREAM_FIELDS);
    String containerId = optionalText(item, "container_id", where);
    String upstream = optionalText(item, "upstream", where);
    if ((containerId == null) == (upstream == null)) {
      throw new PushRejected(400, where + "give exactly one of container_id and upstream");
    }
    String sourceName = optionalText(item, "source", where);
    if (sourceName != null && !SOURCE_NAME.matcher(sourceName).matches()) {
      throw new PushRejected(400, where + "source must be up to 64 letters, digits and ._:@/- , got " + sourceName);
    }
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
