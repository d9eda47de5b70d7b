package dev.stallwatch.jobs.events;

/** Requests and timeouts one upstream counted for a container in one window. */
public class UpstreamCount {

  /** Who counted; a second count from the same source for the same window replaces the first. */
  public String source;
  public String host;
  public long windowStartMs;
  public long windowEndMs;
  public long requests;
  public long timeouts;

  public UpstreamCount() {}
}
