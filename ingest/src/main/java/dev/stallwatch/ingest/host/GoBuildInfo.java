package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Go toolchain version an executable was built with (e.g. {@code go1.14.1}), read from the
 * build info blob the Go linker writes into every binary: a 32-byte header starting with
 * {@code "\xff Go buildinf:"}, 16-byte aligned, at the start of the {@code .go.buildinfo} section
 * or near the start of the first writable segment.
 *
 * <p>Two layouts follow the magic: byte 14 is the pointer size, byte 15 holds flags.
 *
 * <ul>
 *   <li>Before Go 1.18: two pointers (in the byte order flag byte 15 gives: non-zero is big endian)
 *       to Go string headers {@code {data pointer, length}} for the version and the module info;
 *       they are virtual addresses, resolved through the program headers.
 *   <li>Go 1.18 and later set flag bit {@code 0x2}: the two strings follow the header inline, each
 *       a uvarint length and the bytes.
 * </ul>
 *
 * <p>A pre-1.18 position-independent executable has zero pointers in the file (they are relocated
 * at load time) and yields no version, as with {@code go version}.
 *
 * @param goVersion the version as {@code runtime.Version()} reports it, e.g. {@code go1.14.1}
 */
public record GoBuildInfo(String goVersion) {
  private static final Logger LOG = LoggerFactory.getLogger(GoBuildInfo.class);

  private static final byte[] MAGIC = "\u00ff Go buildinf:".getBytes(StandardCharsets.ISO_8859_1);
  private static final int HEADER_SIZE = 32;
  private static final int ALIGNMENT = 16;
  private static final int POINTER_SIZE_AT = 14;
  private static final int FLAGS_AT = 15;
  private static final int FLAG_INLINE_STRINGS = 0x2;
  // the linker puts the blob near the start of the data; Go's own reader looks no further
  private static final int SEARCH_WINDOW = 64 * 1024;
  // real versions are short ("go1.22.0 X:boringcrypto", "devel go1.23-1a2b3c4 Tue ..."): more is garbage
  private static final int MAX_VERSION_LENGTH = 1024;
  private static final int MAX_UVARINT_BYTES = 10;

  public GoBuildInfo {
    Objects.requireNonNull(goVersion, "goVersion");
  }

  /**
   * The build info of {@code executable} ({@code /proc/PID/exe} for a running process).
   *
   * @return empty for anything that is not a Go ELF executable with readable build info
   * @throws IOException when the file cannot be opened or read (for {@code /proc/PID/exe} of
   *     another user's process this needs CAP_SYS_PTRACE)
   */
  public static Optional<GoBuildInfo> read(Path executable) throws IOException {
    try (FileChannel file = FileChannel.open(executable, StandardOpenOption.READ)) {
      return Optional.of(new GoBuildInfo(readVersion(file)));
    } catch (NotGoBuildInfoException e) {
      // the normal answer for a C, Java or Python process; debug so a puzzled operator can see why
      LOG.debug("{}: no Go build info: {}", executable, e.getMessage());
      return Optional.empty();
    }
  }

  private static String readVersion(FileChannel file) throws IOException, NotGoBuildInfoException {
    ElfImage elf = ElfImage.read(file);
    long dataStart =
        elf.sectionAddress(".go.buildinfo")
            .or(elf::firstWritableDataSegment)
            .orElseThrow(() -> new NotGoBuildInfoException("no .go.buildinfo section and no writable segment"));
    ByteBuffer data = elf.readVirtual(dataStart, SEARCH_WINDOW);
    int at = alignedMagic(data);
    long headerAddress = dataStart + at;
    int pointerSize = Byte.toUnsignedInt(data.get(at + POINTER_SIZE_AT));
    int flags = Byte.toUnsignedInt(data.get(at + FLAGS_AT));

    String version =
        (flags & FLAG_INLINE_STRINGS) != 0
            ? inlineString(elf.readVirtual(headerAddress + HEADER_SIZE, MAX_UVARINT_BYTES + MAX_VERSION_LENGTH))
            : pointedString(elf, data.slice(at, HEADER_SIZE), pointerSize, flags);
    if (version.isEmpty() || !version.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      throw new NotGoBuildInfoException("build info holds no printable version");
    }
    return version;
  }

  /** Offset of the first magic at a multiple of 16 from the data start with a full header after it. */
  private static int alignedMagic(ByteBuffer data) throws NotGoBuildInfoException {
    byte[] candidate = new byte[MAGIC.length];
    for (int at = 0; at + HEADER_SIZE <= data.limit(); at += ALIGNMENT) {
      data.get(at, candidate);
      if (Arrays.equals(candidate, MAGIC)) {
        return at;
      }
    }
    throw new NotGoBuildInfoException("no Go build info magic in the first " + data.limit() + " bytes of data");
  }

  /** Go 1.18+: uvarint length, then the bytes. */
  private static String inlineString(ByteBuffer data) throws NotGoBuildInfoException {
    long length = 0;
    int shift = 0;
    int at = 0;
    while (true) {
      if (at >= data.limit() || at >= MAX_UVARINT_BYTES) {
        throw new NotGoBuildInfoException("truncated or overlong uvarint string length");
      }
      int b = Byte.toUnsignedInt(data.get(at++));
      length |= (long) (b & 0x7f) << shift;
      if (b < 0x80) {
        break;
      }
      shift += 7;
    }
    if (Long.compareUnsigned(length, Math.min(MAX_VERSION_LENGTH, data.limit() - at)) > 0) {
      throw new NotGoBuildInfoException("inline version length " + Long.toUnsignedString(length) + " is implausible");
    }
    byte[] bytes = new byte[(int) length];
    data.get(at, bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** Before Go 1.18: the header's first pointer leads to a string header, which leads to the bytes. */
  private static String pointedString(ElfImage elf, ByteBuffer header, int pointerSize, int flags)
      throws IOException, NotGoBuildInfoException {
    if (pointerSize != 4 && pointerSize != 8) {
      throw new NotGoBuildInfoException("pointer size " + pointerSize + " is neither 4 nor 8");
    }
    ByteOrder order = flags != 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    long versionHeaderAddress = pointer(header.order(order), 16, pointerSize);
    ByteBuffer stringHeader = elf.readVirtual(versionHeaderAddress, 2 * pointerSize).order(order);
    if (stringHeader.limit() < 2 * pointerSize) {
      throw new NotGoBuildInfoException("version string header runs past its segment");
    }
    long dataAddress = pointer(stringHeader, 0, pointerSize);
    long length = pointer(stringHeader, pointerSize, pointerSize);
    if (Long.compareUnsigned(length, MAX_VERSION_LENGTH) > 0) {
      throw new NotGoBuildInfoException("version length " + Long.toUnsignedString(length) + " is implausible");
    }
    ByteBuffer bytes = elf.readVirtual(dataAddress, (int) length);
    if (bytes.limit() < length) {
      throw new NotGoBuildInfoException("version string runs past its segment");
    }
    return StandardCharsets.UTF_8.decode(bytes).toString();
  }

  private static long pointer(ByteBuffer buffer, int at, int pointerSize) {
    return pointerSize == 8 ? buffer.getLong(at) : Integer.toUnsignedLong(buffer.getInt(at));
  }
}
