package dev.stallwatch.incidents.query;

import java.util.List;

/**
 * One page of a search, newest first.
 *
 * @param total how many incidents match the filter in all
 */
public record IncidentPage(List<Incident> incidents, long total, int limit, int offset) {
  public IncidentPage {
    incidents = List.copyOf(incidents);
  }

  /** Whether pages after this one hold more matches. */
  public boolean hasMore() {
    return offset + (long) incidents.size() < total;
  }
}
