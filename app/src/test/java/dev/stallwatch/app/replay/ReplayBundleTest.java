package dev.stallwatch.app.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.schemas.v1.TrafficAction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayBundleTest {
  @TempDir
  Path dir;

  @BeforeEach
  void minimalBundle() throws IOException {
    Files.createDirectories(dir.resolve("perf/host-1"));
    Files.writeString(dir.resolve("perf/host-1/a.txt"), "");
    Files.writeString(dir.resolve("containers.csv"), "pid,container_id,host,pod,namespace\n42,c1,host-1,p,ns\n");
    Files.writeString(dir.resolve("upstream.csv"),
        "window_start_ms,window_end_ms,container_id,requests,timeouts\n1700000000000,1700000010000,c1,100,1\n");
  }

  @Test
  void readsAMinimalBundleWithDefaults() {
    ReplayBundle bundle = ReplayBundle.load(dir);
    assertThat(bundle.perfFilesByHost()).containsOnlyKeys("host-1");
    assertThat(bundle.containers()).containsKey(new ReplayBundle.HostPid("host-1", 42));
    assertThat(bundle.upstream()).singleElement().satisfies(w -> {
      assertThat(w.getRequests()).isEqualTo(100);
      assertThat(w.getTimeouts()).isEqualTo(1);
    });
    assertThat(bundle.traffic()).isEmpty();
    assertThat(bundle.cpu()).isEmpty();
    assertThat(bundle.sampleFrequencyHz()).isEqualTo(99);
  }

  @Test
  void columnsMayComeInAnyOrderWithQuotesAndExtraColumns() throws IOException {
    Files.writeString(dir.resolve("containers.csv"),
        "namespace,pod,host,container_id,pid,runtime\r\n\"ns\",\"pod, with comma\",host-1,c1,42,go1.14.1\r\n");
    ReplayBundle bundle = ReplayBundle.load(dir);
    var container = bundle.containers().get(new ReplayBundle.HostPid("host-1", 42));
    assertThat(container.pod()).isEqualTo("pod, with comma");
    assertThat(container.runtimeVersion()).isEqualTo("go1.14.1");
  }

  @Test
  void readsOptionalFiles() throws IOException {
    Files.writeString(dir.resolve("traffic.csv"), "timestamp_ms,container_id,event\n1700000005000,c1,drained\n1700000009000,c1,RESTORED\n");
    Files.writeString(dir.resolve("cpu.csv"), "window_start_ms,window_end_ms,container_id,cpu_seconds\n1700000000000,1700000010000,c1,9.5\n");
    Files.writeString(dir.resolve("meta.json"), "{\"sample_frequency_hz\": 49}");
    ReplayBundle bundle = ReplayBundle.load(dir);
    assertThat(bundle.traffic()).extracting(e -> e.getAction())
        .containsExactly(TrafficAction.TRAFFIC_ACTION_DRAINED, TrafficAction.TRAFFIC_ACTION_RESTORED);
    assertThat(bundle.cpu()).singleElement().satisfies(c -> assertThat(c.cpuSeconds()).isEqualTo(9.5));
    assertThat(bundle.sampleFrequencyHz()).isEqualTo(49);
  }

  @Test
  void missingDirectory() {
    assertThatThrownBy(() -> ReplayBundle.load(dir.resolve("nope")))
        .isInstanceOf(BundleException.class)
        .hasMessage(dir.resolve("nope") + ": missing directory");
  }

  @Test
  void missingUpstreamFile() throws IOException {
    Files.delete(dir.resolve("upstream.csv"));
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessage(dir.resolve("upstream.csv") + ": missing file");
  }

  @Test
  void missingPerfDirectory() throws IOException {
    Files.delete(dir.resolve("perf/host-1/a.txt"));
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageStartingWith(dir.resolve("perf") + ": no perf script files");
  }

  @Test
  void badHeaderNamesFileLineAndMissingColumns() throws IOException {
    Files.writeString(dir.resolve("upstream.csv"), "# comment\nstart,end,container_id,requests,timeouts\n");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageStartingWith(dir.resolve("upstream.csv") + " line 2: bad header")
        .hasMessageContaining("missing window_start_ms,window_end_ms");
  }

  @Test
  void wrongColumnCount() throws IOException {
    Files.writeString(dir.resolve("upstream.csv"), "window_start_ms,window_end_ms,container_id,requests,timeouts\n"
        + "1700000000000,1700000010000,c1,100,1\n\n1700000000000,1700000010000,c1,100\n");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .hasMessage(dir.resolve("upstream.csv") + " line 4: expected 5 columns, got 4");
  }

  @Test
  void badNumber() throws IOException {
    Files.writeString(dir.resolve("upstream.csv"), "window_start_ms,window_end_ms,container_id,requests,timeouts\n"
        + "1700000000000,1700000010000,c1,lots,1\n");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .hasMessage(dir.resolve("upstream.csv") + " line 2: requests is not a whole number: 'lots'");
  }

  @Test
  void windowEndBeforeStart() throws IOException {
    Files.writeString(dir.resolve("upstream.csv"), "window_start_ms,window_end_ms,container_id,requests,timeouts\n"
        + "1700000010000,1700000010000,c1,1,1\n");
    assertThatThrownBy(() -> ReplayBundle.load(dir)).hasMessageContaining("line 2: window_end_ms 1700000010000 is not after");
  }

  @Test
  void unknownTrafficEvent() throws IOException {
    Files.writeString(dir.resolve("traffic.csv"), "timestamp_ms,container_id,event\n1700000005000,c1,PAUSED\n");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .hasMessage(dir.resolve("traffic.csv") + " line 2: event must be DRAINED or RESTORED, got 'PAUSED'");
  }

  @Test
  void conflictingPidMapping() throws IOException {
    Files.writeString(dir.resolve("containers.csv"),
        "pid,container_id,host,pod,namespace\n42,c1,host-1,,\n42,c2,host-1,,\n42,c3,host-2,,\n");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .hasMessage(dir.resolve("containers.csv")
            + " line 3: pid 42 on host host-1 is already listed for container c1 at line 2");
  }

  @Test
  void emptyCsvFile() throws IOException {
    Files.writeString(dir.resolve("containers.csv"), "");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .hasMessageStartingWith(dir.resolve("containers.csv") + ": empty file");
  }

  @Test
  void badMetaJson() throws IOException {
    Files.writeString(dir.resolve("meta.json"), "{\"sample_frequency_hz\": -3}");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .hasMessage(dir.resolve("meta.json") + " line 1: sample_frequency_hz must be a finite number in (0, 1000000],"
            + " got -3");
    Files.writeString(dir.resolve("meta.json"), "{\n\"sample_frequency_hz\": }");
    assertThatThrownBy(() -> ReplayBundle.load(dir))
        .hasMessageStartingWith(dir.resolve("meta.json") + ": not valid JSON line 2");
  }

  @Test
  void messagesAreOneLine() throws IOException {
    Files.writeString(dir.resolve("meta.json"), "{\n\"sample_frequency_hz\": }");
    assertThatThrownBy(() -> ReplayBundle.load(dir)).satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }
}
