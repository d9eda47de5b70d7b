package dev.stallwatch.jobs.events;

import dev.stallwatch.jobs.JobMetrics;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Passes decoded observations on and sends dead letters to {@link #DEAD_LETTERS}, counting them
 * in total and per {@link DeadLetterReason}.
 */
public final class DeadLetterRouter extends ProcessFunction<Observation, Observation> {

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

  private transient Counter deadLetters;
  private transient Map<DeadLetterReason, Counter> byReason;

  @Override
  public void open(OpenContext openContext) {
    MetricGroup group = getRuntimeContext().getMetricGroup();
    deadLetters = group.counter(JobMetrics.DEAD_LETTERS);
    // every reason registered at once, so each series exists (at 0) before the first bad record
    byReason = new EnumMap<>(DeadLetterReason.class);
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      byReason.put(reason, group.addGroup(JobMetrics.DEAD_LETTER_REASON, reason.label())
          .counter(JobMetrics.DEAD_LETTERS_BY_REASON));
    }
  }

  @Override
  public void processElement(Observation observation, Context ctx, Collector<Observation> out) {
    if (observation.isDeadLetter()) {
      DeadLetterReason reason = observation.deadLetter.reason == null
          ? DeadLetterReason.UNDECODABLE : observation.deadLetter.reason;
      deadLetters.inc();
      byReason.get(reason).inc();
      ctx.output(DEAD_LETTERS, observation.deadLetter);
    } else {
      out.collect(observation);
    }
  }
}
