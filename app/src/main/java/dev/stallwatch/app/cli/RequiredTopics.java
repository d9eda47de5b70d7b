package dev.stallwatch.app.cli;

import dev.stallwatch.app.topics.ClusterTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * The start-up check of {@code job} and {@code serve}: every topic they use exists. A missing one
 * is a usage error naming each missing topic and the command that creates them, before anything
 * starts (a Flink source on a missing topic fails the job seconds later with a stack trace).
 */
final class RequiredTopics {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private RequiredTopics() {}

  static void check(String bootstrapServers, Properties clientProperties, Path kafkaConfig, List<String> topics) {
    try (ClusterTopics cluster = ClusterTopics.connect(bootstrapServers, clientProperties, TIMEOUT)) {
      List<String> missing = cluster.missing(topics);
      if (!missing.isEmpty()) {
        throw new UserError("Kafka at " + bootstrapServers + " has no topic " + String.join(", ", missing)
            + ": create them with 'stallwatch topics create --bootstrap-servers " + bootstrapServers
            + (kafkaConfig != null ? " --kafka-config " + kafkaConfig : "") + "'");
      }
    } catch (ClusterTopics.ClusterException e) {
      throw new UserError(e.getMessage() + " (check --bootstrap-servers and --kafka-config)", e);
    }
  }
}
