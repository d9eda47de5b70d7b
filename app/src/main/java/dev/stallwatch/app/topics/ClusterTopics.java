package dev.stallwatch.app.topics;

import dev.stallwatch.schemas.TopicSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The declared topics ({@link TopicSpec}) on a real Kafka cluster, through the Admin client:
 * create the missing ones, describe what is there against the declaration, find missing ones.
 * Every call waits at most the timeout; an unreachable cluster is a {@link ClusterException}.
 */
public final class ClusterTopics implements AutoCloseable {
  /** How often a record must be on disk before an acks=all write succeeds, for the replication factor. */
  static int minInSyncReplicas(int replicationFactor) {
    return replicationFactor >= 3 ? 2 : 1;
  }

  private final Admin admin;
  private final String bootstrapServers;
  private final Duration timeout;

  private ClusterTopics(Admin admin, String bootstrapServers, Duration timeout) {
    this.admin = admin;
    this.bootstrapServers = bootstrapServers;
    this.timeout = timeout;
  }

  /** An Admin client on {@code bootstrapServers} with the user's client properties (SASL, TLS, ...). */
  public static ClusterTopics connect(String bootstrapServers, Properties clientProperties, Duration timeout) {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Properties props = new Properties();
    props.putAll(clientProperties);
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    String millis = String.valueOf(timeout.toMillis());
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis);
    props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(Math.min(timeout.toMillis(), 30_000)));
    try {
      return new ClusterTopics(Admin.create(props), bootstrapServers, timeout);
    } catch (KafkaException e) {
      throw new ClusterException("cannot use Kafka at " + bootstrapServers + ": " + rootMessage(e), e);
    }
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The names of the topics on the cluster (internal ones left out). */
  public Set<String> existing() {
    return new TreeSet<>(get(admin.listTopics(new ListTopicsOptions().timeoutMs(timeoutMs())).names(), "list topics"));
  }

  /** Those of {@code names} that the cluster does not have, in their order. */
  public List<String> missing(Collection<String> names) {
    Set<String> existing = existing();
    return names.stream().filter(name -> !existing.contains(name)).distinct().toList();
  }

  /** The number of brokers: the default replication factor is min(3, brokers). */
  public int brokers() {
    return get(admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs())).nodes(), "describe cluster")
        .size();
  }

  /**
   * Creates the declared topics the cluster does not have yet, then describes every one of them.
   * Topics that exist are left as they are (their differences are in the answer).
   *
   * @param partitions every topic's partitions instead of the declared ones, or empty
   * @param replicationFactor the replication factor, or empty for min(3, brokers)
   */
  public List<Outcome> create(List<TopicSpec> specs, Optional<Integer> partitions, Optional<Short> replicationFactor) {
    short replicas = replicationFactor.orElseGet(() -> (short) Math.min(3, brokers()));
    Set<String> existing = existing();
    List<NewTopic> newTopics = new ArrayList<>();
    for (TopicSpec spec : specs) {
      if (existing.contains(spec.name())) {
        continue;
      }
      Map<String, String> configs = new LinkedHashMap<>(spec.configs());
      configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(minInSyncReplicas(replicas)));
      newTopics.add(new NewTopic(spec.name(), partitions.orElse(spec.partitions()), replicas).configs(configs));
    }
    Set<String> created = new TreeSet<>();
    if (!newTopics.isEmpty()) {
      var results = admin.createTopics(newTopics, new CreateTopicsOptions().timeoutMs(timeoutMs())).values();
      for (NewTopic topic : newTopics) {
        try {
          get(results.get(topic.name()), "create topic " + topic.name());
          created.add(topic.name());
        } catch (ClusterException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
          // made by someone else meanwhile: described as existing
        }
      }
    }
    List<Outcome> outcomes = new ArrayList<>();
    Map<String, State> states = states(specs.stream().map(TopicSpec::name).toList());
    for (TopicSpec spec : specs) {
      State state = states.get(spec.name());
      outcomes.add(new Outcome(spec, created.contains(spec.name()), state, state == null ? List.of()
          : differences(spec, state, partitions)));
    }
    return outcomes;
  }

  /** What the cluster has of each declared topic, and how it differs from the declaration. */
  public List<Outcome> describe(List<TopicSpec> specs) {
    Map<String, State> states = states(specs.stream().map(TopicSpec::name).toList());
    List<Outcome> outcomes = new ArrayList<>();
    for (TopicSpec spec : specs) {
      State state = states.get(spec.name());
      outcomes.add(new Outcome(spec, false, state, state == null ? List.of()
          : differences(spec, state, Optional.empty())));
    }
    return outcomes;
  }

  /** Partitions, replicas and the topic-level settings of the named topics that exist. */
  private Map<String, State> states(List<String> names) {
    Set<String> existing = existing();
    List<String> present = names.stream().filter(existing::contains).toList();
    Map<String, State> states = new LinkedHashMap<>();
    if (present.isEmpty()) {
      return states;
    }
    Map<String, TopicDescription> descriptions = get(admin.describeTopics(present).allTopicNames(), "describe topics");
    List<ConfigResource> resources = present.stream()
        .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name)).toList();
    Map<ConfigResource, Config> configs = get(admin.describeConfigs(resources).all(), "describe topic configs");
    for (String name : present) {
      TopicDescription description = descriptions.get(name);
      Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name));
      Map<String, String> settings = new LinkedHashMap<>();
      for (String key : List.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.RETENTION_MS_CONFIG,
          TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG)) {
        ConfigEntry entry = config.get(key);
        if (entry != null && entry.value() != null) {
          settings.put(key, entry.value());
        }
      }
      int replicas = description.partitions().isEmpty() ? 0 : description.partitions().get(0).replicas().size();
      states.put(name, new State(description.partitions().size(), replicas, settings));
    }
    return states;
  }

  private static List<String> differences(TopicSpec spec, State state, Optional<Integer> partitions) {
    List<String> differences = new ArrayList<>();
    String cleanup = state.configs().get(TopicSpec.CLEANUP_POLICY);
    if (cleanup != null && !cleanup.equals(spec.cleanupPolicy())) {
      differences.add(TopicSpec.CLEANUP_POLICY + " is " + cleanup + ", declared " + spec.cleanupPolicy());
    }
    String retention = state.configs().get(TopicSpec.RETENTION_MS);
    String declaredRetention = spec.configs().get(TopicSpec.RETENTION_MS);
    if (retention != null && !retention.equals(declaredRetention)) {
      differences.add(TopicSpec.RETENTION_MS + " is " + retention + ", declared " + declaredRetention);
    }
    int wanted = partitions.orElse(spec.partitions());
    if (state.partitions() != wanted) {
      differences.add(state.partitions() + " partitions, " + (partitions.isPresent() ? "asked for " : "declared ")
          + wanted);
    }
    return differences;
  }

  /** One declared topic on the cluster: {@code state} is null when it does not exist. */
  public record Outcome(TopicSpec spec, boolean created, State state, List<String> differences) {
    public boolean exists() {
      return state != null;
    }

    /** A cleanup policy that is not the declared one changes what the pipeline keeps: not a detail. */
    public boolean wrongCleanupPolicy() {
      return differences.stream().anyMatch(d -> d.startsWith(TopicSpec.CLEANUP_POLICY));
    }
  }

  /** What a topic is on the cluster: partitions, replicas of its first partition, its settings. */
  public record State(int partitions, int replicationFactor, Map<String, String> configs) {}

  /** Kafka did not answer, or refused, within the timeout. */
  public static final class ClusterException extends RuntimeException {
    ClusterException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private <T> T get(org.apache.kafka.common.KafkaFuture<T> future, String what) {
    try {
      return future.get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClusterException("interrupted: " + what, e);
    } catch (ExecutionException e) {
      throw new ClusterException("could not " + what + " at " + bootstrapServers + ": " + rootMessage(e.getCause()),
          e.getCause());
    } catch (TimeoutException e) {
      throw new ClusterException("no answer from Kafka at " + bootstrapServers + " within " + timeout.toSeconds()
          + " s (" + what + ")", e);
    }
  }

  private int timeoutMs() {
    return (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName() + (message == null ? "" : ": " + message.lines().findFirst().orElse(""));
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(5));
  }
}
