package dev.stallwatch.jobs;

import dev.stallwatch.jobs.events.Observation;
import dev.stallwatch.jobs.events.ProfileSummary;
import dev.stallwatch.jobs.events.TrafficChange;
import dev.stallwatch.jobs.events.UpstreamCount;
import java.util.Arrays;
import java.util.Objects;

/**
 * Keyed state: what arrived for one container and one window that has not been evaluated yet.
 * Profiles are kept per host and upstream counts per source, so a redelivered window replaces
 * the earlier copy instead of adding to it.
 */
public class PendingWindow {

  public ProfileSummary[] profiles = new ProfileSummary[0];
  public UpstreamCount[] upstream = new UpstreamCount[0];
  public TrafficChange[] traffic = new TrafficChange[0];

  public PendingWindow() {}

  /** Adds an observation; returns false when it was a duplicate that replaced an earlier one. */
  boolean add(Observation o) {
    switch (o.kind) {
      case PROFILE -> {
        for (int i = 0; i < profiles.length; i++) {
          if (Objects.equals(profiles[i].host, o.profile.host)) {
            profiles[i] = o.profile;
            return false;
          }
        }
        profiles = append(profiles, o.profile);
      }
      case UPSTREAM -> {
        for (int i = 0; i < upstream.length; i++) {
          if (Objects.equals(upstream[i].source, o.upstream.source)) {
            upstream[i] = o.upstream;
            return false;
          }
        }
        upstream = append(upstream, o.upstream);
      }
      case TRAFFIC -> {
        for (TrafficChange t : traffic) {
          if (t.timestampMs == o.traffic.timestampMs && t.action == o.traffic.action) {
            return false;
          }
        }
        traffic = append(traffic, o.traffic);
      }
      default -> throw new IllegalArgumentException("not a detector input: " + o);
    }
    return true;
  }

  private static <T> T[] append(T[] array, T item) {
    T[] out = Arrays.copyOf(array, array.length + 1);
    out[array.length] = item;
    return out;
  }
}
