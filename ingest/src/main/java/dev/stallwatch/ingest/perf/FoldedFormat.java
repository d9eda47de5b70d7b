package dev.stallwatch.ingest.perf;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The folded stack format, {@code comm;root;...;leaf count}, and the rules that name its frames.
 *
 * <p>This is the only place in the project that knows the format. The rules are those of
 * FlameGraph's {@code stackcollapse-perf.pl} with its default options, quirks included, so that
 * our output can be diffed against the script's and read by every flame graph tool:
 *
 * <ul>
 *   <li>the process frame is the comm with spaces replaced by {@code _};
 *   <li>a trailing {@code +0x<hex>} offset is dropped; a symbol starting with {@code (} is no frame;
 *   <li>{@code a->b} (perf's inline chain) becomes frames {@code a}, {@code b_[i]};
 *   <li>{@code [unknown]} becomes {@code [<basename of the dso>]}, or stays {@code [unknown]};
 *   <li>{@code ;} becomes {@code :}; everything from the first {@code (} on is dropped unless the
 *       name looks like a Go method ({@code pkg.(*T).m}) or the paren opens {@code (anonymous
 *       namespace)}; quotes are removed;
 *   <li>in processes whose name starts with {@code java}, a leading {@code L} of a name with a
 *       {@code /} is dropped ({@code Ljava/lang/String;::hashCode} → {@code java/lang/String:::hashCode}).
 * </ul>
 *
 * <p>The rules only look at ASCII characters, so they give the same result on text decoded as
 * UTF-8 (the pipeline) and on bytes read as ISO-8859-1 (the byte-exact folder).
 */
public final class FoldedFormat {
  public static final char FRAME_SEPARATOR = ';';
  public static final char COUNT_SEPARATOR = ' ';

  private static final String UNKNOWN = "[unknown]";
  private static final String INLINE_SEPARATOR = "->";
  private static final String INLINED_SUFFIX = "_[i]";
  private static final String KERNEL_SUFFIX = "_[k]";
  private static final String JIT_SUFFIX = "_[j]";
  private static final String ANONYMOUS_NAMESPACE = "anonymous namespace)";

  private FoldedFormat() {}

  /** The first frame of a folded stack: the comm, spaces replaced by {@code _}. */
  public static String processFrame(String comm) {
    return comm.replace(' ', '_');
  }

  /** Whether the Java name tidy applies to the frames of this process. */
  public static boolean isJavaProcess(String processFrame) {
    return processFrame.startsWith("java");
  }

  /** {@link #frameNames(String, String, boolean, FoldOptions)} with the default options. */
  public static List<String> frameNames(String symbol, String dso, boolean javaProcess) {
    return frameNames(symbol, dso, javaProcess, FoldOptions.DEFAULTS);
  }

  /**
   * Names the folded frames of one {@code perf script} frame line.
   *
   * @param symbol the symbol as perf printed it, maybe with a {@code +0x} offset or a {@code ->} chain
   * @param dso the text inside the line's last parentheses
   * @param javaProcess {@link #isJavaProcess} of the sample's process frame
   * @return zero or more names in root-first order (an inline chain yields several)
   */
  public static List<String> frameNames(String symbol, String dso, boolean javaProcess, FoldOptions options) {
    String func = stripOffset(symbol);
    if (func.startsWith("(")) {
      return List.of(); // perf printed a process name where the symbol goes
    }
    List<String> parts = splitInlineChain(func);
    List<String> names = new ArrayList<>(parts.size());
    for (String part : parts) {
      String name = part;
      if (name.equals(UNKNOWN)) {
        name = dso.equals(UNKNOWN) ? UNKNOWN : "[" + dso.substring(dso.lastIndexOf('/') + 1) + "]";
      }
      name = tidyGeneric(name);
      if (javaProcess && name.startsWith("L") && name.indexOf('/') >= 0) {
        name = name.substring(1);
      }
      if (!names.isEmpty()) {
        if (!name.contains(INLINED_SUFFIX)) {
          name += INLINED_SUFFIX;
        }
      } else if (options.annotateKernel() && isKernelDso(dso)) {
        name += KERNEL_SUFFIX;
      } else if (options.annotateJit() && isJitDso(dso) && !name.contains(JIT_SUFFIX)) {
        name += JIT_SUFFIX;
      }
      names.add(name);
    }
    return names;
  }

  /** The folded stack: the process frame, then the frames root first, joined by {@code ;}. */
  public static String stack(String processFrame, List<String> frames) {
    StringBuilder sb = new StringBuilder(processFrame.length() + frames.size() * 24);
    sb.append(processFrame);
    for (String frame : frames) {
      sb.append(FRAME_SEPARATOR).append(frame);
    }
    return sb.toString();
  }

  /** One line of folded output, without the line feed. */
  public static String line(String stack, long count) {
    return stack + COUNT_SEPARATOR + count;
  }

  /** Writes one line of folded output with its line feed. */
  public static void writeLine(Writer out, String stack, long count) throws IOException {
    out.write(stack);
    out.write(COUNT_SEPARATOR);
    out.write(Long.toString(count));
    out.write('\n');
  }

  /** Writes one line of folded output with its line feed; {@code stack} is the folded stack's bytes. */
  public static void writeLine(OutputStream out, byte[] stack, long count) throws IOException {
    out.write(stack);
    out.write(COUNT_SEPARATOR);
    out.write(Long.toString(count).getBytes(StandardCharsets.US_ASCII));
    out.write('\n');
  }

  /**
   * Parses one folded line back; empty when it is not {@code stack count} with a stack and a
   * count that fits a {@code long}. The stack may contain spaces: the count follows the last one.
   */
  public static Optional<FoldedLine> parseLine(String line) {
    String text = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    int space = text.lastIndexOf(COUNT_SEPARATOR);
    if (space <= 0 || space == text.length() - 1) {
      return Optional.empty();
    }
    long count = 0;
    for (int i = space + 1; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9' || count > (Long.MAX_VALUE - (c - '0')) / 10) {
        return Optional.empty();
      }
      count = count * 10 + (c - '0');
    }
    return Optional.of(new FoldedLine(text.substring(0, space), count));
  }

  /**
   * A parsed folded line.
   *
   * @param stack {@code comm;root;...;leaf}
   * @param count the summed weight (sample periods, as stackcollapse-perf.pl sums them)
   */
  public record FoldedLine(String stack, long count) {
    /** The stack's frames, the process frame first. */
    public List<String> frames() {
      return Arrays.asList(stack.split(String.valueOf(FRAME_SEPARATOR), -1));
    }
  }

  /** Drops a trailing {@code +0x<lowercase hex>} offset. */
  static String stripOffset(String symbol) {
    int hexStart = symbol.length();
    while (hexStart > 0 && isLowerHex(symbol.charAt(hexStart - 1))) {
      hexStart--;
    }
    if (hexStart < symbol.length() && symbol.startsWith("+0x", hexStart - 3)) {
      return symbol.substring(0, hexStart - 3);
    }
    return symbol;
  }

  /** Splits on {@code ->} like Perl's split: trailing empty parts are dropped, leading ones kept. */
  static List<String> splitInlineChain(String func) {
    if (!func.contains(INLINE_SEPARATOR)) {
      return func.isEmpty() ? List.of() : List.of(func);
    }
    List<String> parts = new ArrayList<>(Arrays.asList(func.split(INLINE_SEPARATOR, -1)));
    while (!parts.isEmpty() && parts.get(parts.size() - 1).isEmpty()) {
      parts.remove(parts.size() - 1);
    }
    return parts;
  }

  /** The script's generic tidy: {@code ;} → {@code :}, argument lists cut, quotes removed. */
  static String tidyGeneric(String func) {
    String name = func.replace(';', ':');
    if (!looksLikeGoMethod(name)) {
      int from = 0;
      int paren;
      while ((paren = name.indexOf('(', from)) >= 0) {
        if (!name.startsWith(ANONYMOUS_NAMESPACE, paren + 1)) {
          name = name.substring(0, paren);
          break;
        }
        from = paren + 1;
      }
    }
    if (name.indexOf('"') >= 0 || name.indexOf('\'') >= 0) {
      name = name.replace("\"", "").replace("'", "");
    }
    return name;
  }

  /** A {@code .(} followed later by a {@code ).}, as in {@code net/http.(*Client).Do}. */
  private static boolean looksLikeGoMethod(String name) {
    int open = name.indexOf(".(");
    return open >= 0 && name.lastIndexOf(").") >= open + 2;
  }

  private static boolean isKernelDso(String dso) {
    return (dso.startsWith("[") || dso.endsWith("vmlinux")) && !dso.contains("unknown");
  }

  /** {@code /tmp/perf-<digits>.map} anywhere in the dso. */
  private static boolean isJitDso(String dso) {
    int from = 0;
    int at;
    while ((at = dso.indexOf("/tmp/perf-", from)) >= 0) {
      int i = at + "/tmp/perf-".length();
      int digits = i;
      while (i < dso.length() && dso.charAt(i) >= '0' && dso.charAt(i) <= '9') {
        i++;
      }
      if (i > digits && dso.startsWith(".map", i)) {
        return true;
      }
      from = at + 1;
    }
    return false;
  }

  private static boolean isLowerHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
}
