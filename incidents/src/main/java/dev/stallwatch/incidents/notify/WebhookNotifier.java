package dev.stallwatch.incidents.notify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.incidents.AlertJson;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A generic JSON webhook: {@code POST {url}} with the alert as {@link AlertJson} writes it, plus
 * {@code eventType} (OPEN or RESOLVED) and, when incident links are configured, {@code incidentUrl}.
 * A receiver that sees an incident twice (after a crash between delivery and commit) can drop the
 * second by {@code incidentId} + {@code eventType}.
 */
public final class WebhookNotifier implements Notifier {
  public static final String NAME = "webhook";

  private final URI url;
  private final IncidentLinks links;
  private final Map<String, String> headers;

  private WebhookNotifier(Builder builder) {
    this.url = builder.url;
    this.links = builder.links;
    this.headers = Map.copyOf(builder.headers);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return NAME;
  }

  public URI url() {
    return url;
  }

  @Override
  public HttpRequest request(DeadlockAlert alert) {
    return JsonRequests.post(url, body(alert), headers);
  }

  ObjectNode body(DeadlockAlert alert) {
    // a RESOLVED alert carries the whole incident, so it serves as both halves
    boolean resolved = alert.getEventType() == AlertEventType.RESOLVED;
    ObjectNode json = AlertJson.incident(alert, resolved ? alert : null);
    json.put("eventType", alert.getEventType().name());
    if (links != null) {
      json.put("incidentUrl", links.incident(alert.getIncidentId()));
    }
    return json;
  }

  @Override
  public String toString() {
    return "webhook at " + url;
  }

  /** Builds a {@link WebhookNotifier}; the URL is required. */
  public static final class Builder {
    private URI url;
    private IncidentLinks links;
    private final Map<String, String> headers = new LinkedHashMap<>();

    private Builder() {}

    public Builder url(URI url) {
      this.url = Objects.requireNonNull(url, "webhook URL");
      return this;
    }

    public Builder url(String url) {
      return url(URI.create(Objects.requireNonNull(url, "webhook URL")));
    }

    /** Optional: adds {@code incidentUrl} to each body. */
    public Builder incidentLinks(IncidentLinks links) {
      this.links = Objects.requireNonNull(links, "incident links");
      return this;
    }

    /** An extra request header, e.g. {@code Authorization}. */
    public Builder header(String name, String value) {
      headers.put(Objects.requireNonNull(name, "header name"), Objects.requireNonNull(value, "header value"));
      return this;
    }

    public WebhookNotifier build() {
      if (url == null) {
        throw new IllegalStateException("the webhook needs its URL: set --webhook-url (url(...)),"
            + " e.g. https://hooks.example/stallwatch");
      }
      if (!url.isAbsolute() || !(url.getScheme().equals("http") || url.getScheme().equals("https"))) {
        throw new IllegalStateException("the webhook URL must be an http(s) URL like https://hooks.example/stallwatch;"
            + " got " + url);
      }
      for (String name : headers.keySet()) {
        if (name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("Content-Length")
            || name.equalsIgnoreCase("Host")) {
          throw new IllegalStateException("the webhook sets header " + name + " itself; remove header(\"" + name
              + "\", ...)");
        }
      }
      return new WebhookNotifier(this);
    }
  }
}
