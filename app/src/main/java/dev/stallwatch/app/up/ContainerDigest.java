package dev.stallwatch.app.up;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stallwatch.schemas.v1.ProfileWindow;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What {@code stallwatch up} prints while it runs: per 10 s window, one line naming the containers
 * the collectors published profile windows for, busiest first, with their CPU and runtime. Reads
 * the profiles topic from its end without a consumer group, so it commits nothing.
 */
public final class ContainerDigest implements AutoCloseable {
  /** A window is printed once this long has passed without a newer window arriving. */
  private static final Duration LINGER = Duration.ofSeconds(3);
  private static final int SHOWN = 8;
  private static final int MAX_WINDOWS = 16;

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String topic;
  private final PrintStream out;
  private final Thread thread;
  private final TreeMap<Long, Map<String, ProfileWindow>> windows = new TreeMap<>();
  private long lastArrivalMs;
  private long malformed;

  public ContainerDigest(String bootstrapServers, Properties clientProperties, String topic, PrintStream out) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.out = Objects.requireNonNull(out, "out");
    Properties props = new Properties();
    props.putAll(clientProperties);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "stallwatch-up-digest");
    props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20);
    this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.thread = new Thread(this::run, "stallwatch-up-digest");
    thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  private void run() {
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      while (!Thread.currentThread().isInterrupted()) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
          accept(record.value());
        }
        printDue(System.currentTimeMillis());
      }
    } catch (WakeupException e) {
      // close()
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void accept(byte[] value) {
    ProfileWindow window;
    try {
      window = ProfileWindow.parseFrom(value);
    } catch (InvalidProtocolBufferException | NullPointerException e) {
      malformed++;
      return;
    }
    windows.computeIfAbsent(window.getWindowStartMs(), k -> new HashMap<>())
        .put(window.getHost() + "/" + window.getContainerId(), window);
    while (windows.size() > MAX_WINDOWS) {
      windows.pollFirstEntry();
    }
    lastArrivalMs = System.currentTimeMillis();
  }

  /** Every window but the newest is complete; the newest once nothing arrived for a while. */
  private void printDue(long nowMs) {
    while (windows.size() > 1 || (!windows.isEmpty() && nowMs - lastArrivalMs > LINGER.toMillis())) {
      var entry = windows.pollFirstEntry();
      out.println(line(entry.getKey(), entry.getValue().values()));
      out.flush();
    }
  }

  static String line(long windowStartMs, java.util.Collection<ProfileWindow> containers) {
    List<ProfileWindow> busiest = new ArrayList<>(containers);
    busiest.sort(Comparator.comparingDouble(ContainerDigest::cores).reversed()
        .thenComparing(ProfileWindow::getContainerId));
    TreeSet<String> hosts = new TreeSet<>();
    containers.forEach(w -> hosts.add(w.getHost()));
    StringBuilder line = new StringBuilder()
        .append(Instant.ofEpochMilli(windowStartMs)).append("  ")
        .append(containers.size()).append(containers.size() == 1 ? " container" : " containers")
        .append(" on ").append(String.join(",", hosts)).append(':');
    for (int i = 0; i < Math.min(SHOWN, busiest.size()); i++) {
      ProfileWindow w = busiest.get(i);
      String id = w.getContainerId();
      line.append(i == 0 ? " " : " | ").append(id.startsWith("cgroup:") || id.length() <= 12 ? id : id.substring(0, 12))
          .append(String.format(" %.2f cores", cores(w)));
      if (!w.getRuntime().getVersion().isEmpty()) {
        line.append(' ').append(w.getRuntime().getVersion());
      }
      if (!w.getPod().isEmpty()) {
        line.append(' ').append(w.getNamespace()).append('/').append(w.getPod());
      }
    }
    if (busiest.size() > SHOWN) {
      line.append(" | +").append(busiest.size() - SHOWN).append(" more");
    }
    return line.toString();
  }

  /** cgroup CPU over the window; without it, the samples at the window's sampling frequency. */
  static double cores(ProfileWindow w) {
    double seconds = Math.max(1, w.getWindowEndMs() - w.getWindowStartMs()) / 1000.0;
    if (w.hasCgroupCpuNs()) {
      return w.getCgroupCpuNs() / 1e9 / seconds;
    }
    double hz = w.getSampleFrequencyHz() > 0 ? w.getSampleFrequencyHz() : 99.0;
    return w.getSampleCount() / hz / seconds;
  }

  long malformed() {
    return malformed;
  }

  @Override
  public void close() {
    consumer.wakeup();
    try {
      thread.join(Duration.ofSeconds(5).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
