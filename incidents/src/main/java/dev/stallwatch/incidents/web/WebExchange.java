package dev.stallwatch.incidents.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** One request and its answer: the matched route's path parameters, the query, and the ways to reply. */
final class WebExchange {
  static final String JSON = "application/json";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Request request;
  private final Response response;
  private final Callback callback;
  private Map<String, String> pathParameters = Map.of();
  private QueryParameters query;
  private int status;

  WebExchange(Request request, Response response, Callback callback) {
    this.request = request;
    this.response = response;
    this.callback = callback;
  }

  String method() {
    return request.getMethod();
  }

  /** The path as sent, still percent-encoded: routes match on it, so that {@code %2F} stays inside a segment. */
  String rawPath() {
    String path = request.getHttpURI().getPath();
    return path == null ? "" : path;
  }

  String header(String name) {
    return request.getHeaders().get(name);
  }

  void pathParameters(Map<String, String> rawValues) {
    this.pathParameters = rawValues;
  }

  String pathParameter(String name) {
    String raw = pathParameters.get(name);
    if (raw == null) {
      throw new IllegalStateException("the route has no parameter {" + name + "}");
    }
    String value;
    try {
      value = URLDecoder.decode(raw, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw HttpError.badRequest("the path is not URL-encoded: " + e.getMessage());
    }
    QueryParameters.requirePrintable("path parameter {" + name + "}", value);
    return value;
  }

  QueryParameters query() {
    if (query == null) {
      query = QueryParameters.parse(request.getHttpURI().getQuery());
    }
    return query;
  }

  /** Sets a response header; the last call for a name wins. */
  void header(String name, String value) {
    response.getHeaders().put(name, value);
  }

  void sendJson(int status, JsonNode body) throws IOException {
    send(status, JSON, MAPPER.writeValueAsBytes(body));
  }

  void sendError(int status, String message) throws IOException {
    ObjectNode body = MAPPER.createObjectNode().put("error", message);
    header("Cache-Control", "no-store");
    sendJson(status, body);
  }

  /** Sends the answer; Jetty leaves out the body of a HEAD answer and keeps its Content-Length. */
  void send(int status, String contentType, byte[] body) throws IOException {
    this.status = status;
    // everything served is text
    header("Content-Type", contentType.contains("charset") ? contentType : contentType + "; charset=utf-8");
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  /** Whether an answer was sent already (its status), or 0. */
  int status() {
    return status;
  }
}
