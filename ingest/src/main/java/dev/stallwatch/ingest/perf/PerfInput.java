package dev.stallwatch.ingest.perf;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** {@code perf script} text as bytes, plain or gzip (told by its magic bytes, not its name). */
public final class PerfInput {
  private static final int GZIP_MAGIC_1 = 0x1f;
  private static final int GZIP_MAGIC_2 = 0x8b;

  /** Damaged gzip input: cut off, or not gzip after its magic bytes. */
  public static final class BadGzipException extends IOException {
    BadGzipException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private PerfInput() {}

  public static InputStream open(Path path) throws IOException {
    InputStream in = Files.newInputStream(path);
    try {
      return maybeGunzip(in);
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  /** Wraps {@code in} in a gzip decoder when it starts with the gzip magic bytes. */
  public static InputStream maybeGunzip(InputStream in) throws IOException {
    InputStream buffered = in.markSupported() ? in : new BufferedInputStream(in, 1 << 16);
    buffered.mark(2);
    int first = buffered.read();
    int second = buffered.read();
    buffered.reset();
    if (first == GZIP_MAGIC_1 && second == GZIP_MAGIC_2) {
      try {
        return new Gunzip(new GZIPInputStream(buffered, 1 << 16));
      } catch (EOFException e) {
        throw new BadGzipException("truncated gzip: the input ends inside the gzip header", e);
      } catch (ZipException e) {
        throw new BadGzipException("corrupt gzip: " + e.getMessage(), e);
      }
    }
    return buffered;
  }

  /** Turns the decoder's bare EOF and zip errors into one message that says what is wrong with the input. */
  private static final class Gunzip extends FilterInputStream {
    Gunzip(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (EOFException e) {
        throw truncated(e);
      } catch (ZipException e) {
        throw new BadGzipException("corrupt gzip: " + e.getMessage(), e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (EOFException e) {
        throw truncated(e);
      } catch (ZipException e) {
        throw new BadGzipException("corrupt gzip: " + e.getMessage(), e);
      }
    }

    private static BadGzipException truncated(EOFException e) {
      return new BadGzipException("truncated gzip: the input ends inside the compressed data", e);
    }
  }
}
