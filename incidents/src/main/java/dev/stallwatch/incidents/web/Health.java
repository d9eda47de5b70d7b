package dev.stallwatch.incidents.web;

import java.util.Objects;

/**
 * The state of one part of {@code stallwatch serve}, as {@code /healthz} shows it.
 *
 * @param detail a short phrase for people ("running", "not configured", "stopped: ...")
 */
public record Health(boolean ok, String detail) {
  public Health {
    Objects.requireNonNull(detail, "detail");
  }

  public static Health ok(String detail) {
    return new Health(true, detail);
  }

  public static Health failing(String detail) {
    return new Health(false, detail);
  }
}
