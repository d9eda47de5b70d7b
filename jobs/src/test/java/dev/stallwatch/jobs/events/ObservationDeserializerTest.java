package dev.stallwatch.jobs.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.WeightUnit;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ObservationDeserializerTest {

  private static final byte[] KEY = "c-1".getBytes(StandardCharsets.UTF_8);
  /** The job's processing time in these tests. */
  private static final Instant NOW = Instant.parse("2026-03-02T03:10:00Z");
  private static final long T = NOW.toEpochMilli() - 60_000;
  private static final InputLimits LIMITS =
      InputLimits.of(DetectorOptions.defaults(), Clock.fixed(NOW, ZoneOffset.UTC));
  private static final long YEAR_2100 = Instant.parse("2100-01-01T00:00:00Z").toEpochMilli();

  @Test
  void garbageBecomesADeadLetterWithItsOrigin() {
    byte[] garbage = "this is not protobuf".getBytes(StandardCharsets.UTF_8);

    Observation o = decode(PROFILES, "stallwatch.profiles.v1", garbage);

    assertThat(o.kind).isEqualTo(Observation.Kind.DEAD_LETTER);
    assertThat(o.deadLetter.topic).isEqualTo("stallwatch.profiles.v1");
    assertThat(o.deadLetter.partition).isEqualTo(1);
    assertThat(o.deadLetter.offset).isEqualTo(42);
    assertThat(o.deadLetter.key).isEqualTo(KEY);
    assertThat(o.deadLetter.value).isEqualTo(garbage);
    assertThat(o.deadLetter.error).startsWith("InvalidProtocolBufferException: ");
    assertThat(o.deadLetter.reason).isEqualTo(DeadLetterReason.UNDECODABLE);
  }

  @Test
  void windowManifestsDecodeAndBrokenOnesAreDeadLetters() {
    byte[] manifest = WindowManifest.newBuilder().setHost("node-a").setContainerId("c-1")
        .setWindowStartMs(T).setWindowEndMs(T + 10_000).setProfile(true).addUpstreamSources("nginx")
        .build().toByteArray();
    Observation o = decode(ObservationDeserializer.manifests().withLimits(LIMITS), "stallwatch.completeness.v1", manifest);
    assertThat(o.kind).isEqualTo(Observation.Kind.MANIFEST);
    assertThat(o.containerId).isEqualTo("c-1");
    assertThat(o.eventTime).isEqualTo(T);
    assertThat(o.manifest.host).isEqualTo("node-a");
    assertThat(o.manifest.profile).isTrue();
    assertThat(o.manifest.upstreamSources).containsExactly("nginx");

    byte[] noHost = WindowManifest.newBuilder().setContainerId("c-1").setWindowStartMs(T).setWindowEndMs(T + 10_000)
        .build().toByteArray();
    assertThat(decode(ObservationDeserializer.manifests().withLimits(LIMITS), "m", noHost).deadLetter.error)
        .isEqualTo("WindowManifest without host");
    WindowManifest.Builder many = WindowManifest.newBuilder().setHost("h").setContainerId("c-1")
        .setWindowStartMs(T).setWindowEndMs(T + 10_000);
    for (int i = 0; i <= ObservationDeserializer.MAX_MANIFEST_SOURCES; i++) {
      many.addUpstreamSources("s" + i);
    }
    assertThat(decode(ObservationDeserializer.manifests().withLimits(LIMITS), "m", many.build().toByteArray()).deadLetter.error)
        .contains("more than " + ObservationDeserializer.MAX_MANIFEST_SOURCES);
  }

  @Test
  void emptyValuesAndBrokenContractsAreDeadLetters() {
    assertThat(decode(UPSTREAM, "u", null).deadLetter.error)
        .isEqualTo("empty value (tombstone?)");
    byte[] noAction = TrafficEvent.newBuilder().setContainerId("c-1").setTimestampMs(T).build().toByteArray();
    assertThat(decode(TRAFFIC, "t", noAction).deadLetter.error)
        .isEqualTo("TrafficEvent action 0: expected DRAINED or RESTORED");
    byte[] noContainer = UpstreamWindow.newBuilder().setWindowStartMs(T).setWindowEndMs(T + 1).build().toByteArray();
    assertThat(decode(UPSTREAM, "u", noContainer).deadLetter.error)
        .isEqualTo("UpstreamWindow without container_id");
  }

  @Test
  void decodesUpstreamWindowsAndTrafficEvents() {
    byte[] upstream = UpstreamWindow.newBuilder().setSource("envoy").setContainerId("c-1")
        .setWindowStartMs(T).setWindowEndMs(T + 10_000).setRequests(900).setTimeouts(45).build().toByteArray();
    Observation u = decode(UPSTREAM, "u", upstream);
    assertThat(u.kind).isEqualTo(Observation.Kind.UPSTREAM);
    assertThat(u.containerId).isEqualTo("c-1");
    assertThat(u.eventTime).isEqualTo(T);
    assertThat(u.upstream.requests).isEqualTo(900);
    assertThat(u.upstream.timeouts).isEqualTo(45);

    byte[] traffic = TrafficEvent.newBuilder().setContainerId("c-1").setTimestampMs(T + 12_345)
        .setAction(TrafficAction.TRAFFIC_ACTION_DRAINED).setActor("lb-hook:haproxy-3").build().toByteArray();
    Observation t = decode(TRAFFIC, "t", traffic);
    assertThat(t.kind).isEqualTo(Observation.Kind.TRAFFIC);
    assertThat(t.eventTime).isEqualTo(T + 12_345);
    assertThat(t.traffic.action).isEqualTo(TrafficChange.Action.DRAINED);
    assertThat(t.traffic.actor).isEqualTo("lb-hook:haproxy-3");
  }

  @Test
  void deadLettersNeverMoveTheWatermark() {
    Observation dead = decode(UPSTREAM, "u", new byte[] {1, 2, 3});
    assertThat(new ObservationTimestamps().extractTimestamp(dead, 1_900_000_000_000L)).isEqualTo(Long.MIN_VALUE);
  }

  private static final ObservationDeserializer UPSTREAM = ObservationDeserializer.upstream().withLimits(LIMITS);
  private static final ObservationDeserializer TRAFFIC = ObservationDeserializer.traffic().withLimits(LIMITS);
  private static final ObservationDeserializer PROFILES =
      ObservationDeserializer.profiles(summarizer()).withLimits(LIMITS);

  @Test
  void aRecordFromTheYear2100IsADeadLetterOnEveryTopic() {
    Observation u = decode(UPSTREAM, "u", upstream(YEAR_2100, 100, 5).toByteArray());
    assertThat(u.deadLetter.reason).isEqualTo(DeadLetterReason.FUTURE);
    assertThat(u.deadLetter.error).isEqualTo("UpstreamWindow window_start_ms 2100-01-01T00:00:00Z is more than"
        + " input.max-future (600000 ms) ahead of processing time 2026-03-02T03:10:00Z");
    assertThat(new ObservationTimestamps().extractTimestamp(u, YEAR_2100)).isEqualTo(Long.MIN_VALUE);

    Observation p = decode(PROFILES, "p", profile(YEAR_2100).build().toByteArray());
    assertThat(p.deadLetter.reason).isEqualTo(DeadLetterReason.FUTURE);
    Observation t = decode(TRAFFIC, "t", TrafficEvent.newBuilder().setContainerId("c-1").setTimestampMs(YEAR_2100)
        .setAction(TrafficAction.TRAFFIC_ACTION_DRAINED).build().toByteArray());
    assertThat(t.deadLetter.reason).isEqualTo(DeadLetterReason.FUTURE);
    assertThat(t.deadLetter.error).startsWith("TrafficEvent timestamp_ms 2100-01-01T00:00:00Z is more than");
  }

  @Test
  void theFutureLimitIsAnOption() {
    long inFiveMinutes = NOW.toEpochMilli() + 5 * 60_000;
    assertThat(decode(UPSTREAM, "u", upstream(inFiveMinutes, 100, 5).toByteArray()).kind)
        .isEqualTo(Observation.Kind.UPSTREAM);
    InputLimits strict = InputLimits.of(DetectorOptions.fromMap(Map.of("input.max-future", "1m")),
        Clock.fixed(NOW, ZoneOffset.UTC));
    assertThat(decode(ObservationDeserializer.upstream().withLimits(strict), "u",
        upstream(inFiveMinutes, 100, 5).toByteArray()).deadLetter.reason).isEqualTo(DeadLetterReason.FUTURE);
    // a window that ends too far ahead is refused too
    assertThat(decode(UPSTREAM, "u", upstream(T, 100, 5).toBuilder().setWindowEndMs(YEAR_2100).build()
        .toByteArray()).deadLetter.error).startsWith("UpstreamWindow window_end_ms 2100-01-01T00:00:00Z");
  }

  @Test
  void recordsTooFarInThePastAreDeadLetters() {
    Observation epoch = decode(UPSTREAM, "u", upstream(10_000, 100, 5).toByteArray());
    assertThat(epoch.deadLetter.reason).isEqualTo(DeadLetterReason.PAST);
    assertThat(epoch.deadLetter.error).isEqualTo("UpstreamWindow window_start_ms 10000 is before 2000-01-01");
    Observation negative = decode(TRAFFIC, "t", TrafficEvent.newBuilder().setContainerId("c-1").setTimestampMs(-5)
        .setAction(TrafficAction.TRAFFIC_ACTION_DRAINED).build().toByteArray());
    assertThat(negative.deadLetter.reason).isEqualTo(DeadLetterReason.PAST);

    long aWeekAgo = NOW.toEpochMilli() - 7 * 24 * 3_600_000L;
    assertThat(decode(UPSTREAM, "u", upstream(aWeekAgo, 100, 5).toByteArray()).kind)
        .as("no age limit by default: replays read old captures").isEqualTo(Observation.Kind.UPSTREAM);
    InputLimits oneDay = InputLimits.of(DetectorOptions.fromMap(Map.of("input.max-age", "1d")),
        Clock.fixed(NOW, ZoneOffset.UTC));
    Observation old = decode(ObservationDeserializer.upstream().withLimits(oneDay), "u",
        upstream(aWeekAgo, 100, 5).toByteArray());
    assertThat(old.deadLetter.reason).isEqualTo(DeadLetterReason.PAST);
    assertThat(old.deadLetter.error).contains("is more than input.max-age (86400000 ms) before processing time");
  }

  static List<Object[]> badNumbers() {
    return List.of(
        new Object[] {"upstream", upstream(T, -1, 0).toByteArray(), "UpstreamWindow requests is negative: -1"},
        new Object[] {"upstream", upstream(T, 10, -3).toByteArray(), "UpstreamWindow timeouts is negative: -3"},
        new Object[] {"upstream", upstream(T, 10, 11).toByteArray(), "UpstreamWindow timeouts 11 exceed requests 10"},
        new Object[] {"profiles", profile(T).setSampleFrequencyHz(Double.NaN).build().toByteArray(),
            "ProfileWindow sample_frequency_hz NaN: expected a finite number in [0, 1000000]"},
        new Object[] {"profiles", profile(T).setSampleFrequencyHz(Double.POSITIVE_INFINITY).build().toByteArray(),
            "ProfileWindow sample_frequency_hz Infinity: expected a finite number in [0, 1000000]"},
        new Object[] {"profiles", profile(T).setSampleFrequencyHz(-99).build().toByteArray(),
            "ProfileWindow sample_frequency_hz -99.0: expected a finite number in [0, 1000000]"},
        new Object[] {"profiles", profile(T).setTotalWeight(-1).build().toByteArray(),
            "ProfileWindow total_weight is negative: -1"},
        new Object[] {"profiles", profile(T).setSampleCount(-7).build().toByteArray(),
            "ProfileWindow sample_count is negative: -7"},
        new Object[] {"profiles", profile(T).setCgroupCpuNs(-1).build().toByteArray(),
            "ProfileWindow cgroup_cpu_ns is negative: -1"},
        new Object[] {"profiles", profile(T).setStacks(0, Stack.newBuilder().addFrames(0).setWeight(-10)).build()
            .toByteArray(), "ProfileWindow stack 0 has a negative weight"},
        new Object[] {"profiles", profile(T).setStacks(0, Stack.newBuilder().addFrames(0).setWeight(5).setSamples(-1))
            .build().toByteArray(), "ProfileWindow stack 0 samples is negative: -1"},
        new Object[] {"profiles", profile(T).addStacks(Stack.newBuilder().addFrames(0).setWeight(Long.MAX_VALUE))
            .build().toByteArray(), "ProfileWindow stack weights overflow"},
        new Object[] {"profiles", profile(T).setWeightUnit(WeightUnit.WEIGHT_UNIT_SAMPLES).setSampleFrequencyHz(0.001)
            .setTotalWeight(Long.MAX_VALUE / 2).build().toByteArray(),
            "ProfileWindow weight 4611686018427387903 samples is out of range"});
  }

  @ParameterizedTest(name = "{0}: {2}")
  @MethodSource("badNumbers")
  void negativeNonFiniteAndInconsistentNumbersAreDeadLetters(String topic, byte[] value, String error) {
    ObservationDeserializer deserializer = topic.equals("upstream") ? UPSTREAM : PROFILES;
    Observation o = decode(deserializer, topic, value);
    assertThat(o.kind).isEqualTo(Observation.Kind.DEAD_LETTER);
    assertThat(o.deadLetter.reason).isEqualTo(DeadLetterReason.NUMBER);
    assertThat(o.deadLetter.error).isEqualTo(error);
  }

  @Test
  void aValidProfileWindowDecodes() {
    Observation o = decode(PROFILES, "p", profile(T).build().toByteArray());
    assertThat(o.kind).isEqualTo(Observation.Kind.PROFILE);
    assertThat(o.profile.cpuCores).isEqualTo(1.0);
  }

  @Test
  void overlongContainerIdsAreDeadLetters() {
    byte[] value = upstream(T, 10, 1).toBuilder().setContainerId("c".repeat(257)).build().toByteArray();
    Observation o = decode(UPSTREAM, "u", value);
    assertThat(o.deadLetter.reason).isEqualTo(DeadLetterReason.CONTRACT);
    assertThat(o.deadLetter.error).isEqualTo("UpstreamWindow container_id of 257 characters: at most 256");
  }

  private static UpstreamWindow upstream(long start, long requests, long timeouts) {
    return UpstreamWindow.newBuilder().setSource("envoy").setContainerId("c-1")
        .setWindowStartMs(start).setWindowEndMs(start + 10_000).setRequests(requests).setTimeouts(timeouts).build();
  }

  /** One core for 10 s in one stack. */
  private static ProfileWindow.Builder profile(long start) {
    return ProfileWindow.newBuilder().setHost("h").setContainerId("c-1")
        .setWindowStartMs(start).setWindowEndMs(start + 10_000)
        .addStrings("main.main").setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS)
        .setTotalWeight(10_000_000_000L).setSampleCount(990).setSampleFrequencyHz(99)
        .addStacks(Stack.newBuilder().addFrames(0).setWeight(10_000_000_000L).setSamples(990));
  }

  private static ProfileSummarizer summarizer() {
    return new ProfileSummarizer(SignatureRules.defaults(), 10, 99.0);
  }

  private static Observation decode(ObservationDeserializer deserializer, String topic, byte[] value) {
    List<Observation> out = new ArrayList<>();
    deserializer.deserialize(new ConsumerRecord<>(topic, 1, 42, KEY, value), new Collector<>() {
      @Override
      public void collect(Observation record) {
        out.add(record);
      }

      @Override
      public void close() {}
    });
    assertThat(out).hasSize(1);
    return out.get(0);
  }
}
