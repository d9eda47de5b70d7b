package dev.stallwatch.app.cli;

import dev.stallwatch.incidents.notify.AlertmanagerNotifier;
import dev.stallwatch.incidents.notify.IncidentLinks;
import dev.stallwatch.incidents.notify.Notifier;
import dev.stallwatch.incidents.notify.PagerDutyNotifier;
import dev.stallwatch.incidents.notify.WebhookNotifier;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Where pages go: PagerDuty, Alertmanager, a webhook. Shared by {@code demo} and {@code serve}. */
public final class NotifierSettings {
  @Option(names = "--pagerduty-url", paramLabel = "URL",
      description = "PagerDuty Events API v2 endpoint (default: the public one, when a routing key is given).")
  String pagerDutyUrl;

  @Option(names = "--pagerduty-routing-key", paramLabel = "KEY", description = "PagerDuty integration routing key.")
  String pagerDutyRoutingKey;

  @Option(names = "--alertmanager-url", paramLabel = "URL",
      description = "Alertmanager base URL; alerts go to URL/api/v2/alerts and are re-sent while firing.")
  String alertmanagerUrl;

  @Option(names = "--webhook-url", paramLabel = "URL", description = "POST every alert as JSON to this URL.")
  String webhookUrl;

  @Option(names = "--incident-base-url", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080",
      description = "Base URL of the incident pages that pages link to (default: ${DEFAULT-VALUE}).")
  String incidentBaseUrl;

  public boolean any() {
    return pagerDutyUrl != null || pagerDutyRoutingKey != null || alertmanagerUrl != null || webhookUrl != null;
  }

  /** The configured notifiers; a half-configured one is a usage error, never silently left out. */
  public List<Notifier> notifiers() {
    try {
      IncidentLinks links = IncidentLinks.of(incidentBaseUrl);
      List<Notifier> notifiers = new ArrayList<>();
      if (pagerDutyUrl != null || pagerDutyRoutingKey != null) {
        PagerDutyNotifier.Builder pagerDuty = PagerDutyNotifier.builder().incidentLinks(links);
        if (pagerDutyUrl != null) {
          pagerDuty.url(pagerDutyUrl);
        }
        if (pagerDutyRoutingKey != null) {
          pagerDuty.routingKey(pagerDutyRoutingKey);
        }
        notifiers.add(pagerDuty.build());
      }
      if (alertmanagerUrl != null) {
        notifiers.add(AlertmanagerNotifier.builder().url(alertmanagerUrl).incidentLinks(links).build());
      }
      if (webhookUrl != null) {
        notifiers.add(WebhookNotifier.builder().url(webhookUrl).incidentLinks(links).build());
      }
      return notifiers;
    } catch (IllegalArgumentException | IllegalStateException | NullPointerException e) {
      throw new UserError(e.getMessage(), e);
    }
  }
}
