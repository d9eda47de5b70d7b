package dev.stallwatch.app.up;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
  @TempDir Path dir;

  private Path checkpoint(String job, int number, Instant written) throws Exception {
    Path chk = Files.createDirectories(dir.resolve(job).resolve("chk-" + number));
    Path metadata = Files.writeString(chk.resolve(Checkpoints.METADATA), "x");
    Files.setLastModifiedTime(metadata, FileTime.from(written));
    return chk;
  }

  @Test
  void theNewestCompleteCheckpointOfAnyRunIsRestored() throws Exception {
    Instant t = Instant.parse("2026-12-04T03:00:00Z");
    checkpoint("a1", 7, t);
    Path newest = checkpoint("b2", 2, t.plusSeconds(60));
    checkpoint("b2", 1, t.plusSeconds(50));
    // cut short by a crash: no metadata yet
    Files.createDirectories(dir.resolve("b2").resolve("chk-3"));
    Files.createDirectories(dir.resolve("b2").resolve("shared"));

    assertThat(Checkpoints.latest(dir)).contains(newest);
  }

  @Test
  void noDirectoryOrNoCompleteCheckpointIsAFirstStart() throws Exception {
    assertThat(Checkpoints.latest(dir.resolve("absent"))).isEmpty();
    Files.createDirectories(dir.resolve("a1").resolve("chk-1"));
    assertThat(Checkpoints.latest(dir)).isEmpty();
  }
}
