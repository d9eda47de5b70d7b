package dev.stallwatch.incidents.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** One request and its answer: the matched route's path parameters, the query, and the ways to reply. */
final class WebExchange {
  static final String JSON = "application/json";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final HttpExchange http;
  private Map<String, String> pathParameters = Map.of();
  private QueryParameters query;
  private int status;

  WebExchange(HttpExchange http) {
    this.http = http;
  }

  String method() {
    return http.getRequestMethod();
  }

  /** The path as sent, still percent-encoded: routes match on it, so that {@code %2F} stays inside a segment. */
  String rawPath() {
    return http.getRequestURI().getRawPath();
  }

  String header(String name) {
    return http.getRequestHeaders().getFirst(name);
  }

  void pathParameters(Map<String, String> rawValues) {
    this.pathParameters = rawValues;
  }

  String pathParameter(String name) {
    String raw = pathParameters.get(name);
    if (raw == null) {
      throw new IllegalStateException("the route has no parameter {" + name + "}");
    }
    try {
      return URLDecoder.decode(raw, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw HttpError.badRequest("the path is not URL-encoded: " + e.getMessage());
    }
  }

  QueryParameters query() {
    if (query == null) {
      query = QueryParameters.parse(http.getRequestURI().getRawQuery());
    }
    return query;
  }

  /** Sets a response header; the last call for a name wins. */
  void header(String name, String value) {
    http.getResponseHeaders().set(name, value);
  }

  void sendJson(int status, JsonNode body) throws IOException {
    send(status, JSON, MAPPER.writeValueAsBytes(body));
  }

  void sendError(int status, String message) throws IOException {
    ObjectNode body = MAPPER.createObjectNode().put("error", message);
    header("Cache-Control", "no-store");
    sendJson(status, body);
  }

  void send(int status, String contentType, byte[] body) throws IOException {
    this.status = status;
    // everything served is text
    header("Content-Type", contentType.contains("charset") ? contentType : contentType + "; charset=utf-8");
    boolean head = "HEAD".equals(method());
    // HEAD: the headers of the GET answer, no body (-1: no Content-Length and nothing follows)
    http.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = http.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** Whether an answer was sent already (its status), or 0. */
  int status() {
    return status;
  }
}
