package dev.stallwatch.incidents.notify;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** Where people open an incident: {@code {baseUrl}/incidents/{id}}, served by {@code stallwatch serve}. */
public final class IncidentLinks {
  private final String base;

  private IncidentLinks(String base) {
    this.base = base;
  }

  /** {@code baseUrl} is where the incident web page is reachable, e.g. {@code http://stallwatch.example:8080}. */
  public static IncidentLinks of(URI baseUrl) {
    Objects.requireNonNull(baseUrl, "incident base URL");
    if (!baseUrl.isAbsolute() || baseUrl.getHost() == null) {
      throw new IllegalArgumentException("the incident base URL must be absolute, like http://stallwatch.example:8080;"
          + " got " + baseUrl);
    }
    String text = baseUrl.toString();
    return new IncidentLinks(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
  }

  public static IncidentLinks of(String baseUrl) {
    return of(URI.create(Objects.requireNonNull(baseUrl, "incident base URL")));
  }

  /** The base URL, without a trailing slash. */
  public String baseUrl() {
    return base;
  }

  public String incident(String incidentId) {
    return base + "/incidents/" + URLEncoder.encode(incidentId, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return base;
  }
}
