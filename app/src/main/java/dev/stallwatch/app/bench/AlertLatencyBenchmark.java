package dev.stallwatch.app.bench;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WeightUnit;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Measures, in real time, how long after the end of the 60 s sustain the alert is readable on
 * the alerts topic (read_committed), with the job running unbounded on the embedded stack.
 *
 * <p>A collector publishes each container's window when the window ends, so this does too: one
 * wedged container and a few healthy neighbours, window by window on the wall clock. The delay
 * it measures is the event-time watermark's out-of-orderness bound (the job cannot know a window
 * is complete before it), plus processing, plus the wait for the checkpoint that commits the
 * exactly-once sink's transaction.
 *
 * <p>Usage: {@code AlertLatencyBenchmark [--set key=value ...] [--checkpoint-interval 10s]}.
 */
public final class AlertLatencyBenchmark {
  private static final int NEIGHBOURS = 5;
  private static final int BASELINE_WINDOWS = 3;

  public static void main(String[] args) throws Exception {
    Map<String, String> overrides = new java.util.LinkedHashMap<>();
    Duration checkpointInterval = DeadlockDetectionJob.DEFAULT_CHECKPOINT_INTERVAL;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--set" -> {
          String[] kv = args[i + 1].split("=", 2);
          overrides.put(kv[0], kv[1]);
        }
        case "--checkpoint-interval" -> checkpointInterval = Duration.parse("PT" + args[i + 1].toUpperCase());
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    DetectorOptions options = DetectorOptions.defaults().withOverrides(overrides);
    long windowMs = options.windowSize().toMillis();
    int sustainWindows = options.stuckWindowsToAlert();

    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      Topics topics = Topics.defaults();
      kafka.createTopics(topics.all(), 2);
      StreamExecutionEnvironment env =
          StreamExecutionEnvironment.createLocalEnvironment(LocalFlink.parallelism(), LocalFlink.configuration());
      JobClient job = DeadlockDetectionJob.builder()
          .bootstrapServers(kafka.bootstrapServers()).topics(topics).options(options)
          .rules(SignatureRules.defaults()).checkpointInterval(checkpointInterval).bounded(false)
          .build().executeAsync(env);

      try (EventPublisher publisher = new EventPublisher(kafka.bootstrapServers(), topics, new Properties());
           KafkaConsumer<byte[], byte[]> alerts = alertConsumer(kafka.bootstrapServers(), topics.alerts())) {
        long start = (System.currentTimeMillis() / windowMs + 1) * windowMs;
        int spike = BASELINE_WINDOWS;
        int sustainEndWindow = spike + 1 + sustainWindows; // drained right after one spike window
        Instant sustainEnd = Instant.ofEpochMilli(start + sustainEndWindow * windowMs);
        System.err.printf("windows of %d ms from %s; sustain ends at %s; out-of-orderness %s; checkpoints every %s%n",
            windowMs, Instant.ofEpochMilli(start), sustainEnd, options.outOfOrderness(),
            checkpointInterval);
        Instant alertSeen = null;
        for (int w = 0; alertSeen == null; w++) {
          long windowStart = start + w * windowMs;
          long windowEnd = windowStart + windowMs;
          // publish each window when it ends, as a collector does; read alerts while waiting
          while (System.currentTimeMillis() < windowEnd && alertSeen == null) {
            alertSeen = poll(alerts, Duration.ofMillis(Math.max(1, Math.min(100, windowEnd - System.currentTimeMillis()))));
          }
          if (alertSeen != null) {
            break;
          }
          publishWindow(publisher, windowStart, windowEnd, w, spike);
          if (w > sustainEndWindow + 30) {
            throw new IllegalStateException("no alert 30 windows after the sustain ended");
          }
        }
        Duration latency = Duration.between(sustainEnd, alertSeen);
        System.out.printf("alert readable %d ms after the end of the sustain (out-of-orderness %s, checkpoint interval %s)%n",
            latency.toMillis(), options.outOfOrderness(), checkpointInterval);
      } finally {
        job.cancel().get();
      }
    }
  }

  private static void publishWindow(EventPublisher publisher, long start, long end, int w, int spike) {
    boolean wedged = w >= spike;
    boolean drained = w > spike;
    publisher.publish(window("wedged", start, end, wedged ? 1.0 : 0.4, wedged));
    publisher.publish(UpstreamWindow.newBuilder().setSource("bench").setContainerId("wedged")
        .setWindowStartMs(start).setWindowEndMs(end)
        .setRequests(drained ? 0 : 1000).setTimeouts(w == spike ? 500 : 0).build());
    for (int n = 0; n < NEIGHBOURS; n++) {
      publisher.publish(window("neighbour-" + n, start, end, 0.3, false));
      publisher.publish(UpstreamWindow.newBuilder().setSource("bench").setContainerId("neighbour-" + n)
          .setWindowStartMs(start).setWindowEndMs(end).setRequests(1000).setTimeouts(0).build());
    }
    publisher.flush();
  }

  private static ProfileWindow window(String container, long start, long end, double cores, boolean spinning) {
    long weight = Math.round(cores * (end - start) * 1_000_000);
    List<String> frames = spinning
        ? List.of("", "svc", "runtime.morestack", "runtime.newstack", "runtime.schedule", "runtime.adjusttimers",
            "runtime.osyield")
        : List.of("", "svc", "runtime.goexit", "net/http.(*conn).serve", "main.handle", "runtime.mallocgc");
    Stack.Builder stack = Stack.newBuilder().setWeight(weight).setSamples(Math.round(cores * 99 * (end - start) / 1000));
    for (int i = 1; i < frames.size(); i++) {
      stack.addFrames(i);
    }
    return ProfileWindow.newBuilder().setHost("bench-host").setContainerId(container)
        .setWindowStartMs(start).setWindowEndMs(end).addAllStrings(frames).addStacks(stack)
        .setTotalWeight(weight).setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS).setSampleFrequencyHz(99)
        .build();
  }

  private static KafkaConsumer<byte[], byte[]> alertConsumer(String bootstrap, String topic) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
        .map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return consumer;
  }

  private static Instant poll(KafkaConsumer<byte[], byte[]> consumer, Duration timeout) throws Exception {
    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
      DeadlockAlert alert = DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(record.value()));
      if (alert.getEventType() == AlertEventType.OPEN) {
        return Instant.now();
      }
    }
    return null;
  }
}
