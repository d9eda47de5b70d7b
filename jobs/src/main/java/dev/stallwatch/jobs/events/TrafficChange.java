package dev.stallwatch.jobs.events;

/** Traffic to a container was drained or restored. */
public class TrafficChange {

  public enum Action {
    DRAINED,
    RESTORED
  }

  public Action action;
  public long timestampMs;
  /** Who or what did it; never null (empty when unknown). */
  public String actor;
  public String reason;

  public TrafficChange() {}
}
