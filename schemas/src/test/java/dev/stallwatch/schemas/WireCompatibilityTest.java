package dev.stallwatch.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.apache.avro.message.BadHeaderException;
import org.junit.jupiter.api.Test;

/** Bytes written by schema v1 stay readable, field for field, by the schema in this build. */
class WireCompatibilityTest {

  private static byte[] fixture(String name) throws IOException {
    try (InputStream in = WireCompatibilityTest.class.getResourceAsStream("/wire/v1/" + name)) {
      assertThat(in).as("fixture %s", name).isNotNull();
      return in.readAllBytes();
    }
  }

  @Test
  void profileWindowV1StaysReadable() throws IOException {
    assertThat(ProfileWindow.parseFrom(fixture("ProfileWindow.bin"))).isEqualTo(WireFixtures.profileWindow());
  }

  @Test
  void upstreamWindowV1StaysReadable() throws IOException {
    assertThat(UpstreamWindow.parseFrom(fixture("UpstreamWindow.bin"))).isEqualTo(WireFixtures.upstreamWindow());
  }

  @Test
  void trafficEventV1StaysReadable() throws IOException {
    assertThat(TrafficEvent.parseFrom(fixture("TrafficEvent.bin"))).isEqualTo(WireFixtures.trafficEvent());
  }

  @Test
  void containerHealthV1StaysReadable() throws IOException {
    assertThat(ContainerHealth.parseFrom(fixture("ContainerHealth.bin"))).isEqualTo(WireFixtures.containerHealth());
  }

  @Test
  void deadlockAlertV1StaysReadableWithSingleObjectEncoding() throws IOException {
    byte[] bytes = fixture("DeadlockAlert.bin");
    // single-object encoding: C3 01 marker, then the 8-byte fingerprint of the writer's schema
    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    assertThat(DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(bytes))).isEqualTo(WireFixtures.deadlockAlert());
  }

  @Test
  void alertWithoutTheSingleObjectHeaderIsRejected() {
    byte[] raw = {0x02, 0x04, 0x06};
    assertThatThrownBy(() -> DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(raw))).isInstanceOf(BadHeaderException.class);
  }

  @Test
  void topicNamesAreTheDesignOnes() {
    assertThat(Topics.defaults().all()).containsExactly("stallwatch.profiles.v1", "stallwatch.upstream.v1",
        "stallwatch.traffic.v1", "stallwatch.alerts.v1", "stallwatch.deadletter.v1",
        "stallwatch.container-health.v1", "stallwatch.completeness.v1");
  }
}
