package dev.stallwatch.incidents.query;

import java.util.Locale;

/** An incident is OPEN from its first alert until a RESOLVED alert; it never opens again. */
public enum IncidentStatus {
  OPEN,
  RESOLVED;

  /** {@code open} or {@code resolved}, any case. */
  public static IncidentStatus parse(String text) {
    for (IncidentStatus status : values()) {
      if (status.name().equalsIgnoreCase(text.trim())) {
        return status;
      }
    }
    throw new IllegalArgumentException("expected open or resolved, got '" + text + "'");
  }

  public String lowerCase() {
    return name().toLowerCase(Locale.ROOT);
  }
}
