package dev.stallwatch.schemas;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One topic of the pipeline as deployed: its name (which a deployment may change) and what
 * {@link Topics.Role} declares for it. {@link #configs()} are the topic-level broker settings that
 * {@code stallwatch topics create}, the embedded broker and the Strimzi manifests apply.
 */
public record TopicSpec(Topics.Role role, String name) {
  public static final String CLEANUP_POLICY = "cleanup.policy";
  public static final String RETENTION_MS = "retention.ms";

  public TopicSpec {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(name, "name");
  }

  public int partitions() {
    return role.partitions();
  }

  public String cleanupPolicy() {
    return role.cleanupPolicy();
  }

  public Duration retention() {
    return role.retention();
  }

  /** The declared topic-level settings, in a fixed order. */
  public Map<String, String> configs() {
    Map<String, String> configs = new LinkedHashMap<>();
    configs.put(CLEANUP_POLICY, role.cleanupPolicy());
    configs.put(RETENTION_MS, String.valueOf(role.retention().toMillis()));
    return configs;
  }
}
