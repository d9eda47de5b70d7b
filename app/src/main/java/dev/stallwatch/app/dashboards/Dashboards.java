package dev.stallwatch.app.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Grafana dashboards in {@code dashboards/*.json}: each dashboard, its panels (rows' children
 * included), and every query Grafana would send (panel targets, template-variable queries,
 * annotation queries), with the Grafana macros expanded as Grafana's PostgreSQL and Prometheus
 * data sources expand them, so that a test can run them against real servers.
 */
public final class Dashboards {
  /** Where the datasource variables point by default: the uids in the provisioning file. */
  public static final String PROMETHEUS_UID = "stallwatch-prometheus";
  public static final String POSTGRES_UID = "stallwatch-postgres";
  public static final String PROMETHEUS_TYPE = "prometheus";
  public static final String POSTGRES_TYPE = "grafana-postgresql-datasource";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT;

  private Dashboards() {}

  public enum Kind { PROMQL, SQL }

  /**
   * One query: {@code where} says which part of the dashboard sends it (a panel title, with the
   * refId when the panel has several targets; {@code variable NAME}; {@code annotation NAME});
   * {@code format} is Grafana's {@code time_series} or {@code table}.
   */
  public record Query(String dashboardUid, String where, Kind kind, String text, String format) {}

  /** A panel's JSON (a row too: {@link #isRow()}). */
  public record Panel(String dashboardUid, JsonNode json) {
    public int id() {
      return json.path("id").asInt(-1);
    }

    public String type() {
      return json.path("type").asText("");
    }

    public String title() {
      return json.path("title").asText("");
    }

    public String description() {
      return json.path("description").asText("");
    }

    public String unit() {
      return json.path("fieldConfig").path("defaults").path("unit").asText("");
    }

    public boolean isRow() {
      return "row".equals(type());
    }

    public List<JsonNode> targets() {
      List<JsonNode> targets = new ArrayList<>();
      json.path("targets").forEach(targets::add);
      return targets;
    }
  }

  public record Dashboard(Path file, String uid, String title, JsonNode json) {
    /** Every panel in layout order, rows included, a row followed by the panels it holds. */
    public List<Panel> panels() {
      List<Panel> panels = new ArrayList<>();
      collectPanels(json.path("panels"), panels);
      return panels;
    }

    private void collectPanels(JsonNode list, List<Panel> into) {
      for (JsonNode panel : list) {
        into.add(new Panel(uid, panel));
        collectPanels(panel.path("panels"), into);
      }
    }

    public List<JsonNode> variables() {
      List<JsonNode> variables = new ArrayList<>();
      json.path("templating").path("list").forEach(variables::add);
      return variables;
    }

    public List<JsonNode> annotations() {
      List<JsonNode> annotations = new ArrayList<>();
      json.path("annotations").path("list").forEach(annotations::add);
      return annotations;
    }

    /** Panel targets, then query variables, then annotation queries. */
    public List<Query> queries() {
      List<Query> queries = new ArrayList<>();
      for (Panel panel : panels()) {
        List<JsonNode> targets = panel.targets();
        for (JsonNode target : targets) {
          String where = targets.size() == 1 ? panel.title() : panel.title() + " / " + target.path("refId").asText();
          queries.add(query(where, target, datasource(target, panel.json())));
        }
      }
      for (JsonNode variable : variables()) {
        if ("query".equals(variable.path("type").asText())) {
          JsonNode query = variable.path("query");
          JsonNode target = query.isTextual() ? JSON.createObjectNode().put(textField(variable), query.asText()) : query;
          queries.add(query("variable " + variable.path("name").asText(), target, variable.path("datasource"), "table"));
        }
      }
      for (JsonNode annotation : annotations()) {
        if (annotation.path("builtIn").asInt(0) == 1) {
          continue;
        }
        JsonNode target = annotation.has("target") ? annotation.path("target") : annotation;
        queries.add(query("annotation " + annotation.path("name").asText(), target, annotation.path("datasource"), "table"));
      }
      return queries;
    }

    private Query query(String where, JsonNode target, JsonNode datasource) {
      return query(where, target, datasource, null);
    }

    private Query query(String where, JsonNode target, JsonNode datasource, String forcedFormat) {
      Kind kind = kind(datasource, target, where);
      String text = switch (kind) {
        case SQL -> firstText(target, "rawSql", "rawQuery", "query");
        case PROMQL -> firstText(target, "expr", "query");
      };
      if (text == null) {
        throw new IllegalStateException(file + ": " + where + " has no " + kind + " text");
      }
      String format = forcedFormat != null ? forcedFormat : target.path("format").asText("time_series");
      return new Query(uid, where, kind, text, format);
    }

    private Kind kind(JsonNode datasource, JsonNode target, String where) {
      String type = datasource.path("type").asText("");
      if (PROMETHEUS_TYPE.equals(type)) {
        return Kind.PROMQL;
      }
      if (POSTGRES_TYPE.equals(type) || "postgres".equals(type)) {
        return Kind.SQL;
      }
      throw new IllegalStateException(file + ": " + where + " has a datasource of unknown type: " + datasource);
    }

    private static String textField(JsonNode variable) {
      return PROMETHEUS_TYPE.equals(variable.path("datasource").path("type").asText()) ? "expr" : "rawSql";
    }

    private static JsonNode datasource(JsonNode target, JsonNode panel) {
      return target.hasNonNull("datasource") ? target.path("datasource") : panel.path("datasource");
    }

    private static String firstText(JsonNode node, String... fields) {
      for (String field : fields) {
        if (node.path(field).isTextual()) {
          return node.path(field).asText();
        }
      }
      return null;
    }
  }

  // --- loading ---

  /**
   * The repository root: {@code maven.multiModuleProjectDirectory} when set, else the nearest
   * directory above the working directory (a module's, under Surefire) that has {@code mvnw} and
   * {@code dashboards/}.
   */
  public static Path repoRoot() {
    String property = System.getProperty("maven.multiModuleProjectDirectory");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    Path start = Path.of("").toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("mvnw")) && Files.isDirectory(dir.resolve("dashboards"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no repository root (mvnw and dashboards/) above " + start
        + "; set -Dmaven.multiModuleProjectDirectory=PATH");
  }

  public static Path dashboardsDir() {
    return repoRoot().resolve("dashboards");
  }

  /** Every {@code dashboards/*.json}, by file name. */
  public static List<Dashboard> all() {
    return load(dashboardsDir());
  }

  public static List<Dashboard> load(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      List<Dashboard> dashboards = files
          .filter(file -> file.getFileName().toString().endsWith(".json"))
          .sorted()
          .map(Dashboards::read)
          .toList();
      if (dashboards.isEmpty()) {
        throw new IllegalStateException("no dashboards (*.json) in " + dir);
      }
      return dashboards;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  public static Dashboard read(Path file) {
    JsonNode json;
    try {
      json = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dashboard " + file + ": " + e.getMessage(), e);
    }
    return new Dashboard(file, json.path("uid").asText(""), json.path("title").asText(""), json);
  }

  /** Every query of every dashboard. */
  public static List<Query> queries() {
    return all().stream().flatMap(dashboard -> dashboard.queries().stream()).toList();
  }

  // --- macro expansion ---

  private static final Pattern MACRO_CALL = Pattern.compile("\\$__(\\w+)\\(");
  private static final Pattern LEFTOVER_MACRO = Pattern.compile("\\$__\\w+");
  private static final Pattern QUOTED_VARIABLE = Pattern.compile("'\\$(?:\\{(\\w+)}|(\\w+))'");
  private static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{(\\w+)}|(\\w+))");
  private static final Pattern DURATION = Pattern.compile("'?\\s*(\\d+)(ms|s|m|h|d|w)\\s*'?");

  /** {@link #expandSql(String, Instant, Instant, Duration, Map)} with {@link #defaultInterval}. */
  public static String expandSql(String sql, Instant from, Instant to, Map<String, String> vars) {
    return expandSql(sql, from, to, defaultInterval(from, to), vars);
  }

  /**
   * Expands the macros of Grafana's PostgreSQL data source and the dashboard's variables:
   * {@code $__timeFilter(c)} to {@code c BETWEEN '<from>'::timestamptz AND '<to>'::timestamptz},
   * {@code $__timeFrom()} and {@code $__timeTo()} to timestamptz literals,
   * {@code $__timeGroupAlias(c, i)} to {@code to_timestamp(floor(extract(epoch from c)/<s>)*<s>) AS "time"}
   * ({@code $__timeGroup} the same without the alias; a third, fill argument is Grafana's business and
   * ignored), {@code $__interval} to {@code interval} as Grafana writes it ({@code 10s}, {@code 1m}),
   * {@code $__interval_ms} to its milliseconds, {@code '$x'} to {@code vars[x]} as a quoted SQL string,
   * {@code $x} and {@code ${x}} to {@code vars[x]} as it is.
   *
   * @throws IllegalArgumentException for a macro it does not know or a variable missing from {@code vars}
   */
  public static String expandSql(String sql, Instant from, Instant to, Duration interval, Map<String, String> vars) {
    Objects.requireNonNull(sql, "sql");
    String fromLiteral = "'" + ISO.format(from) + "'::timestamptz";
    String toLiteral = "'" + ISO.format(to) + "'::timestamptz";
    StringBuilder out = new StringBuilder();
    int position = 0;
    Matcher call = MACRO_CALL.matcher(sql);
    while (call.find(position)) {
      int open = call.end() - 1;
      int close = closingParenthesis(sql, open);
      List<String> args = splitArguments(sql.substring(open + 1, close));
      String name = call.group(1);
      String expansion = switch (name) {
        case "timeFilter" -> {
          requireArguments(name, args, 1, 1);
          yield args.get(0) + " BETWEEN " + fromLiteral + " AND " + toLiteral;
        }
        case "timeFrom" -> {
          requireArguments(name, args, 0, 0);
          yield fromLiteral;
        }
        case "timeTo" -> {
          requireArguments(name, args, 0, 0);
          yield toLiteral;
        }
        case "timeGroup", "timeGroupAlias" -> {
          requireArguments(name, args, 2, 3);
          long seconds = parseDuration(args.get(1).replace("$__interval", grafanaDuration(interval))).toSeconds();
          if (seconds < 1) {
            throw new IllegalArgumentException("$__" + name + " needs an interval of a second or more: " + args.get(1));
          }
          String bucket = "to_timestamp(floor(extract(epoch from " + args.get(0) + ")/" + seconds + ")*" + seconds + ")";
          yield name.equals("timeGroupAlias") ? bucket + " AS \"time\"" : bucket;
        }
        default -> throw new IllegalArgumentException("unsupported macro $__" + name + "(...) in: " + sql);
      };
      out.append(sql, position, call.start()).append(expansion);
      position = close + 1;
    }
    out.append(sql.substring(position));
    String expanded = out.toString()
        .replace("$__interval_ms", Long.toString(interval.toMillis()))
        .replace("$__interval", grafanaDuration(interval));
    requireNoMacro(expanded, sql);
    expanded = replaceVariables(QUOTED_VARIABLE, expanded, vars, value -> "'" + value.replace("'", "''") + "'", sql);
    return replaceVariables(VARIABLE, expanded, vars, value -> value, sql);
  }

  /** {@link #expandPromQl(String, Duration, Duration, Map)} with {@code $__interval} = {@code rateInterval}. */
  public static String expandPromQl(String expr, Duration rateInterval, Map<String, String> vars) {
    return expandPromQl(expr, rateInterval, rateInterval, vars);
  }

  /**
   * Expands {@code $__rate_interval}, {@code $__interval} (as Prometheus durations, e.g. {@code 1m})
   * and the dashboard's variables {@code $x} / {@code ${x}} from {@code vars}.
   *
   * @throws IllegalArgumentException for a macro it does not know or a variable missing from {@code vars}
   */
  public static String expandPromQl(String expr, Duration rateInterval, Duration interval, Map<String, String> vars) {
    Objects.requireNonNull(expr, "expr");
    String expanded = expr
        .replace("$__rate_interval", grafanaDuration(rateInterval))
        .replace("${__rate_interval}", grafanaDuration(rateInterval))
        .replace("$__interval", grafanaDuration(interval))
        .replace("${__interval}", grafanaDuration(interval));
    requireNoMacro(expanded, expr);
    return replaceVariables(VARIABLE, expanded, vars, value -> value, expr);
  }

  /**
   * The interval Grafana would pick for a panel about 1000 points wide: the range / 1000, in
   * whole seconds, and no less than a container-health window (10 s).
   */
  public static Duration defaultInterval(Instant from, Instant to) {
    long seconds = Duration.between(from, to).toSeconds() / 1000;
    return Duration.ofSeconds(Math.max(10, seconds));
  }

  /** A duration as Grafana and Prometheus write it: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 2h}, {@code 1d}. */
  public static String grafanaDuration(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("not a positive duration: " + duration);
    }
    long millis = duration.toMillis();
    if (millis % 1000 != 0) {
      return millis + "ms";
    }
    long seconds = millis / 1000;
    if (seconds % 86_400 == 0) {
      return seconds / 86_400 + "d";
    }
    if (seconds % 3600 == 0) {
      return seconds / 3600 + "h";
    }
    if (seconds % 60 == 0) {
      return seconds / 60 + "m";
    }
    return seconds + "s";
  }

  /** Parses {@code 10s}, {@code '5m'}, {@code 1h}, {@code 1d}, {@code 500ms}, {@code 1w}. */
  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a Grafana interval: " + text);
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      case "w" -> Duration.ofDays(7 * n);
      default -> throw new IllegalArgumentException("not a Grafana interval: " + text);
    };
  }

  // --- PromQL metric names ---

  private static final Pattern PROMQL_STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
  private static final Pattern PROMQL_LABEL_LIST =
      Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern PROMQL_IDENTIFIER = Pattern.compile("(?<![\\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");
  private static final Set<String> PROMQL_KEYWORDS = Set.of(
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
      "quantile", "limitk", "limit_ratio", "and", "or", "unless", "bool", "offset", "by", "without", "on",
      "ignoring", "group_left", "group_right", "inf", "nan", "Inf", "NaN", "start", "end");

  /**
   * The metric names a PromQL expression selects, in order of appearance: identifiers that are
   * not functions, operators or keywords, outside label matchers, strings, ranges and label lists.
   */
  public static Set<String> promQlMetricNames(String expr) {
    String stripped = PROMQL_STRING.matcher(expr).replaceAll("\"\"");
    stripped = stripped.replaceAll("\\{[^}]*}", " ").replaceAll("\\[[^]]*]", " ");
    stripped = PROMQL_LABEL_LIST.matcher(stripped).replaceAll(" ");
    Set<String> names = new LinkedHashSet<>();
    Matcher m = PROMQL_IDENTIFIER.matcher(stripped);
    while (m.find()) {
      String name = m.group(1);
      boolean function = m.group(2) != null && !PROMQL_KEYWORDS.contains(name);
      if (!function && !PROMQL_KEYWORDS.contains(name)) {
        names.add(name);
      }
    }
    return names;
  }

  // --- helpers ---

  private static int closingParenthesis(String text, int open) {
    int depth = 0;
    for (int i = open; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return i;
      }
    }
    throw new IllegalArgumentException("unbalanced parenthesis after position " + open + " in: " + text);
  }

  private static List<String> splitArguments(String text) {
    List<String> args = new ArrayList<>();
    if (text.isBlank()) {
      return args;
    }
    int depth = 0;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        args.add(text.substring(start, i).trim());
        start = i + 1;
      }
    }
    args.add(text.substring(start).trim());
    return args;
  }

  private static void requireArguments(String name, List<String> args, int min, int max) {
    if (args.size() < min || args.size() > max) {
      throw new IllegalArgumentException("$__" + name + " takes " + (min == max ? min : min + " to " + max)
          + " arguments, got " + args);
    }
  }

  private static void requireNoMacro(String expanded, String original) {
    Matcher leftover = LEFTOVER_MACRO.matcher(expanded);
    if (leftover.find()) {
      throw new IllegalArgumentException("unsupported macro " + leftover.group() + " in: " + original);
    }
  }

  private static String replaceVariables(Pattern pattern, String text, Map<String, String> vars,
                                         java.util.function.UnaryOperator<String> format, String original) {
    Matcher m = pattern.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      String value = vars.get(name);
      if (value == null) {
        throw new IllegalArgumentException("no value for variable $" + name + " (have " + vars.keySet() + ") in: "
            + original);
      }
      m.appendReplacement(out, Matcher.quoteReplacement(format.apply(value)));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The variables a query uses ({@code $x}, {@code ${x}}), macros excluded. */
  public static Set<String> variablesUsed(String text) {
    Set<String> names = new LinkedHashSet<>();
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      if (!name.startsWith("__")) {
        names.add(name);
      }
    }
    return names;
  }

  /** The dashboards' datasource-variable names and their default uids, e.g. {@code prometheus -> stallwatch-prometheus}. */
  public static Map<String, String> datasourceVariables(Dashboard dashboard) {
    Map<String, String> variables = new java.util.LinkedHashMap<>();
    for (JsonNode variable : dashboard.variables()) {
      if ("datasource".equals(variable.path("type").asText())) {
        variables.put(variable.path("name").asText(), variable.path("current").path("value").asText());
      }
    }
    return variables;
  }
}
