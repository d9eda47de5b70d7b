package dev.stallwatch.incidents.notify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Map;

/** A receiver with a name of the test's choosing, posting the incident ID and event type. */
record TestNotifier(String name, URI url) implements Notifier {
  @Override
  public HttpRequest request(DeadlockAlert alert) {
    ObjectNode body = JsonRequests.MAPPER.createObjectNode()
        .put("incidentId", alert.getIncidentId())
        .put("eventType", alert.getEventType().name());
    return JsonRequests.post(url, body, Map.of());
  }
}
