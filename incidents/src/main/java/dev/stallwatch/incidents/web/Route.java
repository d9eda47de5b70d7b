package dev.stallwatch.incidents.web;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GET route: a path template such as {@code /api/v1/incidents/{id}} (a parameter is one whole
 * path segment) and its handler. The template is also the route's {@code route} metric label.
 */
record Route(String template, Pattern pattern, List<String> parameters, Handler handler) {
  private static final Pattern PARAMETER = Pattern.compile("\\{([a-z]+)}");

  /** Answers one request; the router turns {@link HttpError} and failures into error answers. */
  @FunctionalInterface
  interface Handler {
    void handle(WebExchange exchange) throws IOException;
  }

  static Route get(String template, Handler handler) {
    StringBuilder regex = new StringBuilder();
    List<String> parameters = new ArrayList<>();
    Matcher m = PARAMETER.matcher(template);
    int literalStart = 0;
    while (m.find()) {
      regex.append(Pattern.quote(template.substring(literalStart, m.start()))).append("([^/]+)");
      parameters.add(m.group(1));
      literalStart = m.end();
    }
    regex.append(Pattern.quote(template.substring(literalStart)));
    return new Route(template, Pattern.compile(regex.toString()), List.copyOf(parameters), handler);
  }

  /** The raw (still encoded) parameter values when the path matches. */
  Optional<Map<String, String>> match(String rawPath) {
    Matcher m = pattern.matcher(rawPath);
    if (!m.matches()) {
      return Optional.empty();
    }
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < parameters.size(); i++) {
      values.put(parameters.get(i), m.group(i + 1));
    }
    return Optional.of(values);
  }
}
