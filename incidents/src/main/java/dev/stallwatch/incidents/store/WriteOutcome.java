package dev.stallwatch.incidents.store;

/** What writing one alert did to the store. */
public enum WriteOutcome {
  /** The first alert of the incident: a new row. */
  INSERTED,
  /** The row changed: resolved, or the OPEN alert's fields replaced a RESOLVED-first row's. */
  UPDATED,
  /** A duplicate, or an OPEN after the RESOLVED that carried the same fields: nothing to change. */
  UNCHANGED
}
