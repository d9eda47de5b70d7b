package dev.stallwatch.ingest.publish;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool's files: an append-only log of {@link SpoolRecord}s in numbered segment files, with
 * a read position (the next record to hand to Kafka) and a commit position (every record before
 * it is in Kafka, or was dropped), saved in a cursor file so that a restarted collector sends
 * what the previous one had not.
 *
 * <p>The log is bounded: when an append would take it over {@code maxBytes}, the oldest segments
 * are deleted first, and the records in them that were never handed out are reported as dropped.
 * The segment being written is never deleted, so the newest records always survive.
 *
 * <p>On disk: {@code DIR/<first sequence number, 20 digits>.spool}, each starting with
 * {@code SWSPOOL1} and holding frames {@code length (4) | CRC32C of body (4) | body}; {@code DIR/cursor}
 * holds the commit position. A frame cut short by a crash is cut off when the log is opened.
 * Writes reach the page cache at once (a crashed process loses nothing); {@link #checkpoint()}
 * also forces them to the device.
 */
final class SpoolLog implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(SpoolLog.class);
  private static final byte[] MAGIC = "SWSPOOL1".getBytes(StandardCharsets.US_ASCII);
  private static final int FRAME_HEADER = 8;
  private static final Pattern SEGMENT_NAME = Pattern.compile("\\d{20}\\.spool");
  private static final String CURSOR = "cursor";

  /** A record and its sequence number. */
  record Entry(long seq, SpoolRecord record) {}

  private final Path dir;
  private final long maxBytes;
  private final long segmentBytes;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final ArrayDeque<Segment> segments = new ArrayDeque<>();
  private long totalBytes;
  private long nextSeq;
  private long commitSeq;
  private long savedCommitSeq = -1;
  private long readSeq;
  private Segment readSegment;
  private long readOffset;
  private boolean unsynced;
  private long droppedCorrupt;

  private SpoolLog(Path dir, long maxBytes, long segmentBytes, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.segmentBytes = segmentBytes;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /** Opens (or creates) the log in {@code dir}, recovering what a previous process left. */
  static SpoolLog open(Path dir, long maxBytes, long segmentBytes) throws IOException {
    if (segmentBytes < 1024 || segmentBytes > maxBytes / 4) {
      throw new IllegalArgumentException("segment size must be between 1 KiB and a quarter of the spool size ("
          + maxBytes + " bytes), got " + segmentBytes);
    }
    Files.createDirectories(dir);
    FileChannel lockChannel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held in this JVM
    }
    if (lock == null) {
      lockChannel.close();
      throw new IllegalStateException("spool directory " + dir + " is in use by another collector");
    }
    SpoolLog log = new SpoolLog(dir, maxBytes, segmentBytes, lockChannel, lock);
    try {
      log.recover();
    } catch (IOException | RuntimeException e) {
      log.close();
      throw e;
    }
    return log;
  }

  private void recover() throws IOException {
    List<Path> files;
    try (Stream<Path> listing = Files.list(dir)) {
      files = listing.filter(p -> SEGMENT_NAME.matcher(p.getFileName().toString()).matches()).sorted().toList();
    }
    long savedCommit = readCursor();
    for (Path file : files) {
      long base = Long.parseLong(file.getFileName().toString().substring(0, 20));
      if (!segments.isEmpty() && base < segments.getLast().endSeq()) {
        throw new IOException("spool segment " + file + " overlaps " + segments.getLast().path
            + ": the spool directory was modified by hand");
      }
      Segment segment = Segment.recover(file, base);
      if (segment == null) {
        continue;
      }
      if (segment.records == 0) {
        segment.delete();
        continue;
      }
      segments.add(segment);
      totalBytes += segment.size;
    }
    nextSeq = segments.isEmpty() ? Math.max(savedCommit, 0) : segments.getLast().endSeq();
    long firstSeq = segments.isEmpty() ? nextSeq : segments.getFirst().baseSeq;
    commitSeq = Math.min(Math.max(savedCommit, firstSeq), nextSeq);
    deleteCommittedSegments(true);
    Segment active = Segment.create(dir, nextSeq);
    segments.add(active);
    totalBytes += active.size;
    seekRead(commitSeq);
    if (nextSeq > commitSeq) {
      LOG.info("spool {}: {} records from a previous run to send ({} bytes)", dir, nextSeq - commitSeq, totalBytes);
    }
  }

  private long readCursor() throws IOException {
    try {
      String text = Files.readString(dir.resolve(CURSOR), StandardCharsets.US_ASCII).strip();
      return Long.parseLong(text);
    } catch (NoSuchFileException e) {
      return -1; // a new spool, or one never acknowledged: everything in it is to be sent
    } catch (NumberFormatException e) {
      throw new IOException("spool cursor " + dir.resolve(CURSOR) + " is not a number: " + e.getMessage(), e);
    }
  }

  /** Positions the reader on the first record at or after {@code seq}. */
  private void seekRead(long seq) throws IOException {
    for (Segment segment : segments) {
      if (seq < segment.endSeq() || segment == segments.getLast()) {
        readSegment = segment;
        readSeq = Math.max(seq, segment.baseSeq);
        readOffset = segment.offsetOf(readSeq);
        return;
      }
    }
  }

  /**
   * Appends {@code record} (to the page cache), deleting the oldest segments first if the log
   * would outgrow its bound.
   *
   * @return the number of records dropped to make room that had never been handed out; -1 if the
   *     record itself is too large for the spool and was not written
   */
  synchronized long append(SpoolRecord record) throws IOException {
    byte[] body = record.body();
    long frameSize = FRAME_HEADER + (long) body.length;
    if (frameSize > maxBytes - segmentBytes) {
      return -1;
    }
    Segment active = segments.getLast();
    if (active.records > 0 && active.size + frameSize > segmentBytes) {
      active.channel.force(false);
      active = Segment.create(dir, nextSeq);
      segments.add(active);
      totalBytes += active.size;
    }
    long dropped = 0;
    while (totalBytes + frameSize > maxBytes && segments.size() > 1) {
      dropped += dropOldest();
    }
    CRC32C crc = new CRC32C();
    crc.update(body);
    ByteBuffer frame = ByteBuffer.allocate((int) frameSize);
    frame.putInt(body.length).putInt((int) crc.getValue()).put(body).flip();
    active.write(frame);
    active.records++;
    active.size += frameSize;
    totalBytes += frameSize;
    nextSeq++;
    unsynced = true;
    return dropped;
  }

  private long dropOldest() throws IOException {
    Segment oldest = segments.removeFirst();
    long neverRead = Math.max(0, oldest.endSeq() - Math.max(readSeq, oldest.baseSeq));
    if (readSegment == oldest) {
      readSegment = segments.getFirst();
      readSeq = readSegment.baseSeq;
      readOffset = MAGIC.length;
    }
    commitSeq = Math.max(commitSeq, oldest.endSeq());
    totalBytes -= oldest.size;
    oldest.delete();
    return neverRead;
  }

  /** The next record after those handed out so far, or null when there is none yet. */
  synchronized Entry next() throws IOException {
    while (readSeq < nextSeq) {
      if (readOffset >= readSegment.size) {
        readSegment = segmentAfter(readSegment);
        readSeq = readSegment.baseSeq;
        readOffset = MAGIC.length;
        continue;
      }
      try {
        byte[] body = readSegment.readFrame(readOffset, readSegment.size);
        SpoolRecord record = SpoolRecord.fromBody(body);
        Entry entry = new Entry(readSeq, record);
        readOffset += FRAME_HEADER + body.length;
        readSeq++;
        return entry;
      } catch (IOException e) {
        long lost = readSegment.endSeq() - readSeq;
        droppedCorrupt += lost;
        LOG.error("spool segment {}: unreadable record at offset {} ({}); skipping the {} records after it",
            readSegment.path, readOffset, e.getMessage(), lost);
        readOffset = readSegment.size;
        readSeq = readSegment.endSeq();
      }
    }
    return null;
  }

  private Segment segmentAfter(Segment segment) {
    for (Iterator<Segment> it = segments.iterator(); it.hasNext(); ) {
      if (it.next() == segment) {
        return it.next();
      }
    }
    throw new IllegalStateException("segment " + segment.path + " is no longer in the spool");
  }

  /** Every record before {@code seq} is in Kafka; segments holding only such records are deleted. */
  synchronized void acknowledge(long seq) throws IOException {
    if (seq > readSeq) {
      throw new IllegalArgumentException("cannot acknowledge " + seq + ": only records before " + readSeq
          + " were handed out");
    }
    if (seq > commitSeq) {
      commitSeq = seq;
      deleteCommittedSegments(false);
    }
  }

  private void deleteCommittedSegments(boolean includingLast) throws IOException {
    while (!segments.isEmpty() && (includingLast || segments.size() > 1)
        && segments.getFirst().endSeq() <= commitSeq) {
      Segment done = segments.removeFirst();
      totalBytes -= done.size;
      done.delete();
    }
  }

  /** Saves the commit position and forces appended records to the device. */
  synchronized void checkpoint() throws IOException {
    if (unsynced) {
      segments.getLast().channel.force(false);
      unsynced = false;
    }
    if (commitSeq != savedCommitSeq) {
      Path tmp = dir.resolve(CURSOR + ".tmp");
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        channel.write(ByteBuffer.wrap((commitSeq + "\n").getBytes(StandardCharsets.US_ASCII)));
        channel.force(true);
      }
      Files.move(tmp, dir.resolve(CURSOR), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      savedCommitSeq = commitSeq;
    }
  }

  synchronized long bytes() {
    return totalBytes;
  }

  /** Records appended and not yet committed (sent, being sent or waiting). */
  synchronized long pending() {
    return nextSeq - commitSeq;
  }

  /** The sequence number the next {@link #next()} starts from. */
  synchronized long readSeq() {
    return readSeq;
  }

  synchronized long nextSeq() {
    return nextSeq;
  }

  /** The oldest record still on disk; records before it were acknowledged or dropped. */
  synchronized long firstSeq() {
    return segments.getFirst().baseSeq;
  }

  synchronized long takeDroppedCorrupt() {
    long dropped = droppedCorrupt;
    droppedCorrupt = 0;
    return dropped;
  }

  Path dir() {
    return dir;
  }

  @Override
  public synchronized void close() throws IOException {
    IOException failure = null;
    try {
      if (!segments.isEmpty()) {
        checkpoint();
      }
    } catch (IOException e) {
      failure = e;
    }
    for (Segment segment : segments) {
      try {
        segment.channel.close();
      } catch (IOException e) {
        failure = addTo(failure, e);
      }
    }
    segments.clear();
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      failure = addTo(failure, e);
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static IOException addTo(IOException failure, IOException e) {
    if (failure == null) {
      return e;
    }
    failure.addSuppressed(e);
    return failure;
  }

  /** One segment file. {@code size} includes the magic header. */
  private static final class Segment {
    final Path path;
    final long baseSeq;
    final FileChannel channel;
    long records;
    long size;

    private Segment(Path path, long baseSeq, FileChannel channel) {
      this.path = path;
      this.baseSeq = baseSeq;
      this.channel = channel;
    }

    long endSeq() {
      return baseSeq + records;
    }

    static Segment create(Path dir, long baseSeq) throws IOException {
      Path path = dir.resolve(String.format("%020d.spool", baseSeq));
      FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      Segment segment = new Segment(path, baseSeq, channel);
      segment.write(ByteBuffer.wrap(MAGIC));
      segment.size = MAGIC.length;
      return segment;
    }

    /** Reads a segment a previous process wrote; null (file deleted) if it is not a spool segment at all. */
    static Segment recover(Path path, long baseSeq) throws IOException {
      FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      Segment segment = new Segment(path, baseSeq, channel);
      long fileSize = channel.size();
      byte[] magic = segment.read(0, MAGIC.length);
      if (!Arrays.equals(magic, MAGIC)) {
        LOG.warn("spool file {} does not start with {}: deleting it", path, new String(MAGIC, StandardCharsets.US_ASCII));
        channel.close();
        Files.delete(path);
        return null;
      }
      long offset = MAGIC.length;
      while (offset < fileSize) {
        try {
          byte[] body = segment.readFrame(offset, fileSize);
          offset += FRAME_HEADER + body.length;
          segment.records++;
        } catch (IOException e) {
          // a record cut short by a crash (or damaged): everything from it on is unusable
          LOG.warn("spool segment {}: cutting off {} bytes at offset {} after {} records: {}", path,
              fileSize - offset, offset, segment.records, e.getMessage());
          channel.truncate(offset);
          break;
        }
      }
      segment.size = offset;
      return segment;
    }

    /** The body of the frame at {@code offset}, checked against its CRC; fails if it runs past {@code limit}. */
    byte[] readFrame(long offset, long limit) throws IOException {
      if (offset + FRAME_HEADER > limit) {
        throw new IOException("frame header cut short");
      }
      ByteBuffer header = ByteBuffer.wrap(read(offset, FRAME_HEADER));
      int length = header.getInt();
      int expectedCrc = header.getInt();
      if (length < 3 || offset + FRAME_HEADER + length > limit) {
        throw new IOException("frame length " + length + " runs past the end of the segment");
      }
      byte[] body = read(offset + FRAME_HEADER, length);
      CRC32C crc = new CRC32C();
      crc.update(body);
      if ((int) crc.getValue() != expectedCrc) {
        throw new IOException("CRC mismatch");
      }
      return body;
    }

    /** The byte offset of record {@code seq}, found by walking the frames. */
    long offsetOf(long seq) throws IOException {
      long offset = MAGIC.length;
      for (long s = baseSeq; s < seq && offset < size; s++) {
        ByteBuffer header = ByteBuffer.wrap(read(offset, 4));
        offset += FRAME_HEADER + header.getInt();
      }
      return offset;
    }

    byte[] read(long offset, int length) throws IOException {
      ByteBuffer buffer = ByteBuffer.allocate(length);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, offset + buffer.position()) < 0) {
          throw new IOException("unexpected end of " + path + " at offset " + (offset + buffer.position()));
        }
      }
      return buffer.array();
    }

    void write(ByteBuffer buffer) throws IOException {
      long position = size;
      while (buffer.hasRemaining()) {
        position += channel.write(buffer, position);
      }
    }

    void delete() throws IOException {
      channel.close();
      Files.deleteIfExists(path);
    }
  }

  /** For tests: the segment files, oldest first. */
  synchronized List<Path> segmentFiles() {
    List<Path> files = new ArrayList<>();
    segments.forEach(s -> files.add(s.path));
    return files;
  }
}
