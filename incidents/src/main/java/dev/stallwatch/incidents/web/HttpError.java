package dev.stallwatch.incidents.web;

import java.util.Map;

/** A request the server answers with an error status and a one-line JSON message. */
final class HttpError extends RuntimeException {
  private final int status;
  private final Map<String, String> headers;

  private HttpError(int status, String message, Map<String, String> headers) {
    super(message);
    this.status = status;
    this.headers = Map.copyOf(headers);
  }

  static HttpError badRequest(String message) {
    return new HttpError(400, message, Map.of());
  }

  /** RFC 6750: a missing token gets the bare challenge, a wrong one {@code error="invalid_token"}. */
  static HttpError unauthorized(String message, boolean tokenGiven) {
    String challenge = "Bearer realm=\"stallwatch\"" + (tokenGiven ? ", error=\"invalid_token\"" : "");
    return new HttpError(401, message, Map.of("WWW-Authenticate", challenge));
  }

  static HttpError notFound(String message) {
    return new HttpError(404, message, Map.of());
  }

  static HttpError methodNotAllowed(String method) {
    return new HttpError(405, "method " + method + " is not allowed here; use GET", Map.of("Allow", "GET, HEAD"));
  }

  int status() {
    return status;
  }

  Map<String, String> headers() {
    return headers;
  }
}
