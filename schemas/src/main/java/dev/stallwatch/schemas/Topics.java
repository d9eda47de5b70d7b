package dev.stallwatch.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The Kafka topics of the pipeline: the one declaration of their names, keys, values, partitions,
 * cleanup policy and retention ({@link Role}, {@link #specs()}). Every topic is keyed by container
 * ID. A deployment may rename them, so nothing else spells the names out.
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

  /** The cleanup policy of every topic: see {@link Role#ALERTS} for why alerts are not compacted. */
  public static final String DELETE = "delete";

  /**
   * What each topic carries and how the broker keeps it. Partitions are sized for a fleet of
   * 100,000 containers, one window per container per 10 s (deploy/README.md has the arithmetic);
   * retention is how long a consumer may be away without losing anything it needs.
   */
  public enum Role {
    /** Collectors' folded stacks: the largest topic; kept half a day, so a stopped job resumes overnight. */
    PROFILES(DEFAULT_PROFILES, "protobuf stallwatch.v1.ProfileWindow", 24, DELETE, Duration.ofHours(12)),
    /** Request and timeout counts: small records, kept a day. */
    UPSTREAM(DEFAULT_UPSTREAM, "protobuf stallwatch.v1.UpstreamWindow", 12, DELETE, Duration.ofDays(1)),
    /** Drains and restores: rare and small, kept a week as the fleet's drain history. */
    TRAFFIC(DEFAULT_TRAFFIC, "protobuf stallwatch.v1.TrafficEvent", 6, DELETE, Duration.ofDays(7)),
    /**
     * Alerts, OPEN and RESOLVED. Not compacted: the key is the container, and a container may have
     * several incidents, so compaction would keep only its newest alert and a store refilled from
     * this topic would lose the earlier incidents. Rare and small, so kept a year.
     */
    ALERTS(DEFAULT_ALERTS, "Avro single-object dev.stallwatch.schemas.alerts.v1.DeadlockAlert", 6, DELETE,
        Duration.ofDays(365)),
    /** Records nobody could use, with why in headers: kept a month, long enough to be looked at. */
    DEAD_LETTER(DEFAULT_DEAD_LETTER, "the original record's bytes; stallwatch.* headers say why", 3, DELETE,
        Duration.ofDays(30)),
    /** The detector's per-window summaries: serve stores them in PostgreSQL at once, so kept briefly. */
    CONTAINER_HEALTH(DEFAULT_CONTAINER_HEALTH, "protobuf stallwatch.v1.ContainerHealth", 12, DELETE,
        Duration.ofHours(6)),
    /**
     * Collectors' manifests, one per container and window: small, at the rate of the profile
     * windows; kept as long as the profiles, since a job that resumes needs both.
     */
    COMPLETENESS(DEFAULT_COMPLETENESS, "protobuf stallwatch.v1.WindowManifest", 12, DELETE, Duration.ofHours(12));

    /** The key of every topic: the container ID, so one container's records stay in order. */
    public static final String KEY = "container ID (UTF-8)";

    private final String defaultName;
    private final String value;
    private final int partitions;
    private final String cleanupPolicy;
    private final Duration retention;

    Role(String defaultName, String value, int partitions, String cleanupPolicy, Duration retention) {
      this.defaultName = defaultName;
      this.value = value;
      this.partitions = partitions;
      this.cleanupPolicy = cleanupPolicy;
      this.retention = retention;
    }

    public String defaultName() {
      return defaultName;
    }

    /** What a record's value is. */
    public String value() {
      return value;
    }

    public int partitions() {
      return partitions;
    }

    public String cleanupPolicy() {
      return cleanupPolicy;
    }

    public Duration retention() {
      return retention;
    }
  }

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

  /** The name this deployment gives the topic of {@code role}. */
  public String name(Role role) {
    return switch (role) {
      case PROFILES -> profiles;
      case UPSTREAM -> upstream;
      case TRAFFIC -> traffic;
      case ALERTS -> alerts;
      case DEAD_LETTER -> deadLetter;
      case CONTAINER_HEALTH -> containerHealth;
      case COMPLETENESS -> completeness;
    };
  }

  /** Every topic with its declaration, in the order of {@link Role}. */
  public List<TopicSpec> specs() {
    List<TopicSpec> specs = new ArrayList<>();
    for (Role role : Role.values()) {
      specs.add(new TopicSpec(role, name(role)));
    }
    return List.copyOf(specs);
  }

  /** The topics the detection job reads or writes: all of them. */
  public List<String> jobTopics() {
    return all();
  }

  /** The topics {@code stallwatch serve} reads or writes when it ingests: alerts, container health, dead letters. */
  public List<String> serveTopics() {
    return List.of(alerts, containerHealth, deadLetter);
  }

  public List<String> all() {
    return List.of(profiles, upstream, traffic, alerts, deadLetter, containerHealth, completeness);
  }

  /** The topics collectors publish to and the detector reads. */
  public List<String> inputs() {
    return List.of(profiles, upstream, traffic, completeness);
  }
}
