package dev.stallwatch.cluster;

import static org.awaitility.Awaitility.await;

import dev.stallwatch.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

/**
 * Three KRaft brokers (each also a controller), each its own JVM from Maven Central's
 * {@code kafka_2.13}: storage formatted with {@code kafka.tools.StorageTool}, then {@code kafka.Kafka
 * server.properties}, as an operator runs them. Every replication factor is 3 with
 * {@code min.insync.replicas=2}, so one broker can die without losing a write.
 */
final class KafkaCluster implements AutoCloseable {
  static final int BROKERS = 3;
  static final int PARTITIONS = 2;

  private final List<JvmProcess> brokers = new ArrayList<>();
  private final List<Integer> brokerPorts;
  private final String bootstrap;

  private KafkaCluster(List<Integer> brokerPorts) {
    this.brokerPorts = brokerPorts;
    this.bootstrap = brokerPorts.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
  }

  static KafkaCluster start(Path dir, String classpath, Path log4j) throws Exception {
    List<Integer> ports = Ports.free(2 * BROKERS);
    KafkaCluster cluster = new KafkaCluster(ports.subList(0, BROKERS));
    List<Integer> controllers = ports.subList(BROKERS, 2 * BROKERS);
    String voters = java.util.stream.IntStream.range(0, BROKERS)
        .mapToObj(i -> (i + 1) + "@127.0.0.1:" + controllers.get(i)).collect(Collectors.joining(","));
    String clusterId = Uuid.randomUuid().toString();
    List<String> jvm = List.of("-Xms128m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Djava.io.tmpdir=" + dir, "-Dlog4j2.configurationFile=" + log4j);
    List<JvmProcess> formats = new ArrayList<>();
    for (int i = 0; i < BROKERS; i++) {
      int node = i + 1;
      Path home = Files.createDirectories(dir.resolve("broker-" + node));
      Path props = home.resolve("server.properties");
      Files.writeString(props, String.join("\n",
          "process.roles=broker,controller",
          "node.id=" + node,
          "controller.quorum.voters=" + voters,
          "listeners=PLAINTEXT://127.0.0.1:" + ports.get(i) + ",CONTROLLER://127.0.0.1:" + controllers.get(i),
          "advertised.listeners=PLAINTEXT://127.0.0.1:" + ports.get(i),
          "controller.listener.names=CONTROLLER",
          "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
          "inter.broker.listener.name=PLAINTEXT",
          "log.dirs=" + home.resolve("data"),
          "num.partitions=" + PARTITIONS,
          "default.replication.factor=3",
          "min.insync.replicas=2",
          "offsets.topic.replication.factor=3",
          "transaction.state.log.replication.factor=3",
          "transaction.state.log.min.isr=2",
          "share.coordinator.state.topic.replication.factor=3",
          "share.coordinator.state.topic.min.isr=2",
          "group.initial.rebalance.delay.ms=0",
          "auto.create.topics.enable=false",
          "unclean.leader.election.enable=false",
          "log.flush.interval.messages=9223372036854775807",
          ""));
      JvmProcess format = new JvmProcess("kafka-format-" + node, classpath, jvm, "kafka.tools.StorageTool",
          List.of("format", "-t", clusterId, "-c", props.toString()), dir);
      formats.add(format);
      cluster.brokers.add(new JvmProcess("kafka-" + node, classpath, jvm, "kafka.Kafka", List.of(props.toString()),
          dir));
    }
    for (JvmProcess format : formats) {
      format.runToCompletion(Duration.ofSeconds(60));
    }
    cluster.brokers.forEach(JvmProcess::start);
    try (Admin admin = cluster.admin()) {
      await("3 Kafka brokers").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> admin.describeCluster().nodes().get().size() == BROKERS);
    } catch (RuntimeException | Error e) {
      cluster.close(); // no broker outlives a failed start
      throw e;
    }
    return cluster;
  }

  String bootstrapServers() {
    return bootstrap;
  }

  Admin admin() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "120000"); // 2 cores shared by many JVMs
    return Admin.create(props);
  }

  /**
   * The pipeline's topics, replicated 3 times with min.insync.replicas=2. The one place the
   * harness declares topics: switch it to the shared declaration when there is one.
   */
  void createTopics(Topics topics) throws Exception {
    try (Admin admin = admin()) {
      List<NewTopic> wanted = topics.all().stream()
          .map(t -> new NewTopic(t, PARTITIONS, (short) BROKERS).configs(Map.of("min.insync.replicas", "2")))
          .toList();
      admin.createTopics(wanted).all().get();
      await("topics with leaders").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .until(() -> admin.describeTopics(topics.all()).allTopicNames().get().values().stream()
              .flatMap(d -> d.partitions().stream())
              .allMatch(p -> p.leader() != null && p.isr().size() == BROKERS));
    }
  }

  /** The node ID (1..3) leading partition {@code partition} of {@code topic}. */
  int leaderOf(String topic, int partition) throws Exception {
    try (Admin admin = admin()) {
      TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      TopicPartitionInfo info = d.partitions().get(partition);
      return info.leader().id();
    }
  }

  JvmProcess broker(int nodeId) {
    return brokers.get(nodeId - 1);
  }

  /** Restarts a killed broker on its data and waits until every partition has all 3 replicas in sync again. */
  void restart(int nodeId, Topics topics) throws Exception {
    broker(nodeId).start();
    try (Admin admin = admin()) {
      await("broker " + nodeId + " back in sync").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> admin.describeTopics(topics.all()).allTopicNames().get().values().stream()
              .flatMap(d -> d.partitions().stream())
              .allMatch(p -> p.leader() != null && p.isr().size() == BROKERS));
    }
  }

  String logs() {
    return brokers.stream().map(b -> "== " + b.name() + "\n" + b.tail(40)).collect(Collectors.joining("\n"));
  }

  @Override
  public void close() throws Exception {
    for (JvmProcess b : brokers) {
      b.close();
    }
  }
}
