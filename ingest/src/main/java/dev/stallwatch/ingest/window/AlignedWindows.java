package dev.stallwatch.ingest.window;

import java.util.ArrayList;
import java.util.List;

/**
 * Spreads a count measured over any interval onto the aligned windows the detector works in,
 * in proportion to the overlap. A bundle's upstream.csv or cpu.csv may use 5 s, 60 s or
 * misaligned windows; the detector sees every container in aligned 10 s windows.
 */
public final class AlignedWindows {
  /** The part of a count that falls into the aligned window starting at {@code startMs}. */
  public record Share(long startMs, double fraction) {}

  private AlignedWindows() {}

  /** The aligned windows that {@code [startMs, endMs)} overlaps, with the fraction of it in each. */
  public static List<Share> split(long startMs, long endMs, long windowMs) {
    List<Share> shares = new ArrayList<>();
    double length = endMs - startMs;
    for (long w = Math.floorDiv(startMs, windowMs) * windowMs; w < endMs; w += windowMs) {
      long overlap = Math.min(endMs, w + windowMs) - Math.max(startMs, w);
      shares.add(new Share(w, overlap / length));
    }
    return shares;
  }

  /**
   * A whole count split by {@code shares}, each part rounded so that the parts add up to the
   * count exactly (rounding the running total, not each part).
   */
  public static long[] apportion(long count, List<Share> shares) {
    long[] parts = new long[shares.size()];
    double cumulative = 0;
    long given = 0;
    for (int i = 0; i < parts.length; i++) {
      cumulative += shares.get(i).fraction();
      long upTo = i == parts.length - 1 ? count : Math.round(count * cumulative);
      parts[i] = upTo - given;
      given = upTo;
    }
    return parts;
  }

  /**
   * {@code parts} lowered to at most {@code caps} in each window, the excess moved to windows with
   * room, first come first: rounding must not give a window more timeouts than requests when the
   * row had no more (sum of parts <= sum of caps).
   */
  public static long[] capped(long[] parts, long[] caps) {
    long[] out = parts.clone();
    long excess = 0;
    for (int i = 0; i < out.length; i++) {
      if (out[i] > caps[i]) {
        excess += out[i] - caps[i];
        out[i] = caps[i];
      }
    }
    for (int i = 0; i < out.length && excess > 0; i++) {
      long moved = Math.min(excess, caps[i] - out[i]);
      out[i] += moved;
      excess -= moved;
    }
    return out;
  }
}
