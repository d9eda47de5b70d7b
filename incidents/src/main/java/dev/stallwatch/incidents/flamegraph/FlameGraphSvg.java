package dev.stallwatch.incidents.flamegraph;

import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.store.Evidence;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Renders folded stacks as a flame graph: a standalone SVG document, root at the bottom, one
 * rectangle per frame as wide as its share of the weight, children of a frame merged by name and
 * laid out in name order (so the picture depends only on the stacks, not their order). Each
 * frame has its name as text where it fits and a {@code <title>} tooltip with its weight and share.
 * Colours come from a checksum of the frame name: the same frame has the same colour in every graph.
 */
public final class FlameGraphSvg {
  private static final int WIDTH = 1200;
  private static final int FRAME_HEIGHT = 18;
  private static final int TOP = 56;
  private static final int BOTTOM = 12;
  private static final int SIDE = 10;
  private static final double FONT_SIZE = 12;
  /** Monospace glyphs are 0.6 em wide: text is cut to what fits the rectangle. */
  private static final double CHAR_WIDTH = 0.6 * FONT_SIZE;
  /** Frames narrower than this are not drawn (nor their children): they could not be seen. */
  private static final double MIN_FRAME_WIDTH = 0.1;
  private static final String ROOT = "all";

  /**
   * One folded stack.
   *
   * @param folded {@code comm;root;...;leaf}
   * @param weight samples, or CPU nanoseconds; only ratios matter
   */
  public record Stack(String folded, long weight) {}

  private FlameGraphSvg() {}

  /** The flame graph of an incident's evidence (its top stacks after the drain). */
  public static String forIncident(Incident incident) {
    List<Stack> stacks = new ArrayList<>();
    double share = 0;
    for (Evidence.Stack s : incident.evidence().topStacks()) {
      stacks.add(new Stack(s.folded(), s.weight()));
      share += s.share();
    }
    String subtitle = String.format(Locale.ROOT,
        "container %s on %s: the top %d stacks after the drain, %.1f%% of its CPU samples", incident.containerId(),
        incident.host(), stacks.size(), 100 * share);
    return render("Flame graph of incident " + incident.incidentId(), subtitle, stacks);
  }

  public static String render(String title, String subtitle, List<Stack> stacks) {
    Frame root = new Frame(ROOT);
    for (Stack stack : stacks) {
      if (stack.weight() <= 0 || stack.folded().isEmpty()) {
        continue;
      }
      root.weight += stack.weight();
      Frame frame = root;
      for (String name : stack.folded().split(";", -1)) {
        frame = frame.children.computeIfAbsent(name, Frame::new);
        frame.weight += stack.weight();
      }
    }
    int depth = root.depth();
    int height = TOP + depth * FRAME_HEIGHT + BOTTOM;
    StringBuilder svg = new StringBuilder(4096);
    svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
    svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"").append(WIDTH)
        .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
        .append("\" font-family=\"monospace\" font-size=\"").append(number(FONT_SIZE)).append("\">\n");
    svg.append("<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#f8f8f4\"/>\n");
    svg.append("<text class=\"title\" x=\"").append(WIDTH / 2).append("\" y=\"22\" text-anchor=\"middle\" "
        + "font-size=\"16\">").append(escape(title)).append("</text>\n");
    svg.append("<text class=\"subtitle\" x=\"").append(WIDTH / 2).append("\" y=\"42\" text-anchor=\"middle\" "
        + "fill=\"#555\">").append(escape(subtitle)).append("</text>\n");
    if (root.weight == 0) {
      svg.append("<text x=\"").append(WIDTH / 2).append("\" y=\"").append(TOP + 14)
          .append("\" text-anchor=\"middle\">no stacks</text>\n");
    } else {
      double scale = (WIDTH - 2.0 * SIDE) / root.weight;
      draw(svg, root, 0, SIDE, scale, root.weight, height);
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static void draw(StringBuilder svg, Frame frame, int level, double x, double scale, long total,
                           int height) {
    double width = frame.weight * scale;
    if (width < MIN_FRAME_WIDTH) {
      return;
    }
    double y = height - BOTTOM - (level + 1) * FRAME_HEIGHT;
    String share = String.format(Locale.ROOT, "%.2f%%", 100.0 * frame.weight / total);
    svg.append("<g class=\"frame\"><title>").append(escape(frame.name)).append(" (").append(frame.weight)
        .append(", ").append(share).append(")</title>");
    svg.append("<rect x=\"").append(number(x)).append("\" y=\"").append(number(y)).append("\" width=\"")
        .append(number(width)).append("\" height=\"").append(FRAME_HEIGHT - 1).append("\" rx=\"2\" fill=\"")
        .append(level == 0 ? "rgb(200,200,200)" : colour(frame.name)).append("\"/>");
    String label = fit(frame.name, width);
    if (!label.isEmpty()) {
      svg.append("<text x=\"").append(number(x + 3)).append("\" y=\"").append(number(y + FRAME_HEIGHT - 5))
          .append("\">").append(escape(label)).append("</text>");
    }
    svg.append("</g>\n");
    double childX = x;
    for (Frame child : frame.children.values()) {
      draw(svg, child, level + 1, childX, scale, total, height);
      childX += child.weight * scale;
    }
  }

  /** The name, or its start and "..", in the width; empty when not even 3 characters fit. */
  static String fit(String name, double width) {
    int chars = (int) ((width - 6) / CHAR_WIDTH);
    if (chars >= name.length()) {
      return name;
    }
    return chars < 3 ? "" : name.substring(0, chars - 2) + "..";
  }

  /**
   * Warm colours (red to yellow) for code, and their own hues for frames the folder marked as
   * kernel ({@code _[k]}), JIT ({@code _[j]}) and inlined ({@code _[i]}).
   */
  static String colour(String name) {
    CRC32 crc = new CRC32();
    crc.update(name.getBytes(StandardCharsets.UTF_8));
    long h = crc.getValue();
    double a = (h & 0xff) / 255.0;
    double b = ((h >> 8) & 0xff) / 255.0;
    double c = ((h >> 16) & 0xff) / 255.0;
    int hue;
    if (name.endsWith("_[k]")) {
      hue = 25 + (int) (10 * a);
    } else if (name.endsWith("_[j]")) {
      hue = 95 + (int) (30 * a);
    } else if (name.endsWith("_[i]")) {
      hue = 180 + (int) (20 * a);
    } else {
      hue = (int) (55 * a);
    }
    int saturation = 70 + (int) (20 * b);
    int lightness = 55 + (int) (12 * c);
    return "hsl(" + hue + "," + saturation + "%," + lightness + "%)";
  }

  /** XML text: markup characters escaped; characters XML 1.0 cannot carry replaced. */
  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    text.codePoints().forEach(cp -> {
      switch (cp) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&apos;");
        default -> {
          boolean allowed = cp == '\t' || cp == '\n' || cp == '\r' || (cp >= 0x20 && cp <= 0xD7FF)
              || (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
          out.appendCodePoint(allowed ? cp : 0xFFFD);
        }
      }
    });
    return out.toString();
  }

  private static String number(double value) {
    return String.format(Locale.ROOT, "%.1f", value);
  }

  /** A frame of the merged tree: its weight is the sum of the stacks that pass through it. */
  private static final class Frame {
    final String name;
    final Map<String, Frame> children = new TreeMap<>();
    long weight;

    Frame(String name) {
      this.name = name;
    }

    int depth() {
      int deepest = 0;
      for (Frame child : children.values()) {
        deepest = Math.max(deepest, child.depth());
      }
      return 1 + deepest;
    }
  }
}
