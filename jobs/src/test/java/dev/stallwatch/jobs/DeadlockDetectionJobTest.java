package dev.stallwatch.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job's graph and arguments, without running anything. */
class DeadlockDetectionJobTest {

  @TempDir
  Path dir;

  @Test
  void everyOperatorHasAStableKebabCaseUid() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
    DeadlockDetectionJob.builder().bootstrapServers("localhost:9092").build().addTo(env);

    List<String> uids = env.getStreamGraph().getStreamNodes().stream()
        .map(StreamNode::getTransformationUID).toList();

    // Flink derives the committers' IDs from the sinks' ("Sink Committer: alerts-sink")
    assertThat(uids).allMatch(uid -> uid != null && uid.matches("(Sink Committer: )?[a-z]+(-[a-z]+)*"));
    assertThat(uids).contains("profiles-source", "upstream-source", "traffic-source", "profiles-dead-letters",
        "upstream-dead-letters", "traffic-dead-letters", "deadlock-detector", "alerts-sink",
        "dead-letter-sink", "container-health-sink");
    assertThat(env.getCheckpointConfig().isCheckpointingEnabled()).isTrue();
  }

  @Test
  void containerHealthCanBeTurnedOff() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
    DeadlockDetectionJob.builder().bootstrapServers("localhost:9092").containerHealth(false).build().addTo(env);

    assertThat(env.getStreamGraph().getStreamNodes()).extracting(StreamNode::getTransformationUID)
        .contains("alerts-sink")
        .doesNotContain("container-health-sink");
  }

  @Test
  void buildSaysHowToFixAMissingBootstrapServer() {
    assertThatThrownBy(() -> DeadlockDetectionJob.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("bootstrapServers is not set: set it with bootstrapServers(\"host:9092\")");
    assertThatThrownBy(() -> DeadlockDetectionJob.builder().bootstrapServers(" "))
        .hasMessageContaining("bootstrapServers must not be blank");
    assertThatThrownBy(() -> DeadlockDetectionJob.builder().topics(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void argumentsConfigureTheJob() throws Exception {
    Path rules = Files.writeString(dir.resolve("rules.yaml"),
        "rules:\n  - {id: r1, title: T, frames: [a, b]}\n");
    Path options = Files.writeString(dir.resolve("detector.properties"), "stuck.sustain=30s\n");

    DeadlockDetectionJob job = JobArguments.parse(new String[] {
        "--bootstrap-servers", "kafka:9092", "--rules", rules.toString(), "--options", options.toString(),
        "--set", "resolve.healthy-windows=5", "--topic-suffix", ".staging", "--bounded"}).build();

    assertThat(job.rules().rules()).extracting(r -> r.id()).containsExactly("r1");
    assertThat(job.options().stuckWindowsToAlert()).isEqualTo(3);
    assertThat(job.options().resolveHealthyWindows()).isEqualTo(5);
    assertThat(job.topics().alerts()).isEqualTo("stallwatch.alerts.v1.staging");
    assertThat(job.bounded()).isTrue();
    assertThat(JobArguments.parse(new String[] {"--help"})).isNull();
    assertThat(JobArguments.usage()).contains("stuck.sustain=1m");
  }

  @Test
  void badArgumentsSayWhatIsWrong() {
    assertThatThrownBy(() -> JobArguments.parse(new String[] {}))
        .hasMessage("--bootstrap-servers is required (see --help)");
    assertThatThrownBy(() -> JobArguments.parse(new String[] {"--bootstrap-servers"}))
        .hasMessageContaining("Missing required parameter for option '--bootstrap-servers'");
    assertThatThrownBy(() -> JobArguments.parse(new String[] {"--bootstrap-servers", "k:9", "--set", "nope"}))
        .hasMessageContaining("should be in KEY=VALUE format but was nope");
    assertThatThrownBy(() -> JobArguments.parse(new String[] {"--bootstrap-servers", "k:9", "--set", "x.y=1"}))
        .hasMessageContaining("unknown option 'x.y'");
    assertThatThrownBy(() -> JobArguments.parse(new String[] {"--frobnicate"}))
        .hasMessage("Unknown option: '--frobnicate' (see --help)");
  }
}
