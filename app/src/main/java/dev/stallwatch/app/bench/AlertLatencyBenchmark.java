package dev.stallwatch.app.bench;

import com.sun.net.httpserver.HttpServer;
import dev.stallwatch.app.Directories;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.IncidentLinks;
import dev.stallwatch.incidents.notify.JdbcDeliveryLog;
import dev.stallwatch.incidents.notify.PagerDutyNotifier;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.ingest.publish.EventSink;
import dev.stallwatch.ingest.publish.WindowManifests;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WeightUnit;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Measures, in real time, where a user feels it: from the end of the 60 s sustain (and from the
 * drain) to the alert on the alerts topic and to the page at a PagerDuty-style receiver (a real
 * HTTP listener), with the job unbounded and the notifier as {@code serve} runs it (its delivery
 * log in an embedded PostgreSQL), on the embedded stack at the default settings.
 *
 * <p>It publishes as a collector does: each window when its grace (2 s) is over, through the
 * collector's {@link WindowManifests}, which sends the window's manifests a second later; one
 * wedged container, drained by a load-balancer event at a window start, and a few healthy
 * neighbours. {@code --before} runs it as the job ran before completeness: no manifests (every
 * window waits for the watermark's out-of-orderness bound) and the exactly-once alert sink (the
 * alert waits for the next checkpoint).
 *
 * <p>Usage: {@code AlertLatencyBenchmark [--before] [--set key=value ...] [--checkpoint-interval 10s]}.
 */
public final class AlertLatencyBenchmark {
  private static final int NEIGHBOURS = 5;
  private static final int BASELINE_WINDOWS = 3;
  private static final Duration GRACE = Duration.ofSeconds(2);
  private static final String HOST = "bench-host";

  public static void main(String[] args) throws Exception {
    Map<String, String> overrides = new LinkedHashMap<>();
    Duration checkpointInterval = DeadlockDetectionJob.DEFAULT_CHECKPOINT_INTERVAL;
    boolean before = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--set" -> {
          String[] kv = args[++i].split("=", 2);
          overrides.put(kv[0], kv[1]);
        }
        case "--checkpoint-interval" -> checkpointInterval = Duration.parse("PT" + args[++i].toUpperCase());
        case "--before" -> before = true;
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + "; usage: AlertLatencyBenchmark [--before] [--set key=value ...] [--checkpoint-interval 10s]");
      }
    }
    DetectorOptions options = DetectorOptions.defaults().withOverrides(overrides);
    long windowMs = options.windowSize().toMillis();
    int sustainWindows = options.stuckWindowsToAlert();

    Path dbDir = Files.createTempDirectory("stallwatch-latency-bench");
    AtomicReference<Instant> paged = new AtomicReference<>();
    HttpServer receiver = pagerDutyReceiver(paged);
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
         IncidentDatabase database = IncidentDatabase.open(DatabaseOptions.embedded(dbDir))) {
      Topics topics = Topics.defaults();
      kafka.createTopics(topics.all(), 2);
      StreamExecutionEnvironment env =
          StreamExecutionEnvironment.createLocalEnvironment(LocalFlink.parallelism(), LocalFlink.configuration());
      JobClient job = DeadlockDetectionJob.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties()).topics(topics).options(options)
          .rules(SignatureRules.defaults()).checkpointInterval(checkpointInterval).bounded(false)
          .alertsDeliveryGuarantee(before ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
          .build().executeAsync(env);
      String url = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/v2/enqueue";
      AlertNotifier notifier = AlertNotifier.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties()).topics(topics)
          .notifier(PagerDutyNotifier.builder().url(url).routingKey("bench-routing-key")
              .incidentLinks(IncidentLinks.of("http://127.0.0.1:8080/")).build())
          .deliveryLog(new JdbcDeliveryLog(database.dataSource()))
          .build();
      notifier.start();

      EventPublisher kafkaSink = new EventPublisher(kafka.bootstrapServers(), topics, kafka.clientProperties());
      EventSink publisher = kafkaSink;
      WindowManifests manifests = null;
      if (!before) {
        manifests = new WindowManifests(kafkaSink, HOST, options.windowSize(), GRACE.plusSeconds(1),
            WindowManifests.DEFAULT_KEEP_REPORTING, Clock.systemUTC());
        manifests.startTimer();
        publisher = manifests;
      }
      try (KafkaConsumer<byte[], byte[]> alerts = alertConsumer(kafka, topics.alerts())) {
        long start = (System.currentTimeMillis() / windowMs + 1) * windowMs;
        int spike = BASELINE_WINDOWS;
        int drainWindow = spike + 1;
        Instant drainedAt = Instant.ofEpochMilli(start + drainWindow * windowMs);
        Instant sustainEnd = Instant.ofEpochMilli(start + (drainWindow + sustainWindows) * windowMs);
        System.err.printf("%s: windows of %d ms from %s; drain at %s; sustain ends at %s; out-of-orderness %s;"
                + " checkpoints every %s%n", before ? "before (watermark, exactly-once)" : "completeness, at least once",
            windowMs, Instant.ofEpochMilli(start), drainedAt, sustainEnd, options.outOfOrderness(), checkpointInterval);
        Instant onTopic = null;
        boolean drainSent = false;
        for (int w = 0; onTopic == null || paged.get() == null; w++) {
          long windowStart = start + w * windowMs;
          long windowEnd = windowStart + windowMs;
          // a window goes out when its grace is over; the drain at its moment
          long publishAt = windowEnd + GRACE.toMillis();
          while (System.currentTimeMillis() < publishAt && (onTopic == null || paged.get() == null)) {
            if (!drainSent && System.currentTimeMillis() >= drainedAt.toEpochMilli()) {
              publisher.publish(TrafficEvent.newBuilder().setContainerId("wedged")
                  .setTimestampMs(drainedAt.toEpochMilli()).setAction(TrafficAction.TRAFFIC_ACTION_DRAINED)
                  .setActor("lb-hook:bench").build());
              publisher.flush();
              drainSent = true;
            }
            Instant seen = poll(alerts, Duration.ofMillis(Math.max(1, Math.min(50, publishAt - System.currentTimeMillis()))));
            onTopic = onTopic == null ? seen : onTopic;
          }
          if (onTopic != null && paged.get() != null) {
            break;
          }
          publishWindow(publisher, windowStart, windowEnd, w, spike);
          if (w > drainWindow + sustainWindows + 30) {
            throw new IllegalStateException("no page 30 windows after the sustain ended");
          }
        }
        System.out.printf("%s: end of sustain -> alert on the topic %d ms, end of sustain -> PagerDuty receiver %d ms,"
                + " drain -> PagerDuty receiver %d ms (out-of-orderness %s, checkpoint interval %s)%n",
            before ? "before" : "after", Duration.between(sustainEnd, onTopic).toMillis(),
            Duration.between(sustainEnd, paged.get()).toMillis(), Duration.between(drainedAt, paged.get()).toMillis(),
            options.outOfOrderness(), checkpointInterval);
      } finally {
        notifier.close();
        publisher.close();
        job.cancel().get();
      }
    } finally {
      receiver.stop(0);
      Directories.deleteRecursively(dbDir);
    }
  }

  /** A PagerDuty Events API v2 stand-in on loopback: notes when the first trigger came. */
  private static HttpServer pagerDutyReceiver(AtomicReference<Instant> paged) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v2/enqueue", exchange -> {
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
      }
      if (body.contains("\"event_action\":\"trigger\"")) {
        paged.compareAndSet(null, Instant.now());
      }
      byte[] answer = "{\"status\":\"success\",\"message\":\"Event processed\"}".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(202, answer.length);
      exchange.getResponseBody().write(answer);
      exchange.close();
    });
    server.start();
    return server;
  }

  private static void publishWindow(EventSink publisher, long start, long end, int w, int spike) {
    boolean wedged = w >= spike;
    boolean drained = w > spike;
    publisher.publish(window("wedged", start, end, wedged ? 1.0 : 0.4, wedged));
    if (!drained) {
      // a drained container's proxy sends it nothing, and so counts nothing
      publisher.publish(UpstreamWindow.newBuilder().setSource("bench").setHost(HOST).setContainerId("wedged")
          .setWindowStartMs(start).setWindowEndMs(end)
          .setRequests(1000).setTimeouts(w == spike ? 500 : 0).build());
    }
    for (int n = 0; n < NEIGHBOURS; n++) {
      publisher.publish(window("neighbour-" + n, start, end, 0.3, false));
      publisher.publish(UpstreamWindow.newBuilder().setSource("bench").setHost(HOST).setContainerId("neighbour-" + n)
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
    return ProfileWindow.newBuilder().setHost(HOST).setContainerId(container)
        .setWindowStartMs(start).setWindowEndMs(end).addAllStrings(frames).addStacks(stack)
        .setTotalWeight(weight).setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS).setSampleFrequencyHz(99)
        .build();
  }

  private static KafkaConsumer<byte[], byte[]> alertConsumer(EmbeddedKafka kafka, String topic) {
    Properties props = kafka.clientProperties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
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
