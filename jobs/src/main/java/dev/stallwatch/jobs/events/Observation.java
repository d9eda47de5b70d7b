package dev.stallwatch.jobs.events;

/**
 * One decoded record of the three input topics, as a small Flink POJO (no protobuf classes, no
 * Kryo): exactly one of {@link #profile}, {@link #upstream}, {@link #traffic}, {@link
 * #manifest} or {@link #deadLetter} is set, as {@link #kind} says.
 */
public class Observation {

  public enum Kind {
    PROFILE,
    UPSTREAM,
    TRAFFIC,
    /** A collector is through with a window: what it published for it. */
    MANIFEST,
    /** Could not be decoded; never reaches the detector. */
    DEAD_LETTER
  }

  public Kind kind;
  public String containerId;
  /** Window start for windows, event time for traffic events; epoch ms. */
  public long eventTime;

  public ProfileSummary profile;
  public UpstreamCount upstream;
  public TrafficChange traffic;
  public CollectorManifest manifest;
  public DeadLetter deadLetter;

  public Observation() {}

  public static Observation of(ProfileSummary profile, String containerId) {
    Observation o = new Observation();
    o.kind = Kind.PROFILE;
    o.containerId = containerId;
    o.eventTime = profile.windowStartMs;
    o.profile = profile;
    return o;
  }

  public static Observation of(UpstreamCount upstream, String containerId) {
    Observation o = new Observation();
    o.kind = Kind.UPSTREAM;
    o.containerId = containerId;
    o.eventTime = upstream.windowStartMs;
    o.upstream = upstream;
    return o;
  }

  public static Observation of(TrafficChange traffic, String containerId) {
    Observation o = new Observation();
    o.kind = Kind.TRAFFIC;
    o.containerId = containerId;
    o.eventTime = traffic.timestampMs;
    o.traffic = traffic;
    return o;
  }

  public static Observation of(CollectorManifest manifest, String containerId) {
    Observation o = new Observation();
    o.kind = Kind.MANIFEST;
    o.containerId = containerId;
    o.eventTime = manifest.windowStartMs;
    o.manifest = manifest;
    return o;
  }

  public static Observation of(DeadLetter deadLetter) {
    Observation o = new Observation();
    o.kind = Kind.DEAD_LETTER;
    o.containerId = "";
    o.eventTime = Long.MIN_VALUE;
    o.deadLetter = deadLetter;
    return o;
  }

  public String getContainerId() {
    return containerId;
  }

  public boolean isDeadLetter() {
    return kind == Kind.DEAD_LETTER;
  }

  @Override
  public String toString() {
    return kind + "[" + containerId + " @" + eventTime + "]";
  }
}
