package dev.stallwatch.incidents.notify;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * How one HTTP attempt went: a status code, or {@link #NETWORK_ERROR} when no answer came.
 *
 * @param status the HTTP status, or {@link #NETWORK_ERROR}
 * @param detail the start of the response body, or the network error
 * @param retryAfter the receiver's {@code Retry-After} in seconds, when it sent one
 */
record AttemptResult(int status, String detail, Optional<Duration> retryAfter) {
  static final int NETWORK_ERROR = -1;
  private static final int MAX_DETAIL = 500;

  static AttemptResult of(HttpResponse<String> response) {
    Optional<Duration> retryAfter = response.headers().firstValue("Retry-After").flatMap(AttemptResult::seconds);
    String body = response.body() == null ? "" : response.body().strip();
    return new AttemptResult(response.statusCode(), AlertText.truncate(body, MAX_DETAIL), retryAfter);
  }

  static AttemptResult networkError(IOException error) {
    return new AttemptResult(NETWORK_ERROR, error.toString(), Optional.empty());
  }

  boolean accepted() {
    return status >= 200 && status < 300;
  }

  /** 429, 5xx and network errors may pass; any other answer will be the same next time. */
  boolean retryable() {
    return status == NETWORK_ERROR || status == 429 || (status >= 500 && status < 600);
  }

  /** "HTTP 400: {body}" or "network error: {exception}", for logs and dead-letter headers. */
  String describe() {
    if (status == NETWORK_ERROR) {
      return "network error: " + detail;
    }
    return detail.isEmpty() ? "HTTP " + status : "HTTP " + status + ": " + detail;
  }

  /** The status for the dead-letter header: the code, or "network". */
  String statusText() {
    return status == NETWORK_ERROR ? "network" : String.valueOf(status);
  }

  private static Optional<Duration> seconds(String value) {
    // Retry-After may also be an HTTP date; only the seconds form is worth honouring here
    try {
      long seconds = Long.parseLong(value.trim());
      return seconds >= 0 ? Optional.of(Duration.ofSeconds(seconds)) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
