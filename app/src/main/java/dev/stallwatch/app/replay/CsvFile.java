package dev.stallwatch.app.replay;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The small CSV dialect of replay bundles: a header row naming the columns (in any order; extra
 * columns are ignored), comma-separated values, optional double quotes, blank lines and lines
 * starting with {@code #} skipped. Every problem is reported with the file and line.
 */
final class CsvFile {
  private final Path file;
  private final List<String> required;

  CsvFile(Path file, List<String> required) {
    this.file = file;
    this.required = required;
  }

  /** One data row; accessors parse and report errors at this row's line. */
  final class Row {
    private final long line;
    private final Map<String, String> values;

    private Row(long line, Map<String, String> values) {
      this.line = line;
      this.values = values;
    }

    long line() {
      return line;
    }

    boolean has(String column) {
      return values.containsKey(column);
    }

    String text(String column) {
      return values.getOrDefault(column, "");
    }

    String nonEmpty(String column) {
      String v = text(column);
      if (v.isEmpty()) {
        throw errorAt(line, column + " is empty");
      }
      return v;
    }

    long longValue(String column) {
      String v = nonEmpty(column);
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw errorAt(line, column + " is not a whole number: '" + v + "'");
      }
    }

    long nonNegativeLong(String column) {
      long v = longValue(column);
      if (v < 0) {
        throw errorAt(line, column + " is negative: " + v);
      }
      return v;
    }

    double nonNegativeDouble(String column) {
      String v = nonEmpty(column);
      double d;
      try {
        d = Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw errorAt(line, column + " is not a number: '" + v + "'");
      }
      if (!(d >= 0) || Double.isInfinite(d)) {
        throw errorAt(line, column + " must be a finite number >= 0, got " + v);
      }
      return d;
    }

    BundleException error(String problem) {
      return errorAt(line, problem);
    }
  }

  BundleException errorAt(long line, String problem) {
    return new BundleException(file, line, problem);
  }

  void forEachRow(Consumer<Row> action) {
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String text;
      long lineNo = 0;
      List<String> header = null;
      while ((text = reader.readLine()) != null) {
        lineNo++;
        if (lineNo == 1 && text.startsWith("\uFEFF")) {
          text = text.substring(1);
        }
        if (text.isBlank() || text.startsWith("#")) {
          continue;
        }
        List<String> cells = split(text, lineNo);
        if (header == null) {
          header = readHeader(cells, lineNo);
          continue;
        }
        if (cells.size() != header.size()) {
          throw errorAt(lineNo, "expected " + header.size() + " columns, got " + cells.size());
        }
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < header.size(); i++) {
          values.put(header.get(i), cells.get(i));
        }
        action.accept(new Row(lineNo, values));
      }
      if (header == null) {
        throw errorAt(0, "empty file: expected the header " + String.join(",", required));
      }
    } catch (NoSuchFileException e) {
      throw new BundleException(file, "missing file");
    } catch (IOException e) {
      throw new BundleException(file, "cannot read: " + e.getMessage(), e);
    }
  }

  private List<String> readHeader(List<String> cells, long lineNo) {
    List<String> header = new ArrayList<>();
    for (String cell : cells) {
      header.add(cell.toLowerCase(Locale.ROOT));
    }
    List<String> missing = new ArrayList<>();
    for (String column : required) {
      if (!header.contains(column)) {
        missing.add(column);
      }
    }
    if (!missing.isEmpty()) {
      throw errorAt(lineNo, "bad header '" + String.join(",", cells) + "': expected "
          + String.join(",", required) + " (missing " + String.join(",", missing) + ")");
    }
    return header;
  }

  /** Splits one line on commas, honouring double quotes ("" inside quotes is a quote). */
  private List<String> split(String line, long lineNo) {
    List<String> cells = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cell.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          cell.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        cells.add(cell.toString().trim());
        cell.setLength(0);
      } else {
        cell.append(c);
      }
    }
    if (quoted) {
      throw errorAt(lineNo, "unterminated quote");
    }
    cells.add(cell.toString().trim());
    return cells;
  }
}
