package dev.stallwatch.jobs;

import dev.stallwatch.jobs.events.CollectorManifest;
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
  /** One per collector host: what it published for this window. */
  public CollectorManifest[] manifests = new CollectorManifest[0];

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
      case MANIFEST -> {
        for (int i = 0; i < manifests.length; i++) {
          if (Objects.equals(manifests[i].host, o.manifest.host)) {
            manifests[i] = o.manifest;
            return false;
          }
        }
        manifests = append(manifests, o.manifest);
      }
      default -> throw new IllegalArgumentException("not a detector input: " + o);
    }
    return true;
  }

  /** Profile, upstream or traffic data; manifests alone are no data. */
  boolean hasData() {
    return profiles.length > 0 || upstream.length > 0 || traffic.length > 0;
  }

  boolean hasManifestFrom(String host) {
    for (CollectorManifest m : manifests) {
      if (Objects.equals(m.host, host)) {
        return true;
      }
    }
    return false;
  }

  /** Every item the manifests list has arrived (true when there are no manifests). */
  boolean hasEverythingListed() {
    for (CollectorManifest m : manifests) {
      if (m.profile && !hasProfileFrom(m.host)) {
        return false;
      }
      for (String source : m.upstreamSources) {
        if (!hasUpstreamFrom(source)) {
          return false;
        }
      }
    }
    return true;
  }

  private boolean hasProfileFrom(String host) {
    for (ProfileSummary p : profiles) {
      if (Objects.equals(p.host, host)) {
        return true;
      }
    }
    return false;
  }

  private boolean hasUpstreamFrom(String source) {
    for (UpstreamCount u : upstream) {
      if (Objects.equals(u.source, source)) {
        return true;
      }
    }
    return false;
  }

  private static <T> T[] append(T[] array, T item) {
    T[] out = Arrays.copyOf(array, array.length + 1);
    out[array.length] = item;
    return out;
  }
}
