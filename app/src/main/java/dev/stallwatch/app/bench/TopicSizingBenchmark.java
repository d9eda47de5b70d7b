package dev.stallwatch.app.bench;

import dev.stallwatch.app.Directories;
import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.app.replay.BundlePublisher;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.TopicSpec;
import dev.stallwatch.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The figures deploy/README.md sizes a fleet with, measured on the demo bundle: records and bytes
 * per record on every topic (key + value as produced, and the lz4 batches on the broker's disk),
 * and the detection job's checkpointed state, for two fleet sizes, so that the state per container
 * is the difference over the difference in containers.
 *
 * <p>Usage: {@code TopicSizingBenchmark [EXTRA_NEIGHBOURS_SMALL EXTRA_NEIGHBOURS_LARGE]} (default 0 40).
 */
public final class TopicSizingBenchmark {
  private static final Pattern FULL_SIZE = Pattern.compile("(?m)^flink_jobmanager_job_lastCheckpointFullSize\\{[^}]*} ([0-9.eE+]+)$");
  private static final Pattern COMPLETED = Pattern.compile(
      "(?m)^flink_jobmanager_job_numberOfCompletedCheckpoints\\{[^}]*} ([0-9.eE+]+)$");

  record TopicFigures(String topic, long records, double meanBytes, long p50Bytes, long maxBytes, long diskBytes) {}

  record Run(int containers, Map<String, TopicFigures> topics, long stateBytes) {}

  public static void main(String[] args) throws Exception {
    int small = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    int large = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    Run a = run(small);
    Run b = run(large);
    for (Run run : List.of(a, b)) {
      System.out.printf("%n%d containers, 5 minutes (30 windows of 10 s each):%n", run.containers());
      System.out.printf("%-34s %8s %10s %8s %8s %12s %10s%n", "topic", "records", "mean B", "p50 B", "max B",
          "disk B", "disk B/rec");
      for (TopicFigures t : run.topics().values()) {
        System.out.printf("%-34s %8d %10.0f %8d %8d %12d %10.0f%n", t.topic(), t.records(), t.meanBytes(),
            t.p50Bytes(), t.maxBytes(), t.diskBytes(), t.records() == 0 ? 0.0 : (double) t.diskBytes() / t.records());
      }
      System.out.printf("job state (last checkpoint, full size): %d bytes%n", run.stateBytes());
    }
    double perContainer = (double) (b.stateBytes() - a.stateBytes()) / (b.containers() - a.containers());
    System.out.printf("%nstate per container: (%d - %d) / (%d - %d) = %.0f bytes%n", b.stateBytes(), a.stateBytes(),
        b.containers(), a.containers(), perContainer);
  }

  private static Run run(int extraNeighbours) throws Exception {
    DemoBundle demo = new DemoBundle(extraNeighbours);
    Path dir = Files.createTempDirectory("stallwatch-sizing-");
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Topics topics = Topics.defaults();
      kafka.createTopics(topics, 2);
      demo.write(dir.resolve("bundle"));
      DetectorOptions options = DetectorOptions.defaults();
      try (EventPublisher publisher = new EventPublisher(kafka.bootstrapServers(), topics, kafka.clientProperties())) {
        new BundlePublisher(options.windowSize().toMillis()).publish(ReplayBundle.load(dir.resolve("bundle")), publisher);
      }
      DeadlockDetectionJob job = DeadlockDetectionJob.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties()).topics(topics).options(options)
          .rules(SignatureRules.defaults()).checkpointInterval(Duration.ofSeconds(1)).bounded(false).build();
      long stateBytes;
      try (LocalFlink.RunningJob running = LocalFlink.start(job, "stallwatch-sizing",
          LocalFlink.Settings.defaults().withMetricsPorts("0"))) {
        stateBytes = settledStateBytes(running.metricsUri(), kafka, topics.containerHealth());
      }
      Map<String, TopicFigures> figures = new LinkedHashMap<>();
      try (Admin admin = kafka.admin()) {
        Map<String, Long> disk = diskBytes(admin);
        for (TopicSpec spec : topics.specs()) {
          figures.put(spec.name(), figures(kafka, spec.name(), disk.getOrDefault(spec.name(), 0L)));
        }
      }
      return new Run(demo.containerCount(), figures, stateBytes);
    } finally {
      Directories.deleteRecursively(dir);
    }
  }

  /** The job's state once the container-health output stopped growing and two more checkpoints completed. */
  private static long settledStateBytes(URI metrics, EmbeddedKafka kafka, String healthTopic) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long lastEnd = -1;
    double settledAt = -1;
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (System.nanoTime() < deadline) {
      String body = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
      double completed = value(COMPLETED, body);
      long end = endOffset(kafka, healthTopic);
      if (end != lastEnd || end == 0) {
        lastEnd = end;
        settledAt = completed;
      } else if (completed >= settledAt + 2) {
        return (long) value(FULL_SIZE, body);
      }
      Thread.sleep(500); // a benchmark's polling interval, not a test
    }
    throw new IllegalStateException("the job's output did not settle within 3 minutes");
  }

  private static double value(Pattern pattern, String body) {
    Matcher m = pattern.matcher(body);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static KafkaConsumer<byte[], byte[]> consumer(EmbeddedKafka kafka) {
    Properties props = kafka.clientProperties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static long endOffset(EmbeddedKafka kafka, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private static TopicFigures figures(EmbeddedKafka kafka, String topic, long disk) {
    List<Long> sizes = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(kafka)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          sizes.add((long) Math.max(0, record.serializedKeySize()) + Math.max(0, record.serializedValueSize()));
        }
      }
    }
    Collections.sort(sizes);
    long total = sizes.stream().mapToLong(Long::longValue).sum();
    return new TopicFigures(topic, sizes.size(), sizes.isEmpty() ? 0 : (double) total / sizes.size(),
        sizes.isEmpty() ? 0 : sizes.get(sizes.size() / 2), sizes.isEmpty() ? 0 : sizes.get(sizes.size() - 1), disk);
  }

  private static Map<String, Long> diskBytes(Admin admin) throws Exception {
    Map<String, Long> bytes = new LinkedHashMap<>();
    var nodes = admin.describeCluster().nodes().get().stream().map(n -> n.id()).toList();
    for (Map<String, LogDirDescription> dirs : admin.describeLogDirs(nodes).allDescriptions().get().values()) {
      for (LogDirDescription dir : dirs.values()) {
        for (Map.Entry<TopicPartition, ReplicaInfo> replica : dir.replicaInfos().entrySet()) {
          bytes.merge(replica.getKey().topic(), replica.getValue().size(), Long::sum);
        }
      }
    }
    return bytes;
  }

  private TopicSizingBenchmark() {}
}
