package dev.stallwatch.incidents.notify;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.alerts.v1.KnownIssue;
import dev.stallwatch.schemas.alerts.v1.WeightedStack;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Map;
import java.util.Objects;

/**
 * PagerDuty Events API v2: {@code trigger} when an incident opens, {@code resolve} when it ends,
 * both with the incident ID as {@code dedup_key}, so a second trigger for the same incident (a
 * restart, a replay) only adds a log entry to the open PagerDuty alert instead of paging again.
 * PagerDuty answers 202 when it accepted an event; 429 and 5xx are retried by the delivery.
 */
public final class PagerDutyNotifier implements Notifier {
  public static final String NAME = "pagerduty";
  public static final URI DEFAULT_URL = URI.create("https://events.pagerduty.com/v2/enqueue");
  public static final String DEFAULT_CLIENT = "Stallwatch";

  // PagerDuty's documented limits: longer values are rejected with a 400
  static final int MAX_SUMMARY = 1024;
  static final int MAX_DEDUP_KEY = 255;
  // the evidence a responder reads first; the whole set is on the incident page
  static final int MAX_STACKS = 10;
  static final int MAX_FOLDED = 4000;

  private final URI url;
  private final String routingKey;
  private final IncidentLinks links;
  private final String client;

  private PagerDutyNotifier(Builder builder) {
    this.url = builder.url;
    this.routingKey = builder.routingKey;
    this.links = builder.links;
    this.client = builder.client;
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
    return JsonRequests.post(url, event(alert), Map.of());
  }

  /** The Events API v2 body for one alert event. */
  ObjectNode event(DeadlockAlert alert) {
    if (alert.getIncidentId().length() > MAX_DEDUP_KEY) {
      throw new IllegalArgumentException("incident ID longer than PagerDuty's " + MAX_DEDUP_KEY
          + "-character dedup_key: " + alert.getIncidentId());
    }
    ObjectNode event = JsonRequests.MAPPER.createObjectNode();
    event.put("routing_key", routingKey);
    boolean resolve = alert.getEventType() == AlertEventType.RESOLVED;
    event.put("event_action", resolve ? "resolve" : "trigger");
    event.put("dedup_key", alert.getIncidentId());
    if (resolve) {
      // a resolve needs only the key; PagerDuty ignores a payload on it
      return event;
    }
    ObjectNode payload = event.putObject("payload");
    payload.put("summary", AlertText.truncate(AlertText.summary(alert), MAX_SUMMARY));
    payload.put("source", alert.getHost());
    payload.put("severity", "critical");
    payload.put("timestamp", alert.getDetectedAt().toString());
    payload.put("component", alert.getPod() != null ? alert.getPod() : alert.getContainerId());
    if (alert.getNamespace() != null) {
      payload.put("group", alert.getNamespace());
    }
    payload.put("class", alert.getSignatureId());
    payload.set("custom_details", customDetails(alert));
    ArrayNode linkList = event.putArray("links");
    linkList.addObject().put("href", links.incident(alert.getIncidentId()))
        .put("text", "Stallwatch incident " + alert.getIncidentId());
    for (KnownIssue issue : alert.getKnownIssues()) {
      linkList.addObject().put("href", issue.getUrl()).put("text", issue.getId() + ": " + issue.getTitle());
    }
    event.put("client", client);
    event.put("client_url", links.baseUrl());
    return event;
  }

  private static ObjectNode customDetails(DeadlockAlert alert) {
    ObjectNode details = JsonRequests.MAPPER.createObjectNode();
    details.put("incident_id", alert.getIncidentId());
    details.put("container_id", alert.getContainerId());
    details.put("host", alert.getHost());
    details.put("pod", alert.getPod());
    details.put("namespace", alert.getNamespace());
    details.put("signature", alert.getSignatureId());
    details.put("signature_title", alert.getSignatureTitle());
    details.put("runtime_version", alert.getRuntimeVersion());
    details.put("cpu_cores_before_drain", round(alert.getCpuCoresBeforeDrain()));
    details.put("cpu_cores_after_drain", round(alert.getCpuCoresAfterDrain()));
    details.put("signature_share", round(alert.getSignatureShare()));
    details.put("timeouts_at_spike", alert.getTimeoutsAtSpike());
    details.put("requests_at_spike", alert.getRequestsAtSpike());
    details.put("spike_started_at", alert.getSpikeStartedAt().toString());
    details.put("drained_at", alert.getDrainedAt().toString());
    details.put("drained_by", alert.getDrainedBy());
    details.put("stuck_since", alert.getStuckSince().toString());
    details.put("detected_at", alert.getDetectedAt().toString());
    ArrayNode issues = details.putArray("known_issues");
    for (KnownIssue issue : alert.getKnownIssues()) {
      issues.addObject().put("id", issue.getId()).put("title", issue.getTitle()).put("url", issue.getUrl())
          .put("fixed_in", issue.getFixedIn()).put("version_affected", issue.getVersionAffected());
    }
    details.put("remediation", alert.getRemediation());
    ArrayNode stacks = details.putArray("top_stacks");
    for (WeightedStack stack : alert.getTopStacks().subList(0, Math.min(MAX_STACKS, alert.getTopStacks().size()))) {
      stacks.addObject().put("share", round(stack.getShare())).put("weight", stack.getWeight())
          .put("folded", AlertText.truncate(stack.getFolded(), MAX_FOLDED));
    }
    return details;
  }

  private static double round(double value) {
    return Math.round(value * 1000.0) / 1000.0;
  }

  @Override
  public String toString() {
    // never the routing key: it lets anyone page this service
    return "PagerDuty at " + url;
  }

  /** Builds a {@link PagerDutyNotifier}; the routing key and the incident base URL are required. */
  public static final class Builder {
    private URI url = DEFAULT_URL;
    private String routingKey;
    private IncidentLinks links;
    private String client = DEFAULT_CLIENT;

    private Builder() {}

    /** The Events API v2 endpoint (default https://events.pagerduty.com/v2/enqueue). */
    public Builder url(URI url) {
      this.url = Objects.requireNonNull(url, "PagerDuty URL");
      return this;
    }

    public Builder url(String url) {
      return url(URI.create(Objects.requireNonNull(url, "PagerDuty URL")));
    }

    /** The Integration Key of an Events API v2 integration on the service to page. */
    public Builder routingKey(String routingKey) {
      this.routingKey = Objects.requireNonNull(routingKey, "PagerDuty routing key");
      return this;
    }

    /** Where {@code stallwatch serve} shows incidents; pages link to {@code {base}/incidents/{id}}. */
    public Builder incidentLinks(IncidentLinks links) {
      this.links = Objects.requireNonNull(links, "incident links");
      return this;
    }

    /** The monitoring client name PagerDuty shows (default "Stallwatch"). */
    public Builder client(String client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    public PagerDutyNotifier build() {
      if (routingKey == null || routingKey.isBlank()) {
        throw new IllegalStateException("PagerDuty needs a routing key: set --pagerduty-routing-key (routingKey(...))"
            + " to the Integration Key of an Events API v2 integration on the service to page");
      }
      if (links == null) {
        throw new IllegalStateException("PagerDuty pages link to the incident page: set incidentLinks(...) to the URL"
            + " where 'stallwatch serve' is reachable, e.g. IncidentLinks.of(\"http://stallwatch.example:8080\")");
      }
      if (!url.isAbsolute() || !(url.getScheme().equals("https") || url.getScheme().equals("http"))) {
        throw new IllegalStateException("the PagerDuty URL must be an http(s) URL like " + DEFAULT_URL
            + "; got " + url);
      }
      return new PagerDutyNotifier(this);
    }
  }
}
