package dev.stallwatch.ingest.upstream;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An nginx {@code log_format}, compiled into a matcher for the lines it writes.
 *
 * <p>Accepts the format string ({@code $remote_addr - $remote_user [$time_local] ...}) or the
 * whole directive as it stands in {@code nginx.conf}
 * ({@code log_format upstream '$remote_addr ...' '$upstream_addr ...';}).
 *
 * <p>Variables whose values nginx writes in a known shape are matched by that shape, so that the
 * lists nginx writes for retries ({@code 10.0.0.7:8080, 10.0.0.8:8080}, {@code 504, 200}, with
 * {@code " : "} between upstream groups after an internal redirect) stay in one field. Any other
 * variable matches up to the next quote when it is quoted and up to the next space when not: a
 * value with spaces must be quoted in the format, as {@code "$http_user_agent"} is in nginx's own
 * {@code combined}.
 */
public final class NginxLogFormat {
  /** nginx's {@code combined} format followed by the upstream fields Stallwatch reads. */
  public static final String COMBINED_WITH_UPSTREAM = "$remote_addr - $remote_user [$time_local] \"$request\" "
      + "$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" "
      + "$upstream_addr $upstream_status $request_time $upstream_response_time";

  /** Separators of nginx's per-attempt lists: ", " between retries, " : " between upstream groups. */
  static final Pattern LIST_SEPARATOR = Pattern.compile(", | : ");

  private static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{([A-Za-z0-9_]+)}|([A-Za-z0-9_]+))");
  private static final String NUMBER = "\\d+(?:\\.\\d+)?";

  private final String format;
  private final Pattern pattern;
  private final Map<String, Integer> groups;

  private NginxLogFormat(String format, Pattern pattern, Map<String, Integer> groups) {
    this.format = format;
    this.pattern = pattern;
    this.groups = groups;
  }

  /** Compiles a format string or a whole {@code log_format} directive. */
  public static NginxLogFormat of(String formatOrDirective) {
    Objects.requireNonNull(formatOrDirective, "log_format");
    String trimmed = formatOrDirective.strip();
    String format = trimmed.startsWith("log_format") ? formatOfDirective(trimmed) : formatOrDirective;
    if (format.isEmpty()) {
      throw new IllegalArgumentException("log_format is empty");
    }
    StringBuilder regex = new StringBuilder("^");
    Map<String, Integer> groups = new HashMap<>();
    Matcher variable = VARIABLE.matcher(format);
    int literalStart = 0;
    int group = 0;
    while (variable.find()) {
      String literal = format.substring(literalStart, variable.start());
      checkNoStrayDollar(format, literal, literalStart);
      regex.append(literal.isEmpty() ? "" : Pattern.quote(literal));
      String name = variable.group(1) != null ? variable.group(1) : variable.group(2);
      boolean quoted = literal.endsWith("\"");
      regex.append('(').append(valuePattern(name, quoted)).append(')');
      groups.putIfAbsent(name, ++group);
      literalStart = variable.end();
    }
    String tail = format.substring(literalStart);
    checkNoStrayDollar(format, tail, literalStart);
    regex.append(tail.isEmpty() ? "" : Pattern.quote(tail)).append('$');
    return new NginxLogFormat(format, Pattern.compile(regex.toString()), Map.copyOf(groups));
  }

  public String format() {
    return format;
  }

  public boolean has(String variable) {
    return groups.containsKey(variable);
  }

  /** The variables' values in {@code line}, or null when the line is not in this format. */
  public Fields match(String line) {
    Matcher matcher = pattern.matcher(line);
    return matcher.matches() ? new Fields(matcher) : null;
  }

  /** The values of one line. */
  public final class Fields {
    private final Matcher matcher;

    private Fields(Matcher matcher) {
      this.matcher = matcher;
    }

    /** The value of {@code variable} (its first occurrence), or null if the format has no such variable. */
    public String get(String variable) {
      Integer group = groups.get(variable);
      return group == null ? null : matcher.group(group);
    }
  }

  private static String valuePattern(String name, boolean quoted) {
    return switch (name) {
      case "time_local" -> "\\d{2}/[A-Za-z]{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}";
      case "time_iso8601" -> "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:[+-]\\d{2}:\\d{2}|Z)";
      case "msec" -> "\\d+\\.\\d+";
      case "status" -> "\\d{3}";
      case "request_time" -> NUMBER;
      // host:port, [v6]:port, unix:/path, or an upstream group's name when no server was available
      case "upstream_addr" -> list("[A-Za-z0-9_.:\\[\\]/%@+-]+");
      case "upstream_status" -> list("\\d{3}|-");
      case "upstream_response_time", "upstream_connect_time", "upstream_header_time", "upstream_queue_time",
          "upstream_response_length", "upstream_bytes_received", "upstream_bytes_sent" -> list(NUMBER + "|-");
      // possessive: a line that does not match fails fast instead of backtracking through every split
      default -> quoted ? "[^\"]*+" : "\\S*+";
    };
  }

  private static String list(String item) {
    return "(?>(?:" + item + ")(?:(?:, | : )(?:" + item + "))*)";
  }

  private static void checkNoStrayDollar(String format, String literal, int offset) {
    int dollar = literal.indexOf('$');
    if (dollar >= 0) {
      throw new IllegalArgumentException("log_format: '$' at offset " + (offset + dollar)
          + " is not followed by a variable name: " + format);
    }
  }

  /** The format string of {@code log_format NAME [escape=...] 'part' 'part' ...;}: the parts joined. */
  private static String formatOfDirective(String directive) {
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    char quote = 0;
    boolean ended = false;
    for (int i = 0; i < directive.length() && !ended; i++) {
      char c = directive.charAt(i);
      if (quote != 0) {
        if (c == '\\' && i + 1 < directive.length()) {
          word.append(directive.charAt(++i));
        } else if (c == quote) {
          words.add(word.toString());
          word = null;
          quote = 0;
        } else {
          word.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        word = new StringBuilder();
      } else if (c == ';') {
        ended = true;
      } else if (!Character.isWhitespace(c)) {
        int end = i;
        while (end < directive.length() && !Character.isWhitespace(directive.charAt(end))
            && directive.charAt(end) != ';') {
          end++;
        }
        words.add(directive.substring(i, end));
        i = end - 1;
      }
    }
    if (quote != 0) {
      throw new IllegalArgumentException("log_format directive has an unclosed " + quote + ": " + directive);
    }
    // words: "log_format", NAME, optional escape=..., then the parts of the format
    int first = 2;
    if (words.size() > first && words.get(first).startsWith("escape=")) {
      first++;
    }
    if (words.size() <= first) {
      throw new IllegalArgumentException("log_format directive has no format: " + directive);
    }
    return String.join("", words.subList(first, words.size()));
  }
}
