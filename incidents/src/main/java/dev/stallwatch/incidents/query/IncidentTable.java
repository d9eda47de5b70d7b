package dev.stallwatch.incidents.query;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Incidents as an aligned text table for a terminal, one line per incident, control characters escaped. */
public final class IncidentTable {
  /** docker's short container ID; {@code --container} takes it as a prefix. */
  public static final int SHORT_CONTAINER_ID = 12;
  private static final String[] HEADER =
      {"DETECTED", "STATUS", "CONTAINER", "HOST", "NAMESPACE/POD", "SIGNATURE", "RUNTIME", "CPU AFTER", "INCIDENT"};

  private IncidentTable() {}

  public static String render(List<Incident> incidents) {
    List<String[]> rows = new ArrayList<>();
    rows.add(HEADER);
    for (Incident i : incidents) {
      rows.add(new String[] {
          i.detectedAt().toString(),
          i.status().name(),
          shortId(i.containerId()),
          i.host(),
          (i.namespace() == null ? "-" : i.namespace()) + "/" + (i.pod() == null ? "-" : i.pod()),
          i.signatureId(),
          i.evidence().runtimeVersion() == null ? "unknown" : i.evidence().runtimeVersion(),
          String.format(Locale.ROOT, "%.2f", i.cpuCoresAfterDrain()),
          i.incidentId()});
    }
    // stored text may hold ESC, CR or BEL: never let it reach the terminal raw
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        row[c] = TerminalText.escape(row[c]);
      }
    }
    int[] widths = new int[HEADER.length];
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        widths[c] = Math.max(widths[c], row[c].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        out.append(row[c]);
        if (c < row.length - 1) {
          out.append(" ".repeat(widths[c] - row[c].length() + 2));
        }
      }
      out.append('\n');
    }
    return out.toString();
  }

  static String shortId(String containerId) {
    return containerId.length() <= SHORT_CONTAINER_ID ? containerId : containerId.substring(0, SHORT_CONTAINER_ID);
  }
}
