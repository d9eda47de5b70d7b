package dev.stallwatch.jobs.events;

import dev.stallwatch.jobs.JobMetrics;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Passes decoded observations on and sends dead letters to {@link #DEAD_LETTERS}, counting them. */
public final class DeadLetterRouter extends ProcessFunction<Observation, Observation> {

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

  private transient Counter deadLetters;

  @Override
  public void open(OpenContext openContext) {
    deadLetters = getRuntimeContext().getMetricGroup().counter(JobMetrics.DEAD_LETTERS);
  }

  @Override
  public void processElement(Observation observation, Context ctx, Collector<Observation> out) {
    if (observation.isDeadLetter()) {
      deadLetters.inc();
      ctx.output(DEAD_LETTERS, observation.deadLetter);
    } else {
      out.collect(observation);
    }
  }
}
