package dev.stallwatch.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectorOptionsTest {

  @TempDir
  Path dir;

  @Test
  void defaultsAreTheDocumentedNumbers() {
    DetectorOptions o = DetectorOptions.defaults();
    assertThat(o.toMap()).containsAllEntriesOf(Map.ofEntries(
        Map.entry("window.size", "10s"),
        Map.entry("spike.min-timeouts", "10"),
        Map.entry("spike.min-timeout-ratio", "0.05"),
        Map.entry("drain.max-delay", "15m"),
        Map.entry("drain.max-request-ratio", "0.02"),
        Map.entry("drain.baseline", "5m"),
        Map.entry("stuck.min-cores", "0.5"),
        Map.entry("stuck.min-cpu-ratio", "0.5"),
        Map.entry("stuck.sustain", "1m"),
        Map.entry("resolve.healthy-windows", "3"),
        Map.entry("resolve.silence", "5m"),
        Map.entry("watermark.out-of-orderness", "30s"),
        Map.entry("watermark.idleness", "1m")));
    assertThat(o.stuckWindowsToAlert()).isEqualTo(6);
    assertThat(o.windowSizeMs()).isEqualTo(10_000);
    assertThat(o.get(DetectorOptions.DRAIN_MAX_DELAY)).isEqualTo(Duration.ofMinutes(15));
  }

  @Test
  void fromMapOverridesAndRoundTrips() {
    DetectorOptions o = DetectorOptions.fromMap(Map.of("stuck.sustain", "90s", "spike.min-timeouts", "25",
        "stuck.min-cores", "1.5", "window.size", "5000ms"));
    assertThat(o.stuckWindowsToAlert()).isEqualTo(18);
    assertThat(o.spikeMinTimeouts()).isEqualTo(25);
    assertThat(o.stuckMinCores()).isEqualTo(1.5);
    assertThat(DetectorOptions.fromMap(o.toMap())).isEqualTo(o);
    assertThat(o.withOverrides(Map.of("spike.min-timeouts", "10")).spikeMinTimeouts()).isEqualTo(10);
  }

  @Test
  void unknownKeyNamesTheKeyAndSuggestsTheRightOne() {
    assertThatThrownBy(() -> DetectorOptions.fromMap(Map.of("stuck.sustian", "60s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown option 'stuck.sustian'")
        .hasMessageContaining("did you mean stuck.sustain?");
  }

  @Test
  void badValuesNameTheKeyAndTheExpectedForm() {
    assertThatThrownBy(() -> DetectorOptions.fromMap(Map.of("window.size", "ten seconds")))
        .hasMessage("window.size: expected a duration such as 10s, 500ms, 15m or 1h, got 'ten seconds'");
    assertThatThrownBy(() -> DetectorOptions.fromMap(Map.of("window.size", "10")))
        .hasMessageContaining("window.size: expected a duration");
    assertThatThrownBy(() -> DetectorOptions.fromMap(Map.of("spike.min-timeout-ratio", "5")))
        .hasMessageContaining("spike.min-timeout-ratio: expected a ratio between 0 and 1");
    assertThatThrownBy(() -> DetectorOptions.fromMap(Map.of("resolve.healthy-windows", "three")))
        .hasMessageContaining("resolve.healthy-windows: expected an integer");
    assertThatThrownBy(() -> DetectorOptions.fromMap(Map.of("resolve.healthy-windows", "0")))
        .hasMessageContaining("resolve.healthy-windows: expected an integer >= 1");
    assertThatThrownBy(() -> DetectorOptions.fromMap(Map.of("stuck.sustain", "0s")))
        .hasMessageContaining("stuck.sustain: expected a duration > 0");
  }

  @Test
  void loadsPropertiesFiles() throws Exception {
    Path file = Files.writeString(dir.resolve("detector.properties"), """
            # faster alerts for the lab
            stuck.sustain = 30s
            spike.min-timeouts=5
            """);
    DetectorOptions o = DetectorOptions.load(file);
    assertThat(o.stuckWindowsToAlert()).isEqualTo(3);
    assertThat(o.spikeMinTimeouts()).isEqualTo(5);
    assertThat(o.drainMaxDelayMs()).isEqualTo(15 * 60_000);
  }

  @Test
  void loadsKeyValueLinesFromAnyOtherFile() throws Exception {
    Path file = Files.writeString(dir.resolve("detector.conf"), "stuck.sustain: 30s\nspike.min-timeouts = 5\n");
    DetectorOptions o = DetectorOptions.load(file);
    assertThat(o.stuckWindowsToAlert()).isEqualTo(3);
    assertThat(o.spikeMinTimeouts()).isEqualTo(5);
    assertThat(o.windowSize()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void loadsFlatAndNestedYaml() throws Exception {
    Path file = Files.writeString(dir.resolve("detector.yaml"), """
            stuck:
              sustain: 30s
              min-cores: 0.8
            drain.max-delay: 10m
            """);
    DetectorOptions o = DetectorOptions.load(file);
    assertThat(o.stuckWindowsToAlert()).isEqualTo(3);
    assertThat(o.stuckMinCores()).isEqualTo(0.8);
    assertThat(o.drainMaxDelayMs()).isEqualTo(10 * 60_000);
  }

  @Test
  void fileErrorsNameTheFileLineAndKey() throws Exception {
    Path yaml = Files.writeString(dir.resolve("bad.yaml"), """
            stuck:
              sustain: 30s
              min-cores: lots
            """);
    assertThatThrownBy(() -> DetectorOptions.load(yaml))
        .hasMessageContaining("options file " + yaml + " line 3: stuck.min-cores: expected a number of CPU cores");

    Path props = Files.writeString(dir.resolve("bad.properties"), "window.size=10s\nspike.min-timeoutz=3\n");
    assertThatThrownBy(() -> DetectorOptions.load(props))
        .hasMessageContaining("options file " + props + " line 2: unknown option 'spike.min-timeoutz'");

    Path noValue = Files.writeString(dir.resolve("novalue.properties"), "window.size\n");
    assertThatThrownBy(() -> DetectorOptions.load(noValue))
        .hasMessageContaining("line 1: expected key=value or key: value");

    Path list = Files.writeString(dir.resolve("list.yml"), "window.size: [10s]\n");
    assertThatThrownBy(() -> DetectorOptions.load(list))
        .hasMessageContaining("line 1: window.size: expected a single value");

    assertThatThrownBy(() -> DetectorOptions.load(dir.resolve("missing.yaml")))
        .hasMessageContaining("options file " + dir.resolve("missing.yaml") + ": cannot read it");

  }

  @Test
  void describeListsEveryKeyWithDefaultAndDescription() {
    String help = DetectorOptions.describe();
    for (DetectorOptions.Option<?> option : DetectorOptions.options()) {
      assertThat(help).contains(option.key() + "=" + option.formatDefault()).contains(option.description());
    }
  }

  @Test
  void isSerializable() throws Exception {
    DetectorOptions o = DetectorOptions.fromMap(Map.of("stuck.sustain", "30s"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    try (ObjectInputStream in = new ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
      assertThat(in.readObject()).isEqualTo(o);
    }
  }
}
