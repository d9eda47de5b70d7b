package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rotations done the way logrotate does them, on real files. */
class LogFileTailerTest {
  private static final Duration ROTATE_WAIT = Duration.ofSeconds(5);

  @TempDir
  Path dir;

  private final MutableClock clock = new MutableClock(Instant.parse("2024-03-05T10:15:30Z"));
  private final Collected collected = new Collected();
  private LogFileTailer tailer;

  private static final class Collected implements LogFileTailer.Listener {
    final List<String> lines = new ArrayList<>();
    final List<LogFileTailer.Rotation> rotations = new ArrayList<>();
    int oversized;

    @Override
    public void line(String line) {
      lines.add(line);
    }

    @Override
    public void rotated(LogFileTailer.Rotation rotation) {
      rotations.add(rotation);
    }

    @Override
    public void oversizedLine() {
      oversized++;
    }
  }

  private LogFileTailer tailer(Path log, LogFileTailer.Start start) {
    tailer = new LogFileTailer(log, start, clock, ROTATE_WAIT, 1024);
    return tailer;
  }

  @AfterEach
  void closeTailer() throws IOException {
    if (tailer != null) {
      tailer.close();
    }
  }

  private static void append(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Test
  void startsAtTheEndAndReadsOnlyCompleteLines() throws IOException {
    Path log = dir.resolve("access.log");
    append(log, "old 1\nold 2\n");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    append(log, "new 1\nnew 2 is being wri");
    tailer.poll(collected);
    assertThat(collected.lines).containsExactly("new 1");

    append(log, "tten\r\n");
    tailer.poll(collected);
    assertThat(collected.lines).containsExactly("new 1", "new 2 is being written");
  }

  @Test
  void startingAtTheEndInTheMiddleOfALineSkipsItsRest() throws IOException {
    Path log = dir.resolve("access.log");
    append(log, "old 1\nold 2 half");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    append(log, " written\nnew 1\n");
    tailer.poll(collected);

    assertThat(collected.lines).containsExactly("new 1");
  }

  @Test
  void renameAndCreateReadsTheOldFileToItsEndThenTheNewOneFromItsStart() throws IOException {
    Path log = dir.resolve("access.log");
    append(log, "");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    append(log, "before 1\n");
    tailer.poll(collected);

    // logrotate: mv access.log access.log.1; then nginx still writes to its open file until USR1
    Path rotated = dir.resolve("access.log.1");
    Files.move(log, rotated);
    append(rotated, "written before the rename was noticed\n");
    tailer.poll(collected); // path missing: the old file is still the one written to
    append(rotated, "written after the rename, before reopening\n");
    append(log, "after 1\n"); // nginx reopened: a new file at the path
    tailer.poll(collected);
    // a late write to the old file while it is still watched
    append(rotated, "late write to the old file\n");
    clock.advance(Duration.ofSeconds(1));
    tailer.poll(collected);
    append(log, "after 2\n");
    tailer.poll(collected);

    assertThat(collected.lines).containsExactly(
        "before 1",
        "written before the rename was noticed",
        "written after the rename, before reopening",
        "after 1",
        "late write to the old file",
        "after 2");
    assertThat(collected.rotations).containsExactly(LogFileTailer.Rotation.RENAME);
  }

  @Test
  void theOldFileIsLetGoAfterTheRotateWait() throws IOException {
    Path log = dir.resolve("access.log");
    append(log, "");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    Path rotated = dir.resolve("access.log.1");
    Files.move(log, rotated);
    append(log, "new\n");
    tailer.poll(collected);
    clock.advance(ROTATE_WAIT);
    tailer.poll(collected);
    append(rotated, "too late: nobody reads the old file any more\n");
    tailer.poll(collected);

    assertThat(collected.lines).containsExactly("new");
  }

  @Test
  void rotationsInARowEachStartTheNewFileFromItsStart() throws IOException {
    Path log = dir.resolve("access.log");
    append(log, "");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    for (int i = 1; i <= 3; i++) {
      append(log, "line in generation " + i + "\n");
      tailer.poll(collected);
      Files.move(log, dir.resolve("access.log." + i));
      append(log, "first line of generation " + (i + 1) + "\n");
      tailer.poll(collected);
    }

    assertThat(collected.lines).containsExactly(
        "line in generation 1", "first line of generation 2",
        "line in generation 2", "first line of generation 3",
        "line in generation 3", "first line of generation 4");
    assertThat(collected.rotations).hasSize(3);
  }

  @Test
  void copytruncateStartsOverAtTheStart() throws IOException {
    Path log = dir.resolve("access.log");
    append(log, "");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    append(log, "before 1\nbefore 2\n");
    tailer.poll(collected);

    // logrotate copytruncate: cp access.log access.log.1; truncate -s 0 access.log
    Files.copy(log, dir.resolve("access.log.1"));
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
      file.setLength(0);
    }
    append(log, "after 1\n");
    tailer.poll(collected);

    assertThat(collected.lines).containsExactly("before 1", "before 2", "after 1");
    assertThat(collected.rotations).containsExactly(LogFileTailer.Rotation.TRUNCATE);
  }

  @Test
  void aFileTruncatedAndRegrownPastTheOldLengthIsStillSeenAsTruncated() throws IOException {
    Path log = dir.resolve("access.log");
    append(log, "");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    append(log, "10.1.2.3 short line\n");
    tailer.poll(collected);

    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
      file.setLength(0);
    }
    append(log, "10.9.9.9 a longer line written after the truncation\n");
    tailer.poll(collected);

    assertThat(collected.lines).containsExactly("10.1.2.3 short line",
        "10.9.9.9 a longer line written after the truncation");
    assertThat(collected.rotations).containsExactly(LogFileTailer.Rotation.TRUNCATE);
  }

  @Test
  void aFileThatAppearsLaterIsReadFromItsStart() throws IOException {
    Path log = dir.resolve("access.log");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.END);
    tailer.poll(collected);
    append(log, "first\n");
    tailer.poll(collected);

    assertThat(collected.lines).containsExactly("first");
  }

  @Test
  void anOversizedLineIsSkippedAndReported() throws IOException {
    Path log = dir.resolve("access.log");
    LogFileTailer tailer = tailer(log, LogFileTailer.Start.BEGINNING);
    append(log, "ok 1\n" + "x".repeat(700));
    tailer.poll(collected);
    append(log, "y".repeat(700) + "\nok 2\n");
    tailer.poll(collected);
    append(log, "z".repeat(2000) + "\nok 3\n");
    tailer.poll(collected);

    assertThat(collected.lines).containsExactly("ok 1", "ok 2", "ok 3");
    assertThat(collected.oversized).isEqualTo(2);
  }
}
