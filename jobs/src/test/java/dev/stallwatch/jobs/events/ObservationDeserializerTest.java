package dev.stallwatch.jobs.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class ObservationDeserializerTest {

  private static final byte[] KEY = "c-1".getBytes(StandardCharsets.UTF_8);

  @Test
  void garbageBecomesADeadLetterWithItsOrigin() {
    byte[] garbage = "this is not protobuf".getBytes(StandardCharsets.UTF_8);

    Observation o = decode(ObservationDeserializer.profiles(summarizer()), "stallwatch.profiles.v1", garbage);

    assertThat(o.kind).isEqualTo(Observation.Kind.DEAD_LETTER);
    assertThat(o.deadLetter.topic).isEqualTo("stallwatch.profiles.v1");
    assertThat(o.deadLetter.partition).isEqualTo(1);
    assertThat(o.deadLetter.offset).isEqualTo(42);
    assertThat(o.deadLetter.key).isEqualTo(KEY);
    assertThat(o.deadLetter.value).isEqualTo(garbage);
    assertThat(o.deadLetter.error).startsWith("InvalidProtocolBufferException: ");
  }

  @Test
  void windowManifestsDecodeAndBrokenOnesAreDeadLetters() {
    byte[] manifest = WindowManifest.newBuilder().setHost("node-a").setContainerId("c-1")
        .setWindowStartMs(10_000).setWindowEndMs(20_000).setProfile(true).addUpstreamSources("nginx")
        .build().toByteArray();
    Observation o = decode(ObservationDeserializer.manifests(), "stallwatch.completeness.v1", manifest);
    assertThat(o.kind).isEqualTo(Observation.Kind.MANIFEST);
    assertThat(o.containerId).isEqualTo("c-1");
    assertThat(o.eventTime).isEqualTo(10_000);
    assertThat(o.manifest.host).isEqualTo("node-a");
    assertThat(o.manifest.profile).isTrue();
    assertThat(o.manifest.upstreamSources).containsExactly("nginx");

    byte[] noHost = WindowManifest.newBuilder().setContainerId("c-1").setWindowStartMs(10_000).setWindowEndMs(20_000)
        .build().toByteArray();
    assertThat(decode(ObservationDeserializer.manifests(), "m", noHost).deadLetter.error)
        .isEqualTo("WindowManifest without container_id or host");
    WindowManifest.Builder many = WindowManifest.newBuilder().setHost("h").setContainerId("c-1")
        .setWindowStartMs(10_000).setWindowEndMs(20_000);
    for (int i = 0; i <= ObservationDeserializer.MAX_MANIFEST_SOURCES; i++) {
      many.addUpstreamSources("s" + i);
    }
    assertThat(decode(ObservationDeserializer.manifests(), "m", many.build().toByteArray()).deadLetter.error)
        .contains("more than " + ObservationDeserializer.MAX_MANIFEST_SOURCES);
  }

  @Test
  void emptyValuesAndBrokenContractsAreDeadLetters() {
    assertThat(decode(ObservationDeserializer.upstream(), "u", null).deadLetter.error)
        .isEqualTo("empty value (tombstone?)");
    byte[] noAction = TrafficEvent.newBuilder().setContainerId("c-1").setTimestampMs(1_000).build().toByteArray();
    assertThat(decode(ObservationDeserializer.traffic(), "t", noAction).deadLetter.error)
        .isEqualTo("TrafficEvent action 0: expected DRAINED or RESTORED");
    byte[] noContainer = UpstreamWindow.newBuilder().setWindowStartMs(1).setWindowEndMs(2).build().toByteArray();
    assertThat(decode(ObservationDeserializer.upstream(), "u", noContainer).deadLetter.error)
        .isEqualTo("UpstreamWindow without container_id");
  }

  @Test
  void decodesUpstreamWindowsAndTrafficEvents() {
    byte[] upstream = UpstreamWindow.newBuilder().setSource("envoy").setContainerId("c-1")
        .setWindowStartMs(10_000).setWindowEndMs(20_000).setRequests(900).setTimeouts(45).build().toByteArray();
    Observation u = decode(ObservationDeserializer.upstream(), "u", upstream);
    assertThat(u.kind).isEqualTo(Observation.Kind.UPSTREAM);
    assertThat(u.containerId).isEqualTo("c-1");
    assertThat(u.eventTime).isEqualTo(10_000);
    assertThat(u.upstream.requests).isEqualTo(900);
    assertThat(u.upstream.timeouts).isEqualTo(45);

    byte[] traffic = TrafficEvent.newBuilder().setContainerId("c-1").setTimestampMs(12_345)
        .setAction(TrafficAction.TRAFFIC_ACTION_DRAINED).setActor("lb-hook:haproxy-3").build().toByteArray();
    Observation t = decode(ObservationDeserializer.traffic(), "t", traffic);
    assertThat(t.kind).isEqualTo(Observation.Kind.TRAFFIC);
    assertThat(t.eventTime).isEqualTo(12_345);
    assertThat(t.traffic.action).isEqualTo(TrafficChange.Action.DRAINED);
    assertThat(t.traffic.actor).isEqualTo("lb-hook:haproxy-3");
  }

  @Test
  void deadLettersNeverMoveTheWatermark() {
    Observation dead = decode(ObservationDeserializer.upstream(), "u", new byte[] {1, 2, 3});
    assertThat(new ObservationTimestamps().extractTimestamp(dead, 1_900_000_000_000L)).isEqualTo(Long.MIN_VALUE);
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
