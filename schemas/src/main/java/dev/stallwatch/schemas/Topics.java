package dev.stallwatch.schemas;

import java.util.List;
import java.util.Objects;

/**
 * The Kafka topics of the pipeline. Every topic is keyed by container ID. The defaults are the
 * names docs/design.md gives; a deployment may rename them, so nothing else spells them out.
 */
public record Topics(
    String profiles, String upstream, String traffic, String alerts, String deadLetter, String containerHealth,
    String completeness) {

  public static final String DEFAULT_PROFILES = "stallwatch.profiles.v1";
  public static final String DEFAULT_UPSTREAM = "stallwatch.upstream.v1";
  public static final String DEFAULT_TRAFFIC = "stallwatch.traffic.v1";
  public static final String DEFAULT_ALERTS = "stallwatch.alerts.v1";
  public static final String DEFAULT_DEAD_LETTER = "stallwatch.deadletter.v1";
  /** The detector's per-container window summaries, for dashboards. */
  public static final String DEFAULT_CONTAINER_HEALTH = "stallwatch.container-health.v1";
  /** Collectors' WindowManifests: what they published per container and window. */
  public static final String DEFAULT_COMPLETENESS = "stallwatch.completeness.v1";

  public Topics {
    Objects.requireNonNull(profiles, "profiles topic");
    Objects.requireNonNull(upstream, "upstream topic");
    Objects.requireNonNull(traffic, "traffic topic");
    Objects.requireNonNull(alerts, "alerts topic");
    Objects.requireNonNull(deadLetter, "dead-letter topic");
    Objects.requireNonNull(containerHealth, "container-health topic");
    Objects.requireNonNull(completeness, "completeness topic");
  }

  public static Topics defaults() {
    return new Topics(DEFAULT_PROFILES, DEFAULT_UPSTREAM, DEFAULT_TRAFFIC, DEFAULT_ALERTS, DEFAULT_DEAD_LETTER,
        DEFAULT_CONTAINER_HEALTH, DEFAULT_COMPLETENESS);
  }

  /** These topics with the three input topics renamed, for a collector that publishes elsewhere. */
  public Topics withInputs(String profiles, String upstream, String traffic) {
    return new Topics(profiles, upstream, traffic, alerts, deadLetter, containerHealth, completeness);
  }

  /** The same names with a suffix, e.g. for a fresh set of topics per test. */
  public Topics withSuffix(String suffix) {
    return new Topics(profiles + suffix, upstream + suffix, traffic + suffix, alerts + suffix, deadLetter + suffix,
        containerHealth + suffix, completeness + suffix);
  }

  public List<String> all() {
    return List.of(profiles, upstream, traffic, alerts, deadLetter, containerHealth, completeness);
  }

  /** The topics collectors publish to and the detector reads. */
  public List<String> inputs() {
    return List.of(profiles, upstream, traffic, completeness);
  }
}
