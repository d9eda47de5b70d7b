package dev.stallwatch.ingest.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PerfSettingsTest {
  @Test
  void defaultsSampleTheWholeHostAt99HzWithFramePointersAndFlushedBuffers() {
    assertThat(PerfSettings.defaults().processes()).containsExactly(
        List.of("perf", "record", "-k", "CLOCK_REALTIME", "-e", "cpu-clock", "-F", "99", "--call-graph", "fp", "-a",
            "--control", "fd:0", "-o", "-"),
        List.of("perf", "script", "-i", "-", "-F", "comm,pid,tid,cpu,time,period,event,ip,sym,dso"));
  }

  @Test
  void frequencyEventCallGraphAndBuffersAreConfigurable() {
    PerfSettings settings = PerfSettings.builder().perf("/usr/bin/perf").frequencyHz(49).event("task-clock")
        .callGraph(PerfSettings.CallGraph.parse("dwarf")).mmapPages(256).flushInterval(Duration.ZERO).build();

    assertThat(settings.describe()).isEqualTo(
        "/usr/bin/perf record -k CLOCK_REALTIME -e task-clock -F 49 --call-graph dwarf -a -m 256 -o -"
            + " | /usr/bin/perf script -i - -F comm,pid,tid,cpu,time,period,event,ip,sym,dso");
  }

  @Test
  void aCommandReplacesThePipeline() {
    PerfSettings settings = PerfSettings.builder().command("zcat capture.txt.gz").build();

    assertThat(settings.processes()).containsExactly(List.of("/bin/sh", "-c", "zcat capture.txt.gz"));
    assertThat(settings.pingsPerf()).isFalse();
  }

  @Test
  void rejectsSettingsPerfWouldRejectWithTheFix() {
    assertThatThrownBy(() -> PerfSettings.builder().mmapPages(100).build()).hasMessageContaining("power of two");
    assertThatThrownBy(() -> PerfSettings.builder().frequencyHz(0).build()).hasMessageContaining("at least 1 Hz");
    assertThatThrownBy(() -> PerfSettings.builder().event("cpu-clock cycles").build()).hasMessageContaining("one name");
    assertThatThrownBy(() -> PerfSettings.CallGraph.parse("lbr")).hasMessageContaining("fp or dwarf");
  }
}
