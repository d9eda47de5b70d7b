package dev.stallwatch.ingest.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolLogTest {
  private static final long MAX_BYTES = 16 * 1024;
  private static final long SEGMENT_BYTES = 4 * 1024;

  @TempDir
  Path dir;

  /** A window whose start time numbers it, so the test can tell which ones survived. */
  static SpoolRecord window(long n) {
    return SpoolRecord.of(UpstreamWindow.newBuilder()
        .setSource("nginx:/var/log/nginx/access.log")
        .setContainerId("3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0")
        .setHost("node-a")
        .setWindowStartMs(n * 10_000)
        .setWindowEndMs(n * 10_000 + 10_000)
        .setRequests(1000 + n)
        .setTimeouts(n % 7)
        .build());
  }

  static long number(SpoolLog.Entry entry) throws IOException {
    return UpstreamWindow.parseFrom(entry.record().value()).getWindowStartMs() / 10_000;
  }

  private static List<Long> readAll(SpoolLog log) throws IOException {
    List<Long> numbers = new ArrayList<>();
    for (SpoolLog.Entry entry = log.next(); entry != null; entry = log.next()) {
      numbers.add(number(entry));
    }
    return numbers;
  }

  @Test
  void whenFullTheOldestWindowsAreDroppedAndTheNewestKept() throws IOException {
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      long dropped = 0;
      int appended = 1000;
      for (long n = 0; n < appended; n++) {
        dropped += log.append(window(n));
        assertThat(log.bytes()).isLessThanOrEqualTo(MAX_BYTES);
      }
      List<Long> kept = readAll(log);

      assertThat(dropped).isPositive();
      assertThat(kept).hasSize((int) (appended - dropped));
      // what is left is the newest windows, in order, with no gap
      assertThat(kept.get(kept.size() - 1)).isEqualTo(appended - 1);
      assertThat(kept).isEqualTo(LongStream.range(dropped, appended).boxed().toList());
      assertThat(log.bytes()).isGreaterThan(MAX_BYTES - 2 * SEGMENT_BYTES);
    }
  }

  @Test
  void windowsAlreadyHandedOutAreNotCountedAsDropped() throws IOException {
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      long n = 0;
      while (log.segmentFiles().size() < 3) {
        log.append(window(n++));
      }
      long handedOut = 0;
      while (log.next() != null) {
        handedOut++;
      }
      long dropped = 0;
      while (log.nextSeq() - handedOut < 2 * (MAX_BYTES / SEGMENT_BYTES)) {
        dropped += log.append(window(n++));
      }
      assertThat(handedOut).isPositive();
      // everything dropped so far had been handed to Kafka: none of it is lost
      assertThat(dropped).isZero();
      assertThat(log.bytes()).isLessThanOrEqualTo(MAX_BYTES);
    }
  }

  @Test
  void aReopenedSpoolResendsWhatWasNotAcknowledged() throws IOException {
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      for (long n = 0; n < 100; n++) {
        log.append(window(n));
      }
      for (int i = 0; i < 60; i++) {
        log.next();
      }
      log.acknowledge(40);
    }
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      assertThat(log.pending()).isEqualTo(60);
      assertThat(readAll(log)).isEqualTo(LongStream.range(40, 100).boxed().toList());
      log.append(window(100));
      assertThat(number(log.next())).isEqualTo(100);
    }
  }

  @Test
  void acknowledgedSegmentsAreDeleted() throws IOException {
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      for (long n = 0; n < 100; n++) {
        log.append(window(n));
      }
      assertThat(log.segmentFiles()).hasSizeGreaterThan(2);
      readAll(log);
      log.acknowledge(100);

      assertThat(log.segmentFiles()).hasSize(1);
      assertThat(log.pending()).isZero();
      try (var files = Files.list(dir)) {
        assertThat(files.filter(p -> p.toString().endsWith(".spool")).count()).isEqualTo(1);
      }
    }
  }

  @Test
  void aRecordCutShortByACrashIsCutOffOnReopen() throws IOException {
    Path segment;
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      for (long n = 0; n < 10; n++) {
        log.append(window(n));
      }
      segment = log.segmentFiles().get(0);
    }
    try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
      file.setLength(file.length() - 5);
    }
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      assertThat(readAll(log)).isEqualTo(LongStream.range(0, 9).boxed().toList());
      log.append(window(10));
      assertThat(number(log.next())).isEqualTo(10);
    }
  }

  @Test
  void aDamagedRecordIsSkippedWithTheRestOfItsSegment() throws IOException {
    Path segment;
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      for (long n = 0; n < 10; n++) {
        log.append(window(n));
      }
      segment = log.segmentFiles().get(0);
    }
    try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw")) {
      file.seek(file.length() / 2);
      file.write(0x5A ^ file.read());
    }
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      List<Long> read = readAll(log);
      assertThat(read).isNotEmpty().hasSizeLessThan(10);
      assertThat(read).isEqualTo(LongStream.range(0, read.size()).boxed().toList());
    }
  }

  @Test
  void aRecordLargerThanTheSpoolCanHoldIsRefused() throws IOException {
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      SpoolRecord huge = new SpoolRecord(SpoolRecord.Kind.PROFILE, "c", new byte[(int) MAX_BYTES]);
      assertThat(log.append(huge)).isEqualTo(-1);
      assertThat(log.pending()).isZero();
    }
  }

  @Test
  void twoCollectorsCannotShareASpool() throws IOException {
    try (SpoolLog log = SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES)) {
      log.append(window(1));
      assertThatThrownBy(() -> SpoolLog.open(dir, MAX_BYTES, SEGMENT_BYTES))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("is in use by another collector");
    }
  }
}
