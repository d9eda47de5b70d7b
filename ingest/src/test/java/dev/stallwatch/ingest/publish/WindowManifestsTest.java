package dev.stallwatch.ingest.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WindowManifestsTest {
  private static final long W = 10_000;
  private static final long T0 = 1_772_420_400_000L; // a window start
  private static final Duration DELAY = Duration.ofSeconds(3);

  /** A clock the test moves. */
  private static final class TestClock extends Clock {
    long now = T0;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now);
    }
  }

  /** Keeps everything, in order. */
  private static final class Recording implements EventSink {
    final List<Object> published = new ArrayList<>();

    @Override
    public synchronized void publish(ProfileWindow window) {
      published.add(window);
    }

    @Override
    public synchronized void publish(UpstreamWindow window) {
      published.add(window);
    }

    @Override
    public synchronized void publish(TrafficEvent event) {
      published.add(event);
    }

    @Override
    public synchronized void publish(WindowManifest manifest) {
      published.add(manifest);
    }

    synchronized List<WindowManifest> manifests() {
      return published.stream().filter(WindowManifest.class::isInstance).map(WindowManifest.class::cast).toList();
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  private final TestClock clock = new TestClock();
  private final Recording sink = new Recording();
  private final WindowManifests manifests =
      new WindowManifests(sink, "node-a", Duration.ofMillis(W), DELAY, Duration.ofSeconds(30), clock);

  @Test
  void aWindowsManifestListsWhatWasPublishedAndComesAfterTheDelay() {
    manifests.tick(); // the first tick starts at the current window
    manifests.publish(profile("c-1", T0));
    manifests.publish(upstream("c-1", T0, "nginx"));
    manifests.publish(upstream("c-1", T0, "envoy"));
    manifests.publish(upstream("c-2", T0, "nginx"));

    clock.now = T0 + W + DELAY.toMillis() - 1;
    manifests.tick();
    assertThat(sink.manifests()).isEmpty();

    clock.now = T0 + W + DELAY.toMillis();
    manifests.tick();
    assertThat(sink.manifests()).extracting(WindowManifest::getContainerId, WindowManifest::getProfile,
            WindowManifest::getUpstreamSourcesList)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("c-1", true, List.of("envoy", "nginx")),
            org.assertj.core.groups.Tuple.tuple("c-2", false, List.of("nginx")));
    assertThat(sink.manifests()).allSatisfy(m -> {
      assertThat(m.getHost()).isEqualTo("node-a");
      assertThat(m.getWindowStartMs()).isEqualTo(T0);
      assertThat(m.getWindowEndMs()).isEqualTo(T0 + W);
    });
    // the data itself went through, before its manifest
    assertThat(sink.published.subList(0, 4)).noneMatch(WindowManifest.class::isInstance);
    assertThat(manifests.manifestsSent()).isEqualTo(2);
  }

  @Test
  void aContainerGetsEmptyManifestsForAWhileAfterItsLastDataThenNone() {
    manifests.tick();
    manifests.publish(profile("c-1", T0));
    for (int i = 1; i <= 5; i++) {
      clock.now = T0 + i * W + DELAY.toMillis();
      manifests.tick();
    }
    // its window, then empty ones while it is within keep-reporting (30 s), then nothing
    assertThat(sink.manifests()).extracting(WindowManifest::getWindowStartMs, WindowManifest::getProfile)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(T0, true),
            org.assertj.core.groups.Tuple.tuple(T0 + W, false),
            org.assertj.core.groups.Tuple.tuple(T0 + 2 * W, false));
  }

  @Test
  void windowsPublishedAfterTheirManifestAreSentAndCounted() {
    manifests.tick();
    clock.now = T0 + W + DELAY.toMillis();
    manifests.tick();
    manifests.publish(profile("c-1", T0));

    assertThat(sink.published).hasSize(1).first().isInstanceOf(ProfileWindow.class);
    assertThat(manifests.latePublications()).isEqualTo(1);
  }

  @Test
  void finishSendsTheManifestsOfEveryWindowNotedFromTheOldest() {
    WindowManifests replay = new WindowManifests(sink, "node-a", Duration.ofMillis(W), Duration.ZERO,
        Duration.ofMinutes(5), Clock.fixed(Instant.ofEpochMilli(T0 + 3_600_000), ZoneOffset.UTC));
    replay.publish(upstream("c-1", T0 + 2 * W, "replay:upstream.csv"));
    replay.publish(profile("c-1", T0));
    replay.finish();

    assertThat(sink.manifests()).extracting(WindowManifest::getWindowStartMs, WindowManifest::getProfile,
            m -> m.getUpstreamSourcesCount())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(T0, true, 0),
            org.assertj.core.groups.Tuple.tuple(T0 + W, false, 0),
            org.assertj.core.groups.Tuple.tuple(T0 + 2 * W, false, 1));
  }

  @Test
  void settingsAreChecked() {
    assertThatThrownBy(() -> new WindowManifests(sink, "h", Duration.ofMillis(W), Duration.ofMillis(W),
        Duration.ofMinutes(5), clock)).hasMessageContaining("manifest delay must be");
    assertThatThrownBy(() -> new WindowManifests(sink, " ", Duration.ofMillis(W), DELAY, Duration.ofMinutes(5), clock))
        .hasMessageContaining("host");
  }

  private static ProfileWindow profile(String container, long start) {
    return ProfileWindow.newBuilder().setHost("node-a").setContainerId(container)
        .setWindowStartMs(start).setWindowEndMs(start + W).build();
  }

  private static UpstreamWindow upstream(String container, long start, String source) {
    return UpstreamWindow.newBuilder().setHost("node-a").setSource(source).setContainerId(container)
        .setWindowStartMs(start).setWindowEndMs(start + W).setRequests(10).build();
  }
}
