package dev.stallwatch.jobs.events;

/**
 * What one collector says it published for one container and window (a {@code WindowManifest}):
 * the detector waits for exactly this before it evaluates the window early.
 */
public class CollectorManifest {

  public String host;
  public long windowStartMs;
  public long windowEndMs;
  /** A ProfileWindow from {@link #host} is on its way. */
  public boolean profile;
  /** The UpstreamWindow sources on their way; never null. */
  public String[] upstreamSources = new String[0];

  public CollectorManifest() {}

  /** True when the collector published nothing for the window (it still reports the container). */
  public boolean isEmpty() {
    return !profile && upstreamSources.length == 0;
  }
}
