package dev.stallwatch.ingest.upstream;

import java.util.Map;
import java.util.TreeMap;

/**
 * Reads samples of the Prometheus text exposition format (version 0.0.4):
 * {@code name{label="value",...} value [timestamp]}. Comment and blank lines carry no sample.
 */
final class PrometheusTextParser {
  /** One sample; labels sorted by name, so equal series have equal label maps. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private final String line;
  private int pos;

  private PrometheusTextParser(String line) {
    this.line = line;
  }

  /** The sample on {@code line}, or null for a comment or blank line. */
  static Sample parse(String line) throws MalformedLineException {
    String trimmed = line.strip();
    if (trimmed.isEmpty() || trimmed.startsWith("#")) {
      return null;
    }
    return new PrometheusTextParser(trimmed).sample();
  }

  private Sample sample() throws MalformedLineException {
    String name = name(true);
    Map<String, String> labels = new TreeMap<>();
    if (pos < line.length() && line.charAt(pos) == '{') {
      pos++;
      labels(labels);
    }
    if (!skipBlanks()) {
      throw new MalformedLineException("expected a value after " + name);
    }
    double value = number(token());
    if (skipBlanks()) {
      String timestamp = token();
      if (!timestamp.matches("-?\\d+")) {
        throw new MalformedLineException("bad timestamp: " + timestamp);
      }
    }
    if (pos != line.length()) {
      throw new MalformedLineException("unexpected text after the sample");
    }
    return new Sample(name, labels, value);
  }

  private void labels(Map<String, String> labels) throws MalformedLineException {
    while (true) {
      skipBlanks();
      if (peek() == '}') {
        pos++;
        return;
      }
      String label = name(false);
      skipBlanks();
      expect('=');
      skipBlanks();
      expect('"');
      StringBuilder value = new StringBuilder();
      while (true) {
        if (pos >= line.length()) {
          throw new MalformedLineException("unterminated value of label " + label);
        }
        char c = line.charAt(pos++);
        if (c == '"') {
          break;
        }
        if (c == '\\' && pos < line.length()) {
          char escaped = line.charAt(pos++);
          value.append(escaped == 'n' ? '\n' : escaped);
        } else {
          value.append(c);
        }
      }
      if (labels.put(label, value.toString()) != null) {
        throw new MalformedLineException("label " + label + " given twice");
      }
      skipBlanks();
      char next = peek();
      if (next == ',') {
        pos++;
      } else if (next != '}') {
        throw new MalformedLineException("expected ',' or '}' after label " + label);
      }
    }
  }

  private String name(boolean metric) throws MalformedLineException {
    int start = pos;
    while (pos < line.length()) {
      char c = line.charAt(pos);
      boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
      if (!(letter || (pos > start && c >= '0' && c <= '9'))) {
        break;
      }
      pos++;
    }
    if (pos == start) {
      throw new MalformedLineException("expected a " + (metric ? "metric" : "label") + " name at column " + (pos + 1));
    }
    return line.substring(start, pos);
  }

  private static double number(String token) throws MalformedLineException {
    switch (token) {
      case "+Inf", "Inf" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-Inf" -> {
        return Double.NEGATIVE_INFINITY;
      }
      case "NaN" -> {
        return Double.NaN;
      }
      default -> {
        try {
          return Double.parseDouble(token);
        } catch (NumberFormatException e) {
          throw new MalformedLineException("not a number: " + token);
        }
      }
    }
  }

  private String token() {
    int start = pos;
    while (pos < line.length() && line.charAt(pos) != ' ' && line.charAt(pos) != '\t') {
      pos++;
    }
    return line.substring(start, pos);
  }

  /** Skips spaces and tabs; returns whether there is text after them. */
  private boolean skipBlanks() {
    while (pos < line.length() && (line.charAt(pos) == ' ' || line.charAt(pos) == '\t')) {
      pos++;
    }
    return pos < line.length();
  }

  private char peek() throws MalformedLineException {
    if (pos >= line.length()) {
      throw new MalformedLineException("unexpected end of line");
    }
    return line.charAt(pos);
  }

  private void expect(char c) throws MalformedLineException {
    if (peek() != c) {
      throw new MalformedLineException("expected '" + c + "' at column " + (pos + 1));
    }
    pos++;
  }
}
