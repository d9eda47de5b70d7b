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
 *
 * <p>Bounded: a file of at most {@value #MAX_FILE_BYTES} bytes, lines of at most
 * {@value #MAX_LINE_CHARS} characters, at most {@value #MAX_ROWS} rows; text cells of at most
 * {@value #MAX_TEXT_CHARS} characters without control characters.
 */
final class CsvFile {
  static final long MAX_FILE_BYTES = 512L * 1024 * 1024;
  static final int MAX_LINE_CHARS = 8192;
  static final int MAX_ROWS = 5_000_000;
  static final int MAX_TEXT_CHARS = 256;

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

    /** The cell as text: at most {@value #MAX_TEXT_CHARS} characters, no control characters. */
    String text(String column) {
      String v = values.getOrDefault(column, "");
      if (v.length() > MAX_TEXT_CHARS) {
        throw errorAt(line, column + " is " + v.length() + " characters long: at most " + MAX_TEXT_CHARS);
      }
      for (int i = 0; i < v.length(); i++) {
        if (Character.isISOControl(v.charAt(i))) {
          throw errorAt(line, column + " contains the control character U+"
              + String.format("%04X", (int) v.charAt(i)));
        }
      }
      return v;
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

    /** A whole number in {@code [0, max]}. */
    long count(String column, long max) {
      long v = nonNegativeLong(column);
      if (v > max) {
        throw errorAt(line, column + " " + v + " is out of range: at most " + max);
      }
      return v;
    }

    /** An epoch-millisecond timestamp inside {@code limits}. */
    long timestamp(String column, BundleLimits limits) {
      long v = longValue(column);
      String problem = limits.checkTimestamp(v);
      if (problem != null) {
        throw errorAt(line, column + " " + v + " " + problem);
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
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw new BundleException(file, size + " bytes: at most " + MAX_FILE_BYTES);
      }
    } catch (NoSuchFileException e) {
      throw new BundleException(file, "missing file");
    } catch (IOException e) {
      throw new BundleException(file, "cannot read: " + e.getMessage(), e);
    }
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String text;
      long lineNo = 0;
      long rows = 0;
      List<String> header = null;
      StringBuilder buffer = new StringBuilder();
      while ((text = readLine(reader, buffer, lineNo + 1)) != null) {
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
        if (++rows > MAX_ROWS) {
          throw errorAt(lineNo, "more than " + MAX_ROWS + " rows");
        }
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < header.size(); i++) {
          values.putIfAbsent(header.get(i), cells.get(i));
        }
        action.accept(new Row(lineNo, values));
      }
      if (header == null) {
        throw errorAt(0, "empty file: expected the header " + String.join(",", required));
      }
    } catch (NoSuchFileException e) {
      throw new BundleException(file, "missing file");
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new BundleException(file, "not UTF-8 text");
    } catch (IOException e) {
      throw new BundleException(file, "cannot read: " + e.getMessage(), e);
    }
  }

  /** One line without its terminator (LF, CRLF or CR), refusing lines over {@value #MAX_LINE_CHARS}. */
  private String readLine(BufferedReader reader, StringBuilder buffer, long lineNo) throws IOException {
    buffer.setLength(0);
    int c;
    while ((c = reader.read()) != -1) {
      if (c == '\n') {
        return buffer.toString();
      }
      if (c == '\r') {
        reader.mark(1);
        if (reader.read() != '\n') {
          reader.reset();
        }
        return buffer.toString();
      }
      if (buffer.length() == MAX_LINE_CHARS) {
        throw errorAt(lineNo, "line longer than " + MAX_LINE_CHARS + " characters");
      }
      buffer.append((char) c);
    }
    return buffer.length() == 0 ? null : buffer.toString();
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
