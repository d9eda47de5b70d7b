package dev.stallwatch.jobs.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.jobs.JobMetrics;
import dev.stallwatch.jobs.testing.CapturedMetrics;
import java.util.List;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class DeadLetterRouterTest {

  @Test
  @SuppressWarnings("try")
  void deadLettersGoToTheSideOutputAndAreCounted() throws Exception {
    CapturedMetrics metrics = new CapturedMetrics();
    try (MockEnvironment env = new MockEnvironmentBuilder().setMetricGroup(metrics.taskGroup()).build();
        OneInputStreamOperatorTestHarness<Observation, Observation> harness =
            new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new DeadLetterRouter()), env)) {
      harness.open();
      DeadLetter letter = new DeadLetter();
      letter.topic = "stallwatch.profiles.v1";
      letter.error = "boom";
      letter.reason = DeadLetterReason.FUTURE;
      UpstreamCount upstream = new UpstreamCount();
      upstream.windowStartMs = 10_000;

      harness.processElement(Observation.of(letter), 1L);
      harness.processElement(Observation.of(upstream, "c-1"), 10_000L);

      assertThat(harness.extractOutputValues()).extracting(o -> o.kind)
          .containsExactly(Observation.Kind.UPSTREAM);
      assertThat(harness.getSideOutput(DeadLetterRouter.DEAD_LETTERS)).extracting(StreamRecord::getValue)
          .extracting(d -> d.error).isEqualTo(List.of("boom"));
      assertThat(metrics.value(JobMetrics.DEAD_LETTERS)).isEqualTo(1);
      assertThat(metrics.value(JobMetrics.DEAD_LETTER_REASON, "future", JobMetrics.DEAD_LETTERS_BY_REASON))
          .isEqualTo(1);
      // every reason's series exists before its first record
      assertThat(metrics.value(JobMetrics.DEAD_LETTER_REASON, "number", JobMetrics.DEAD_LETTERS_BY_REASON))
          .isZero();
    }
  }
}
