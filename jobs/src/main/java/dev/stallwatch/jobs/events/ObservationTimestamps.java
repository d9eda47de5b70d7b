package dev.stallwatch.jobs.events;

import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;

/**
 * Event time of an observation: window start for windows, event time for traffic events.
 * Dead letters get {@link Long#MIN_VALUE} so they never move a watermark (their Kafka timestamp
 * says nothing about the event time of the data around them).
 */
public final class ObservationTimestamps implements SerializableTimestampAssigner<Observation> {

  @Override
  public long extractTimestamp(Observation observation, long recordTimestamp) {
    return observation.isDeadLetter() ? Long.MIN_VALUE : observation.eventTime;
  }
}
