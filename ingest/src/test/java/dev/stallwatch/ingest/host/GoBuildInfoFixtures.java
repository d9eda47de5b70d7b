package dev.stallwatch.ingest.host;

import static dev.stallwatch.ingest.host.ElfFixture.PF_R;
import static dev.stallwatch.ingest.host.ElfFixture.PF_W;
import static dev.stallwatch.ingest.host.ElfFixture.PF_X;
import static dev.stallwatch.ingest.host.ElfFixture.PT_LOAD;
import static dev.stallwatch.ingest.host.ElfFixture.SHF_ALLOC_EXEC;
import static dev.stallwatch.ingest.host.ElfFixture.SHF_WRITE_ALLOC;
import static dev.stallwatch.ingest.host.ElfFixture.SHT_PROGBITS;

import java.io.ByteArrayOutputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Minimal executables laid out as the Go linker lays them out: a read-only text segment at the
 * start of the file, then a writable data segment whose first bytes are the build info blob
 * (the {@code .go.buildinfo} section).
 */
final class GoBuildInfoFixtures {
  static final byte[] MAGIC = "\u00ff Go buildinf:".getBytes(StandardCharsets.ISO_8859_1);
  static final long TEXT_OFFSET = 0;
  static final long DATA_OFFSET = 0x1000;
  static final long VERSION_OFFSET = 0x800;
  static final int SEGMENT_SIZE = 0x200;

  private GoBuildInfoFixtures() {}

  static long textAddress(boolean is64) {
    return is64 ? 0x400000L : 0x8048000L;
  }

  /** The data segment is mapped far from its file offset, as in real binaries, so addresses must be translated. */
  static long dataAddress(boolean is64) {
    return textAddress(is64) + 0x21000L;
  }

  /**
   * Go before 1.18: the blob holds pointers to string headers, which point at the version bytes
   * (here in the text segment, as {@code runtime.buildVersion}'s data is in rodata).
   *
   * @param withSections false for a file without section headers: the blob is then found by
   *     searching the first writable segment, after a misaligned decoy magic
   */
  static ElfFixture pointerLayout(boolean is64, ByteOrder order, String version, boolean withSections) {
    ElfFixture elf = new ElfFixture(is64, order);
    int p = elf.pointerSize();
    long text = textAddress(is64);
    long data = dataAddress(is64);
    long blob = withSections ? 0 : 0x40;
    elf.segment(PT_LOAD, PF_R | PF_X, TEXT_OFFSET, text, 0x1000)
        .segment(PT_LOAD, PF_R | PF_W, DATA_OFFSET, data, SEGMENT_SIZE)
        .put(VERSION_OFFSET, version.getBytes(StandardCharsets.US_ASCII))
        .put(DATA_OFFSET + blob, header(p, order == ByteOrder.BIG_ENDIAN ? 1 : 0))
        // runtime.buildVersion and runtime.modinfo string headers, right after the blob
        .pointers(DATA_OFFSET + blob + 16, data + blob + 0x20, data + blob + 0x20 + 2L * p)
        .pointers(DATA_OFFSET + blob + 0x20, text + VERSION_OFFSET, version.length(), 0, 0);
    if (withSections) {
      elf.section(".text", SHT_PROGBITS, SHF_ALLOC_EXEC, text, TEXT_OFFSET, 0x1000)
          .section(".go.buildinfo", SHT_PROGBITS, SHF_WRITE_ALLOC, data, DATA_OFFSET, 0x20)
          .section(".noptrdata", SHT_PROGBITS, SHF_WRITE_ALLOC, data + 0x20, DATA_OFFSET + 0x20, SEGMENT_SIZE - 0x20);
    } else {
      elf.withoutSectionHeaders().put(DATA_OFFSET + 8, header(p, 0));
    }
    return elf;
  }

  /** Go 1.18+: flag 0x2, pointers zero, version and module info inline after the 32-byte header. */
  static ElfFixture inlineLayout(boolean is64, ByteOrder order, String version, String modInfo) {
    ElfFixture elf = new ElfFixture(is64, order);
    long data = dataAddress(is64);
    ByteArrayOutputStream strings = new ByteArrayOutputStream();
    writeUvarintString(strings, version);
    writeUvarintString(strings, modInfo);
    return elf.segment(PT_LOAD, PF_R | PF_X, TEXT_OFFSET, textAddress(is64), 0x1000)
        .segment(PT_LOAD, PF_R | PF_W, DATA_OFFSET, data, SEGMENT_SIZE)
        .put(DATA_OFFSET, header(elf.pointerSize(), 0x2 | (order == ByteOrder.BIG_ENDIAN ? 1 : 0)))
        .put(DATA_OFFSET + 32, strings.toByteArray())
        .section(".text", SHT_PROGBITS, SHF_ALLOC_EXEC, textAddress(is64), TEXT_OFFSET, 0x1000)
        .section(".go.buildinfo", SHT_PROGBITS, SHF_WRITE_ALLOC, data, DATA_OFFSET, SEGMENT_SIZE);
  }

  /** Magic, pointer size, flags: the first 16 of the 32 header bytes. */
  static byte[] header(int pointerSize, int flags) {
    byte[] header = new byte[16];
    System.arraycopy(MAGIC, 0, header, 0, MAGIC.length);
    header[14] = (byte) pointerSize;
    header[15] = (byte) flags;
    return header;
  }

  static void writeUvarintString(ByteArrayOutputStream out, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    long length = bytes.length;
    while (length >= 0x80) {
      out.write((int) (length & 0x7f) | 0x80);
      length >>>= 7;
    }
    out.write((int) length);
    out.writeBytes(bytes);
  }
}
