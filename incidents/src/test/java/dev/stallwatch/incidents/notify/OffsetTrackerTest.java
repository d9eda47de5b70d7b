package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
  private static final TopicPartition P0 = new TopicPartition("stallwatch.alerts.v1", 0);
  private static final TopicPartition P1 = new TopicPartition("stallwatch.alerts.v1", 1);

  @Test
  void commitsStopAtTheFirstAlertStillInFlight() {
    OffsetTracker tracker = new OffsetTracker();
    OffsetTracker.Partition p0 = tracker.track(P0, 5);
    tracker.track(P0, 7);
    tracker.track(P0, 8);
    assertThat(tracker.committable()).isEmpty();
    assertThat(tracker.inFlight()).isEqualTo(3);

    p0.done(7);
    p0.done(8);
    assertThat(tracker.committable()).as("7 and 8 are done but 5 is not").isEmpty();

    p0.done(5);
    assertThat(tracker.committable()).isEqualTo(Map.of(P0, new OffsetAndMetadata(9)));
    assertThat(tracker.inFlight()).isZero();
    tracker.committed(Map.of(P0, new OffsetAndMetadata(9)));
    assertThat(tracker.committable()).isEmpty();
  }

  @Test
  void partitionsCommitIndependently() {
    OffsetTracker tracker = new OffsetTracker();
    OffsetTracker.Partition p0 = tracker.track(P0, 0);
    OffsetTracker.Partition p1 = tracker.track(P1, 3);
    tracker.track(P1, 4);
    p1.done(3);
    assertThat(tracker.committable()).isEqualTo(Map.of(P1, new OffsetAndMetadata(4)));
    p0.done(0);
    assertThat(tracker.committable()).containsEntry(P0, new OffsetAndMetadata(1));
  }

  @Test
  void forgottenPartitionsNeitherCommitNorCount() throws Exception {
    OffsetTracker tracker = new OffsetTracker();
    OffsetTracker.Partition p0 = tracker.track(P0, 0);
    tracker.track(P1, 0);
    tracker.forget(List.of(P0));
    assertThat(tracker.inFlight()).isEqualTo(1);
    p0.done(0);
    assertThat(tracker.inFlight()).isEqualTo(1);
    assertThat(tracker.committable()).isEmpty();
    assertThat(tracker.awaitNoneInFlight(System.nanoTime())).isFalse();
  }
}
