package dev.stallwatch.incidents.query;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stallwatch.incidents.AlertJson;

/**
 * An incident as JSON: the object {@code stallwatch replay} prints for the alert (same fields,
 * same names), plus when the store first and last wrote it.
 */
public final class IncidentJson {
  private IncidentJson() {}

  public static ObjectNode of(Incident incident) {
    ObjectNode json = AlertJson.incident(incident.openAlert(), incident.resolvedAlertOrNull());
    json.put("recordedAt", incident.createdAt() == null ? null : incident.createdAt().toString());
    json.put("updatedAt", incident.updatedAt() == null ? null : incident.updatedAt().toString());
    return json;
  }

  /**
   * A page for the HTTP API: {@code {"incidents": [...], "total": n, "limit": n, "offset": n,
   * "nextOffset": n or null}}.
   */
  public static ObjectNode page(IncidentPage page) {
    ObjectNode json = JsonNodeFactory.instance.objectNode();
    ArrayNode incidents = json.putArray("incidents");
    page.incidents().forEach(i -> incidents.add(of(i)));
    json.put("total", page.total());
    json.put("limit", page.limit());
    json.put("offset", page.offset());
    if (page.hasMore()) {
      json.put("nextOffset", page.offset() + page.incidents().size());
    } else {
      json.putNull("nextOffset");
    }
    return json;
  }

  /** One line of JSON, no line feed. */
  public static String line(Incident incident) {
    return of(incident).toString();
  }
}
