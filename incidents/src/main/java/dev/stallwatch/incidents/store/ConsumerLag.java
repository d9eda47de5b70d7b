package dev.stallwatch.incidents.store;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer's lag as it sees it: records between its position and the end of each assigned
 * partition (the last stable offset under {@code read_committed}), summed. Its ingestors commit
 * every batch they keep, so the position is the committed offset except while a batch is in
 * flight or rewound for a retry. Read on the consumer's own thread; the consumer is not
 * thread-safe, so a scrape reads the last value the ingestor stored.
 */
public final class ConsumerLag {
  private ConsumerLag() {}

  /**
   * Empty while the consumer has no partition (before it joined its group) or has not fetched
   * from any yet: unknown, not zero.
   */
  public static OptionalLong of(Consumer<?, ?> consumer) {
    Set<TopicPartition> assigned = consumer.assignment();
    long sum = 0;
    boolean known = false;
    for (TopicPartition partition : assigned) {
      OptionalLong lag = consumer.currentLag(partition);
      if (lag.isPresent()) {
        sum += lag.getAsLong();
        known = true;
      }
    }
    return known ? OptionalLong.of(sum) : OptionalLong.empty();
  }

  /**
   * Registers a gauge that reads {@code lag} (an ingestor's {@code lagRecords()}) at scrape time;
   * absent while the lag is unknown.
   */
  public static void registerGauge(PrometheusRegistry registry, String name, String help, Supplier<OptionalLong> lag) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(callback -> lag.get().ifPresent(value -> callback.call(value)))
        .register(registry);
  }
}
