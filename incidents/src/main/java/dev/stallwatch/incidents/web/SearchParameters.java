package dev.stallwatch.incidents.web;

import dev.stallwatch.incidents.query.IncidentFilter;
import dev.stallwatch.incidents.query.IncidentQuery;
import dev.stallwatch.incidents.query.IncidentStatus;
import dev.stallwatch.incidents.query.TimeBound;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The query string of {@code GET /api/v1/incidents}: the filters of {@code stallwatch incidents
 * list} (since, until, container, host, namespace, signature, status) and one page of the result
 * (limit, offset).
 */
record SearchParameters(IncidentFilter filter, int limit, int offset) {
  static final List<String> NAMES =
      List.of("since", "until", "container", "host", "namespace", "signature", "status", "limit", "offset");

  static SearchParameters parse(QueryParameters query, Clock clock) {
    query.requireOnly(NAMES);
    IncidentFilter.Builder filter = IncidentFilter.builder()
        .since(time(query, "since", clock))
        .until(time(query, "until", clock))
        .container(query.single("container").orElse(null))
        .host(query.single("host").orElse(null))
        .namespace(query.single("namespace").orElse(null))
        .signature(query.single("signature").orElse(null));
    Optional<String> status = query.single("status");
    if (status.isPresent()) {
      try {
        filter.status(IncidentStatus.parse(status.get()));
      } catch (IllegalArgumentException e) {
        throw HttpError.badRequest("status: " + e.getMessage());
      }
    }
    int limit = number(query, "limit", IncidentQuery.DEFAULT_LIMIT);
    if (limit < 1 || limit > IncidentQuery.MAX_LIMIT) {
      throw HttpError.badRequest("limit: expected 1 to " + IncidentQuery.MAX_LIMIT + ", got " + limit);
    }
    int offset = number(query, "offset", 0);
    if (offset < 0) {
      throw HttpError.badRequest("offset: expected 0 or more, got " + offset);
    }
    try {
      return new SearchParameters(filter.build(), limit, offset);
    } catch (IllegalArgumentException e) {
      throw HttpError.badRequest(e.getMessage());
    }
  }

  /**
   * The query string of the same search at another offset. Times are the instants this search
   * resolved ({@code since=7d} becomes an ISO time), so that the next page continues the same list.
   */
  String queryString(int atOffset) {
    List<String> pairs = new ArrayList<>();
    add(pairs, "since", filter.since() == null ? null : filter.since().toString());
    add(pairs, "until", filter.until() == null ? null : filter.until().toString());
    add(pairs, "container", filter.container());
    add(pairs, "host", filter.host());
    add(pairs, "namespace", filter.namespace());
    add(pairs, "signature", filter.signature());
    add(pairs, "status", filter.status() == null ? null : filter.status().lowerCase());
    add(pairs, "limit", Integer.toString(limit));
    add(pairs, "offset", Integer.toString(atOffset));
    return String.join("&", pairs);
  }

  private static void add(List<String> pairs, String name, String value) {
    if (value != null) {
      pairs.add(name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8));
    }
  }

  private static Instant time(QueryParameters query, String name, Clock clock) {
    Optional<String> text = query.single(name);
    if (text.isEmpty()) {
      return null;
    }
    try {
      return TimeBound.parse(text.get(), clock);
    } catch (IllegalArgumentException e) {
      throw HttpError.badRequest(name + ": " + e.getMessage());
    }
  }

  private static int number(QueryParameters query, String name, int absent) {
    Optional<String> text = query.single(name);
    if (text.isEmpty()) {
      return absent;
    }
    try {
      return Integer.parseInt(text.get().strip());
    } catch (NumberFormatException e) {
      throw HttpError.badRequest(name + ": expected a whole number, got '" + text.get() + "'");
    }
  }
}
