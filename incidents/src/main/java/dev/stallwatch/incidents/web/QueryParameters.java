package dev.stallwatch.incidents.web;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The decoded parameters of a request's query string; bad ones are a 400, never ignored. */
final class QueryParameters {
  private final Map<String, List<String>> values;

  private QueryParameters(Map<String, List<String>> values) {
    this.values = values;
  }

  static QueryParameters parse(String rawQuery) {
    Map<String, List<String>> values = new LinkedHashMap<>();
    if (rawQuery != null && !rawQuery.isEmpty()) {
      for (String pair : rawQuery.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
        requirePrintable("parameter '" + name.replaceAll("\\p{Cntrl}", "?") + "'", name);
        requirePrintable("parameter '" + name.replaceAll("\\p{Cntrl}", "?") + "'", value);
        values.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
      }
    }
    return new QueryParameters(values);
  }

  private static String decode(String text) {
    try {
      return URLDecoder.decode(text, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw HttpError.badRequest("the query string is not URL-encoded: " + e.getMessage());
    }
  }

  /**
   * No control characters (NUL above all, which PostgreSQL refuses in text): they are never part
   * of an ID, host or signature, so they are the client's mistake, a 400.
   */
  static void requirePrintable(String what, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isISOControl(c)) {
        throw HttpError.badRequest(what + " holds the control character U+" + String.format("%04X", (int) c)
            + " at position " + (i + 1));
      }
    }
  }

  /** A typo such as {@code stauts=open} must not quietly list everything. */
  void requireOnly(List<String> known) {
    for (String name : values.keySet()) {
      if (!known.contains(name)) {
        throw HttpError.badRequest("unknown parameter '" + name + "'; expected " + String.join(", ", known));
      }
    }
  }

  /** The value of a parameter given at most once; empty when absent or blank (an empty form field). */
  Optional<String> single(String name) {
    List<String> given = values.getOrDefault(name, List.of());
    if (given.size() > 1) {
      throw HttpError.badRequest("parameter '" + name + "' is given " + given.size() + " times; give it once");
    }
    return given.stream().filter(v -> !v.isBlank()).findFirst();
  }
}
