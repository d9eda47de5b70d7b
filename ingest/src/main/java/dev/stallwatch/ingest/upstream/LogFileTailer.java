package dev.stallwatch.ingest.upstream;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * Follows a log file by path, line by line, across rotations, the way {@code tail -F} does.
 * Each {@link #poll} reads what was appended since the last one.
 *
 * <ul>
 *   <li>rename + create (logrotate's default): the path now names another inode. The old file is
 *       read to its end and then kept open for {@code rotateWait}, because the writer goes on
 *       writing to it until it reopens its log (nginx: on {@code USR1}); the new file is read
 *       from its start.
 *   <li>copytruncate: the same inode got shorter than what was read, or its first bytes changed
 *       (truncated and written past the old length between two polls). Reading starts over at
 *       the start. Lines written between the copy and the truncation are lost: that is
 *       copytruncate's own race, which no reader can close.
 * </ul>
 *
 * A line longer than {@code maxLineBytes} is skipped and reported. When the tailer starts on an
 * existing file at its end, a line in the middle of being written is skipped, not read in half.
 */
public final class LogFileTailer implements Closeable {
  /** First bytes remembered to recognize a file truncated and regrown between two polls. */
  private static final int HEAD_BYTES = 128;
  private static final int READ_CHUNK = 64 * 1024;

  /** Where reading begins in the file that is at the path when the tailer starts. */
  public enum Start { BEGINNING, END }

  /** How the file at the path was replaced. */
  public enum Rotation { RENAME, TRUNCATE }

  /** Receives what {@link #poll} reads. */
  public interface Listener {
    void line(String line);

    default void rotated(Rotation rotation) {}

    default void oversizedLine() {}
  }

  private final Path path;
  private final Clock clock;
  private final long rotateWaitMs;
  private final int maxLineBytes;
  private Start start;
  private OpenFile current;
  private final List<OpenFile> rotatedAway = new ArrayList<>();
  private final ByteBuffer buffer = ByteBuffer.allocate(READ_CHUNK);

  public LogFileTailer(Path path, Start start, Clock clock, Duration rotateWait, int maxLineBytes) {
    this.path = Objects.requireNonNull(path, "path");
    this.start = Objects.requireNonNull(start, "start");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.rotateWaitMs = rotateWait.toMillis();
    if (maxLineBytes <= 0) {
      throw new IllegalArgumentException("maxLineBytes must be positive, got " + maxLineBytes);
    }
    this.maxLineBytes = maxLineBytes;
  }

  public Path path() {
    return path;
  }

  /** Reads every complete line appended since the last poll, from rotated-away files first. */
  public void poll(Listener listener) throws IOException {
    long now = clock.millis();
    for (Iterator<OpenFile> it = rotatedAway.iterator(); it.hasNext(); ) {
      OpenFile old = it.next();
      if (read(old, listener) > 0) {
        old.lastDataMs = now;
      }
      if (now - old.lastDataMs >= rotateWaitMs) {
        old.finish(listener);
        old.close();
        it.remove();
      }
    }
    Identity onDisk = Identity.of(path);
    if (current == null) {
      if (onDisk != null) {
        current = open(start == Start.END);
      }
      start = Start.BEGINNING; // only the file there at the first poll is history; later ones are read whole
    } else if (onDisk != null && !Objects.equals(onDisk.fileKey, current.fileKey)) {
      read(current, listener);
      current.lastDataMs = now;
      rotatedAway.add(current);
      listener.rotated(Rotation.RENAME);
      current = open(false);
    } else if (onDisk != null && current.truncated(onDisk.size)) {
      current.restart();
      listener.rotated(Rotation.TRUNCATE);
    }
    // while the path is missing (renamed, not yet recreated) the old file is still the one written to
    if (current != null) {
      read(current, listener);
    }
  }

  /** Opens the file at the path; null if it was replaced while being opened (the next poll tries again). */
  private OpenFile open(boolean atEnd) throws IOException {
    Identity before = Identity.of(path);
    if (before == null) {
      return null;
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      return null;
    }
    Identity after = Identity.of(path);
    if (after == null || !Objects.equals(before.fileKey, after.fileKey)) {
      channel.close();
      return null;
    }
    OpenFile file = new OpenFile(channel, after.fileKey);
    if (atEnd) {
      long size = channel.size();
      file.position = size;
      file.skipToNewline = size > 0 && file.byteAt(size - 1) != '\n';
    }
    file.rememberHead(channel.size());
    return file;
  }

  private int read(OpenFile file, Listener listener) throws IOException {
    int lines = 0;
    while (true) {
      buffer.clear();
      int n = file.channel.read(buffer, file.position);
      if (n <= 0) {
        return lines;
      }
      file.position += n;
      byte[] bytes = buffer.array();
      int lineStart = 0;
      for (int i = 0; i < n; i++) {
        if (bytes[i] == '\n') {
          if (file.take(bytes, lineStart, i, listener)) {
            lines++;
          }
          lineStart = i + 1;
        }
      }
      file.keep(bytes, lineStart, n, listener);
    }
  }

  @Override
  public void close() throws IOException {
    IOException failure = null;
    List<OpenFile> all = new ArrayList<>(rotatedAway);
    if (current != null) {
      all.add(current);
    }
    for (OpenFile file : all) {
      try {
        file.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    rotatedAway.clear();
    current = null;
    if (failure != null) {
      throw failure;
    }
  }

  private final class OpenFile {
    final FileChannel channel;
    final Object fileKey;
    long position;
    long lastDataMs;
    byte[] head = new byte[0];
    boolean skipToNewline;
    final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    OpenFile(FileChannel channel, Object fileKey) {
      this.channel = channel;
      this.fileKey = fileKey;
    }

    /** A complete line ends at {@code end}; returns whether it was passed on. */
    boolean take(byte[] bytes, int from, int end, Listener listener) {
      if (skipToNewline) {
        skipToNewline = false;
        partial.reset();
        return false;
      }
      if (partial.size() + (end - from) > maxLineBytes) {
        partial.reset();
        listener.oversizedLine();
        return false;
      }
      String line;
      if (partial.size() == 0) {
        line = decode(bytes, from, end);
      } else {
        partial.write(bytes, from, end - from);
        byte[] whole = partial.toByteArray();
        partial.reset();
        line = decode(whole, 0, whole.length);
      }
      listener.line(line);
      return true;
    }

    /** Keeps the start of a line whose newline has not been written yet. */
    void keep(byte[] bytes, int from, int end, Listener listener) {
      if (skipToNewline || from == end) {
        return;
      }
      if (partial.size() + (end - from) > maxLineBytes) {
        partial.reset();
        skipToNewline = true;
        listener.oversizedLine();
        return;
      }
      partial.write(bytes, from, end - from);
    }

    /** A rotated-away file is done: a last line without its newline is still a line. */
    void finish(Listener listener) {
      if (partial.size() > 0 && !skipToNewline) {
        byte[] whole = partial.toByteArray();
        listener.line(decode(whole, 0, whole.length));
      }
      partial.reset();
    }

    boolean truncated(long size) throws IOException {
      if (size < position) {
        return true;
      }
      if (head.length > 0 && !Arrays.equals(head, readAt(0, head.length))) {
        return true;
      }
      rememberHead(size);
      return false;
    }

    void restart() throws IOException {
      position = 0;
      partial.reset();
      skipToNewline = false;
      head = new byte[0];
      rememberHead(channel.size());
    }

    void rememberHead(long size) throws IOException {
      if (head.length < HEAD_BYTES && size > head.length) {
        head = readAt(0, (int) Math.min(HEAD_BYTES, size));
      }
    }

    byte byteAt(long offset) throws IOException {
      return readAt(offset, 1)[0];
    }

    private byte[] readAt(long offset, int length) throws IOException {
      ByteBuffer bytes = ByteBuffer.allocate(length);
      while (bytes.hasRemaining()) {
        if (channel.read(bytes, offset + bytes.position()) < 0) {
          break;
        }
      }
      return Arrays.copyOf(bytes.array(), bytes.position());
    }

    void close() throws IOException {
      channel.close();
    }
  }

  private static String decode(byte[] bytes, int from, int end) {
    int length = end - from;
    if (length > 0 && bytes[end - 1] == '\r') {
      length--;
    }
    return new String(bytes, from, length, StandardCharsets.UTF_8);
  }

  private record Identity(Object fileKey, long size) {
    static Identity of(Path path) throws IOException {
      try {
        BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        return new Identity(attributes.fileKey(), attributes.size());
      } catch (NoSuchFileException e) {
        return null;
      }
    }
  }
}
