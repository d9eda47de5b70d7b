package dev.stallwatch.incidents.notify;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Alertmanager API v2: {@code POST {url}/api/v2/alerts} with a JSON array of alerts. Alertmanager
 * identifies an alert by its labels (the incident ID is one), so sending one twice is a refresh,
 * never a second alert.
 *
 * <p>Alertmanager resolves an alert it has not heard about for its {@code resolve_timeout}, so
 * the incidents still open are re-sent every {@code resendInterval} (as Prometheus does) until
 * their RESOLVED alert, which carries {@code endsAt}. Only incidents opened since this notifier
 * started (or given to {@link Builder#firing}) are re-sent.
 */
public final class AlertmanagerNotifier implements Notifier {
  public static final String NAME = "alertmanager";
  public static final String DEFAULT_ALERT_NAME = "StallwatchDeadlock";
  public static final Duration DEFAULT_RESEND_INTERVAL = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_FIRING = 1000;
  static final String ALERTS_PATH = "/api/v2/alerts";

  private final URI alertsUrl;
  private final String alertName;
  private final IncidentLinks links;
  private final URI runbookUrl;
  private final Duration resendInterval;
  private final FiringAlerts firing;

  private AlertmanagerNotifier(Builder builder) {
    String base = builder.url.toString();
    this.alertsUrl = URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + ALERTS_PATH);
    this.alertName = builder.alertName;
    this.links = builder.links;
    this.runbookUrl = builder.runbookUrl;
    this.resendInterval = builder.resendInterval;
    this.firing = new FiringAlerts(builder.maxFiring);
    builder.firing.forEach(firing::fire);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Where alerts are posted: {@code {url}/api/v2/alerts}. */
  public URI alertsUrl() {
    return alertsUrl;
  }

  @Override
  public HttpRequest request(DeadlockAlert alert) {
    return post(List.of(alert));
  }

  @Override
  public void accepted(DeadlockAlert alert) {
    if (alert.getEventType() == AlertEventType.OPEN) {
      firing.fire(alert);
    } else {
      firing.resolve(alert.getIncidentId());
    }
  }

  @Override
  public Optional<Duration> resendInterval() {
    return Optional.of(resendInterval);
  }

  @Override
  public Optional<HttpRequest> resendRequest() {
    List<DeadlockAlert> open = firing.snapshot();
    return open.isEmpty() ? Optional.empty() : Optional.of(post(open));
  }

  /** The incidents this notifier keeps re-sending, oldest first. */
  public List<DeadlockAlert> firing() {
    return firing.snapshot();
  }

  private HttpRequest post(List<DeadlockAlert> alerts) {
    ArrayNode body = JsonRequests.MAPPER.createArrayNode();
    for (DeadlockAlert alert : alerts) {
      body.add(alert(alert));
    }
    return JsonRequests.post(alertsUrl, body, Map.of());
  }

  /** One postable alert. */
  ObjectNode alert(DeadlockAlert alert) {
    ObjectNode json = JsonRequests.MAPPER.createObjectNode();
    ObjectNode labels = json.putObject("labels");
    labels.put("alertname", alertName);
    labels.put("container_id", alert.getContainerId());
    labels.put("host", alert.getHost());
    // an empty label is no label to Alertmanager: leave out what the collector did not know
    if (alert.getNamespace() != null) {
      labels.put("namespace", alert.getNamespace());
    }
    if (alert.getPod() != null) {
      labels.put("pod", alert.getPod());
    }
    labels.put("signature", alert.getSignatureId());
    labels.put("severity", "critical");
    labels.put("incident_id", alert.getIncidentId());
    ObjectNode annotations = json.putObject("annotations");
    annotations.put("summary", AlertText.summary(alert));
    annotations.put("description", AlertText.description(alert));
    String incidentUrl = links.incident(alert.getIncidentId());
    annotations.put("incident_url", incidentUrl);
    if (runbookUrl != null) {
      annotations.put("runbook_url", runbookUrl.toString());
    }
    if (alert.getRuntimeVersion() != null) {
      annotations.put("runtime_version", alert.getRuntimeVersion());
    }
    json.put("startsAt", alert.getDetectedAt().toString());
    if (alert.getEventType() == AlertEventType.RESOLVED) {
      if (alert.getResolvedAt() == null) {
        throw new IllegalArgumentException("RESOLVED alert for incident " + alert.getIncidentId() + " has no resolvedAt");
      }
      json.put("endsAt", alert.getResolvedAt().toString());
    }
    // firing: no endsAt, so Alertmanager keeps it for resolve_timeout after each (re-)send
    json.put("generatorURL", incidentUrl);
    return json;
  }

  @Override
  public String toString() {
    return "Alertmanager at " + alertsUrl;
  }

  /** Builds an {@link AlertmanagerNotifier}; the Alertmanager URL and the incident base URL are required. */
  public static final class Builder {
    private URI url;
    private String alertName = DEFAULT_ALERT_NAME;
    private IncidentLinks links;
    private URI runbookUrl;
    private Duration resendInterval = DEFAULT_RESEND_INTERVAL;
    private int maxFiring = DEFAULT_MAX_FIRING;
    private final List<DeadlockAlert> firing = new ArrayList<>();

    private Builder() {}

    /** Alertmanager's base URL, e.g. {@code http://alertmanager:9093}; alerts go to {@code /api/v2/alerts} under it. */
    public Builder url(URI url) {
      this.url = Objects.requireNonNull(url, "Alertmanager URL");
      return this;
    }

    public Builder url(String url) {
      return url(URI.create(Objects.requireNonNull(url, "Alertmanager URL")));
    }

    /** The {@code alertname} label (default {@value #DEFAULT_ALERT_NAME}). */
    public Builder alertName(String alertName) {
      this.alertName = Objects.requireNonNull(alertName, "alert name");
      return this;
    }

    /** Where {@code stallwatch serve} shows incidents: the {@code incident_url} annotation and {@code generatorURL}. */
    public Builder incidentLinks(IncidentLinks links) {
      this.links = Objects.requireNonNull(links, "incident links");
      return this;
    }

    /** Optional {@code runbook_url} annotation. */
    public Builder runbookUrl(URI runbookUrl) {
      this.runbookUrl = Objects.requireNonNull(runbookUrl, "runbook URL");
      return this;
    }

    /** How often open incidents are re-sent (default 60 s); keep it well below Alertmanager's resolve_timeout. */
    public Builder resendInterval(Duration resendInterval) {
      this.resendInterval = Objects.requireNonNull(resendInterval, "resend interval");
      return this;
    }

    /** At most this many open incidents are re-sent (default {@value #DEFAULT_MAX_FIRING}); the oldest go first. */
    public Builder maxFiring(int maxFiring) {
      this.maxFiring = maxFiring;
      return this;
    }

    /**
     * Incidents already open when this notifier starts (their OPEN alerts, e.g. from the incident
     * store), so that a restart keeps re-sending them.
     */
    public Builder firing(Collection<DeadlockAlert> openAlerts) {
      for (DeadlockAlert alert : Objects.requireNonNull(openAlerts, "open alerts")) {
        if (Objects.requireNonNull(alert, "open alert").getEventType() != AlertEventType.OPEN) {
          throw new IllegalArgumentException("firing(...) takes OPEN alerts; incident " + alert.getIncidentId()
              + " is " + alert.getEventType());
        }
        firing.add(alert);
      }
      return this;
    }

    public AlertmanagerNotifier build() {
      if (url == null) {
        throw new IllegalStateException("Alertmanager needs its URL: set --alertmanager-url (url(...)),"
            + " e.g. http://alertmanager:9093");
      }
      if (!url.isAbsolute() || !(url.getScheme().equals("http") || url.getScheme().equals("https"))) {
        throw new IllegalStateException("the Alertmanager URL must be an http(s) URL like http://alertmanager:9093;"
            + " got " + url);
      }
      if (url.getRawQuery() != null) {
        throw new IllegalStateException("the Alertmanager URL is a base URL without a query, like"
            + " http://alertmanager:9093; got " + url);
      }
      if (links == null) {
        throw new IllegalStateException("Alertmanager alerts link to the incident page: set incidentLinks(...) to the"
            + " URL where 'stallwatch serve' is reachable, e.g. IncidentLinks.of(\"http://stallwatch.example:8080\")");
      }
      if (resendInterval.isNegative() || resendInterval.isZero()) {
        throw new IllegalStateException("the Alertmanager resend interval must be positive (e.g. 60 s, below its"
            + " resolve_timeout); got " + resendInterval);
      }
      if (maxFiring < 1) {
        throw new IllegalStateException("maxFiring must be at least 1; got " + maxFiring);
      }
      return new AlertmanagerNotifier(this);
    }
  }
}
