package dev.stallwatch.ingest.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.Samples;
import dev.stallwatch.ingest.window.ContainerRef;
import dev.stallwatch.ingest.window.ProfileWindowAssembler;
import dev.stallwatch.schemas.v1.ProfileWindow;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code --dry-run} prints: protobuf's JSON mapping of each window, one per line. */
class JsonLinesSinkTest {
  private static final long T0 = 1_795_734_600_000L;

  @Test
  void printsEachWindowAsOneLineOfProtobufJson() throws Exception {
    ProfileWindowAssembler assembler = new ProfileWindowAssembler(10_000, 99);
    ContainerRef container = new ContainerRef("cgroup:/", "node-1", "", "", "go1.14.1");
    assembler.add(container, Samples.sample("spin", 42, 42, 0, (T0 + 1_000) * 1_000_000L, 10_101_010, "cpu-clock",
        List.of("runtime.morestack", "runtime.newstack", "runtime.osyield")));
    assembler.add(container, Samples.sample("spin", 42, 42, 0, (T0 + 2_000) * 1_000_000L, 10_101_010, "cpu-clock",
        List.of("runtime.morestack", "runtime.newstack", "runtime.osyield")));
    assembler.addCgroupCpu(container, T0, 9_500_000_000L);
    ProfileWindow window = assembler.drainAll().get(0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    JsonLinesSink sink = new JsonLinesSink(out);
    sink.publish(window);
    sink.publish(window);
    sink.close();

    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).hasSize(2).allMatch(l -> !l.contains(" ") || l.contains("\"spin\""));
    JsonNode json = new ObjectMapper().readTree(lines.get(0));
    assertThat(json.get("host").asText()).isEqualTo("node-1");
    assertThat(json.get("containerId").asText()).isEqualTo("cgroup:/");
    assertThat(json.get("windowStartMs").asText()).isEqualTo(Long.toString(T0)); // int64 is a string in proto3 JSON
    assertThat(json.get("windowEndMs").asText()).isEqualTo(Long.toString(T0 + 10_000));
    assertThat(json.get("sampleCount").asText()).isEqualTo("2");
    assertThat(json.get("cgroupCpuNs").asText()).isEqualTo("9500000000");
    assertThat(json.get("weightUnit").asText()).isEqualTo("WEIGHT_UNIT_NANOSECONDS");
    assertThat(json.get("runtime").get("version").asText()).isEqualTo("go1.14.1");
    assertThat(json.get("strings")).extracting(JsonNode::asText)
        .containsExactly("", "spin", "runtime.morestack", "runtime.newstack", "runtime.osyield");
    JsonNode stack = json.get("stacks").get(0);
    assertThat(stack.get("frames")).extracting(JsonNode::asInt).containsExactly(1, 2, 3, 4);
    assertThat(stack.get("weight").asText()).isEqualTo("20202020");
    assertThat(stack.get("samples").asText()).isEqualTo("2");

    ProfileWindow.Builder parsed = ProfileWindow.newBuilder();
    JsonFormat.parser().merge(lines.get(0), parsed);
    assertThat(parsed.build()).isEqualTo(window);
  }
}
