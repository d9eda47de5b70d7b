package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds small ELF32/ELF64 files byte by byte: a header, program headers, chosen contents at chosen
 * offsets, and optionally section headers with their name table after the contents. Written with
 * positional writes, so contents at a far offset make a sparse file.
 */
final class ElfFixture {
  static final int PT_LOAD = 1;
  static final int PF_R = 0x4;
  static final int PF_W = 0x2;
  static final int PF_X = 0x1;
  static final int SHT_PROGBITS = 1;
  static final int SHT_STRTAB = 3;
  static final long SHF_WRITE_ALLOC = 0x3;
  static final long SHF_ALLOC_EXEC = 0x6;

  private record Segment(int type, int flags, long offset, long vaddr, long size) {}

  private record Section(String name, int type, long flags, long addr, long offset, long size) {}

  private record Content(long offset, byte[] bytes) {}

  private final boolean is64;
  private final ByteOrder order;
  private final List<Segment> segments = new ArrayList<>();
  private final List<Section> sections = new ArrayList<>();
  private final List<Content> contents = new ArrayList<>();
  private boolean withSectionHeaders = true;

  ElfFixture(boolean is64, ByteOrder order) {
    this.is64 = is64;
    this.order = order;
  }

  int pointerSize() {
    return is64 ? 8 : 4;
  }

  ElfFixture segment(int type, int flags, long offset, long vaddr, long size) {
    segments.add(new Segment(type, flags, offset, vaddr, size));
    return this;
  }

  ElfFixture section(String name, int type, long flags, long addr, long offset, long size) {
    sections.add(new Section(name, type, flags, addr, offset, size));
    return this;
  }

  ElfFixture withoutSectionHeaders() {
    withSectionHeaders = false;
    return this;
  }

  ElfFixture put(long offset, byte[] bytes) {
    contents.add(new Content(offset, bytes));
    return this;
  }

  /** Pointer-sized values in the file's byte order. */
  ElfFixture pointers(long offset, long... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * pointerSize()).order(order);
    for (long value : values) {
      if (is64) {
        buffer.putLong(value);
      } else {
        buffer.putInt((int) value);
      }
    }
    return put(offset, buffer.array());
  }

  void writeTo(Path file) throws IOException {
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      long contentEnd = 0;
      for (Content content : contents) {
        channel.write(ByteBuffer.wrap(content.bytes()), content.offset());
        contentEnd = Math.max(contentEnd, content.offset() + content.bytes().length);
      }
      // the file holds every byte its headers promise, zeros where nothing was put
      long end = contentEnd;
      for (Segment segment : segments) {
        end = Math.max(end, segment.offset() + segment.size());
      }
      for (Section section : sections) {
        end = Math.max(end, section.offset() + section.size());
      }
      if (end > contentEnd) {
        channel.write(ByteBuffer.allocate(1), end - 1);
      }
      long shoff = 0;
      int shstrndx = 0;
      List<Section> all = new ArrayList<>();
      if (withSectionHeaders) {
        // section 0 is the null section; the name table comes last
        ByteBuffer names = ByteBuffer.allocate(4096);
        names.put((byte) 0);
        List<Integer> nameOffsets = new ArrayList<>();
        all.add(new Section("", 0, 0, 0, 0, 0));
        all.addAll(sections);
        all.add(new Section(".shstrtab", SHT_STRTAB, 0, 0, end, 0));
        for (Section section : all.subList(1, all.size())) {
          nameOffsets.add(names.position());
          names.put(section.name().getBytes(StandardCharsets.US_ASCII)).put((byte) 0);
        }
        int namesSize = names.position();
        all.set(all.size() - 1, new Section(".shstrtab", SHT_STRTAB, 0, 0, end, namesSize));
        channel.write(ByteBuffer.wrap(names.array(), 0, namesSize), end);
        shoff = (end + namesSize + 7) & ~7L;
        shstrndx = all.size() - 1;
        ByteBuffer table = ByteBuffer.allocate(all.size() * sectionHeaderSize()).order(order);
        for (int i = 0; i < all.size(); i++) {
          putSectionHeader(table, all.get(i), i == 0 ? 0 : nameOffsets.get(i - 1));
        }
        channel.write(table.flip(), shoff);
      }
      channel.write(header(shoff, all.size(), shstrndx), 0);
      ByteBuffer programHeaders = ByteBuffer.allocate(segments.size() * programHeaderSize()).order(order);
      segments.forEach(s -> putProgramHeader(programHeaders, s));
      channel.write(programHeaders.flip(), headerSize());
    }
  }

  byte[] toBytes(Path scratch) throws IOException {
    writeTo(scratch);
    return Files.readAllBytes(scratch);
  }

  private int headerSize() {
    return is64 ? 64 : 52;
  }

  private int programHeaderSize() {
    return is64 ? 56 : 32;
  }

  private int sectionHeaderSize() {
    return is64 ? 64 : 40;
  }

  private ByteBuffer header(long shoff, int shnum, int shstrndx) {
    ByteBuffer h = ByteBuffer.allocate(headerSize()).order(order);
    h.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), (byte) (order == ByteOrder.LITTLE_ENDIAN ? 1 : 2), 1, 0});
    h.position(16);
    h.putShort((short) 2); // ET_EXEC
    h.putShort((short) (is64 ? 62 : 3)); // x86-64 or i386; the reader does not care
    h.putInt(1);
    putAddress(h, 0x401000); // entry
    putAddress(h, segments.isEmpty() ? 0 : headerSize()); // phoff
    putAddress(h, shoff);
    h.putInt(0); // flags
    h.putShort((short) headerSize());
    h.putShort((short) programHeaderSize());
    h.putShort((short) segments.size());
    h.putShort((short) sectionHeaderSize());
    h.putShort((short) shnum);
    h.putShort((short) shstrndx);
    return h.flip();
  }

  private void putProgramHeader(ByteBuffer b, Segment s) {
    if (is64) {
      b.putInt(s.type()).putInt(s.flags()).putLong(s.offset()).putLong(s.vaddr()).putLong(s.vaddr());
      b.putLong(s.size()).putLong(s.size()).putLong(0x1000);
    } else {
      b.putInt(s.type()).putInt((int) s.offset()).putInt((int) s.vaddr()).putInt((int) s.vaddr());
      b.putInt((int) s.size()).putInt((int) s.size()).putInt(s.flags()).putInt(0x1000);
    }
  }

  private void putSectionHeader(ByteBuffer b, Section s, int nameOffset) {
    b.putInt(nameOffset).putInt(s.type());
    putAddress(b, s.flags());
    putAddress(b, s.addr());
    putAddress(b, s.offset());
    putAddress(b, s.size());
    b.putInt(0).putInt(0); // link, info
    putAddress(b, 16); // addralign
    putAddress(b, 0); // entsize
  }

  private void putAddress(ByteBuffer b, long value) {
    if (is64) {
      b.putLong(value);
    } else {
      b.putInt((int) value);
    }
  }
}
