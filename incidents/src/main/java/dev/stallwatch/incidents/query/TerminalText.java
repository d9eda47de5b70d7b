package dev.stallwatch.incidents.query;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * Stored text made safe for a terminal: control characters (ESC, CR, LF, BEL, DEL, C1, ...),
 * line separators and bidirectional overrides become visible escapes ({@code \x1b}, {@code \r},
 * {@code \u202e}), so a pod name cannot draw fake table lines, retitle the terminal or reorder
 * what is shown.
 */
public final class TerminalText {
  private TerminalText() {}

  public static String escape(String text) {
    if (text == null) {
      return null;
    }
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      String replacement = replacement(c);
      if (replacement != null && out == null) {
        out = new StringBuilder(text.length() + 8).append(text, 0, i);
      }
      if (out != null) {
        out.append(replacement != null ? replacement : String.valueOf(c));
      }
    }
    return out == null ? text : out.toString();
  }

  /** A copy of the alert with every string (nested ones included) escaped. */
  public static DeadlockAlert escape(DeadlockAlert alert) {
    if (alert == null) {
      return null;
    }
    DeadlockAlert copy = DeadlockAlert.newBuilder(alert).build(); // deep, with the class's own conversions
    escapeStrings(copy);
    return copy;
  }

  private static void escapeStrings(SpecificRecord record) {
    for (Schema.Field field : record.getSchema().getFields()) {
      Object value = record.get(field.pos());
      if (value instanceof CharSequence text) {
        record.put(field.pos(), escape(text.toString()));
      } else if (value instanceof SpecificRecord nested) {
        escapeStrings(nested);
      } else if (value instanceof List<?> list) {
        for (Object element : list) {
          if (element instanceof SpecificRecord nested) {
            escapeStrings(nested);
          }
        }
      }
    }
  }

  private static String replacement(char c) {
    return switch (c) {
      case '\n' -> "\\n";
      case '\r' -> "\\r";
      case '\t' -> "\\t";
      default -> Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
          || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
          ? (c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c))
          : null;
    };
  }
}
