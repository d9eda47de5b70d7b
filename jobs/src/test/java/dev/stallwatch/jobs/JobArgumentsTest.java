package dev.stallwatch.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class JobArgumentsTest {
  @TempDir
  Path dir;

  private static JobArguments parsed(String... args) {
    JobArguments arguments = new JobArguments();
    new CommandLine(arguments).parseArgs(args);
    return arguments;
  }

  @Test
  void configAndTheDeprecatedOptionsSpellingReadTheSameFile() throws Exception {
    Path options = Files.writeString(dir.resolve("detector.conf"), "stuck.sustain: 30s\n");

    for (String flag : List.of("--config", "--options")) {
      DeadlockDetectionJob job = JobArguments.parse(
          new String[] {"--bootstrap-servers", "k:9", flag, options.toString()}).build();
      assertThat(job.options().stuckWindowsToAlert()).as(flag).isEqualTo(3);
    }
  }

  @Test
  void rocksDbWithIncrementalCheckpointsIsTheDefaultAndCheckpointsAreRetained() throws Exception {
    DeadlockDetectionJob job = JobArguments.parse(new String[] {
        "--bootstrap-servers", "k:9", "--checkpoint-dir", "file:///tmp/cp", "--checkpoint-interval", "2s"}).build();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();

    job.addTo(env);

    assertThat(env.getConfiguration().get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
    assertThat(env.getConfiguration().get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
    assertThat(env.getConfiguration().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("file:///tmp/cp");
    assertThat(env.getConfiguration().get(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION))
        .isEqualTo(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    assertThat(env.getCheckpointConfig().getCheckpointInterval()).isEqualTo(2000);
  }

  @Test
  void programArgumentsCarryLocalFilesAsValuesAndParseBackToTheSameJob() throws Exception {
    Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - {id: r1, title: T, frames: [a, b]}\n");
    Path options = Files.writeString(dir.resolve("detector.conf"), "stuck.sustain=30s\n");
    JobArguments local = parsed("--bootstrap-servers", "k1:9,k2:9", "--config", options.toString(),
        "--set", "resolve.healthy-windows=5", "--rules", rules.toString(), "--group-id", "g",
        "--state-backend", "hashmap", "--checkpoint-interval", "5s");

    List<String> args = local.programArguments();
    Files.delete(rules);
    Files.delete(options); // the cluster has none of them
    DeadlockDetectionJob remote = JobArguments.parse(args.toArray(String[]::new)).build();

    assertThat(args).doesNotContain(rules.toString(), options.toString());
    assertThat(remote.rules().rules()).extracting(r -> r.id()).containsExactly("r1");
    assertThat(remote.options().stuckWindowsToAlert()).isEqualTo(3);
    assertThat(remote.options().resolveHealthyWindows()).isEqualTo(5);
    assertThat(remote.stateBackend()).isEqualTo("hashmap");
    assertThat(args).containsSequence("--group-id", "g").containsSequence("--checkpoint-interval", "5000ms");
  }

  @Test
  void badValuesSayWhichFlag() {
    assertThatThrownBy(() -> JobArguments.parse(new String[] {"--bootstrap-servers", "k:9", "--state-backend", "x"}))
        .hasMessage("--state-backend: expected rocksdb or hashmap, got 'x'");
    assertThatThrownBy(() -> JobArguments.parse(new String[] {"--checkpoint-interval", "0s"}))
        .hasMessageContaining("expected a positive duration such as 10s, 500ms or 2m, got '0s'");
    assertThatThrownBy(() -> JobArguments.parse(new String[] {"--bootstrap-servers", "k:9", "--kafka-config", "/no"}))
        .hasMessage("--kafka-config /no: no such file");
    assertThatThrownBy(() -> DeadlockDetectionJob.main(new String[] {"--frobnicate"}))
        .hasMessage(DeadlockDetectionJob.JOB_NAME + ": Unknown option: '--frobnicate' (see --help)");
  }
}
