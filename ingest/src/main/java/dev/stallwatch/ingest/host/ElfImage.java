package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Just enough of an ELF32/ELF64 file to read bytes at a virtual address: program headers and
 * section headers, read with ranged reads so that a 100 MB executable costs a few pages.
 * Every value read from the file is bounds-checked; anything that does not fit raises
 * {@link NotGoBuildInfoException}.
 */
final class ElfImage {
  private static final int PT_LOAD = 1;
  private static final int PF_X = 0x1;
  private static final int PF_W = 0x2;
  private static final int SHT_NOBITS = 8;
  private static final long SHF_ALLOC = 0x2;

  // real files have a handful of program headers and a few dozen sections; more is garbage
  private static final int MAX_PROGRAM_HEADERS = 4096;
  private static final int MAX_SECTIONS = 65_535;
  private static final int MAX_HEADER_ENTRY_SIZE = 256;
  private static final int MAX_SECTION_NAMES_BYTES = 1 << 20;

  /** A PT_LOAD program header or an allocated section: file bytes at a virtual address. */
  private record Mapping(long vaddr, long offset, long fileSize) {
    boolean contains(long address) {
      return Long.compareUnsigned(address, vaddr) >= 0 && Long.compareUnsigned(address - vaddr, fileSize) < 0;
    }
  }

  private record Segment(int type, int flags, Mapping mapping) {}

  private record Section(String name, int type, long flags, Mapping mapping) {}

  private final FileChannel file;
  private final long fileSize;
  private final ByteOrder order;
  private final List<Segment> segments;
  private final List<Section> sections;

  private ElfImage(FileChannel file, long fileSize, ByteOrder order, List<Segment> segments, List<Section> sections) {
    this.file = file;
    this.fileSize = fileSize;
    this.order = order;
    this.segments = List.copyOf(segments);
    this.sections = List.copyOf(sections);
  }

  static ElfImage read(FileChannel file) throws IOException, NotGoBuildInfoException {
    long fileSize = file.size();
    ByteBuffer ident = readAt(file, fileSize, 0, 16, ByteOrder.LITTLE_ENDIAN);
    if (ident.getInt(0) != 0x464c457f) { // "\x7fELF" read little-endian
      throw new NotGoBuildInfoException("not an ELF file");
    }
    boolean is64 =
        switch (ident.get(4)) {
          case 1 -> false;
          case 2 -> true;
          default -> throw new NotGoBuildInfoException("unknown ELF class " + ident.get(4));
        };
    ByteOrder order =
        switch (ident.get(5)) {
          case 1 -> ByteOrder.LITTLE_ENDIAN;
          case 2 -> ByteOrder.BIG_ENDIAN;
          default -> throw new NotGoBuildInfoException("unknown ELF data encoding " + ident.get(5));
        };
    HeaderReader header = new HeaderReader(readAt(file, fileSize, 0, is64 ? 64 : 52, order), is64);
    long phoff = header.address(is64 ? 32 : 28);
    long shoff = header.address(is64 ? 40 : 32);
    int phentsize = header.u16(is64 ? 54 : 42);
    int phnum = header.u16(is64 ? 56 : 44);
    int shentsize = header.u16(is64 ? 58 : 46);
    int shnum = header.u16(is64 ? 60 : 48);
    int shstrndx = header.u16(is64 ? 62 : 50);

    List<Segment> segments = readSegments(file, fileSize, order, phoff, phentsize, phnum, is64);
    List<Section> sections = readSections(file, fileSize, order, shoff, shentsize, shnum, shstrndx, is64);
    return new ElfImage(file, fileSize, order, segments, sections);
  }

  /** The virtual address of the named section, if the file has section headers and that section. */
  Optional<Long> sectionAddress(String name) {
    return sections.stream().filter(s -> s.name().equals(name)).map(s -> s.mapping().vaddr()).findFirst();
  }

  /** The first loadable segment that is writable but not executable: where Go puts its data. */
  Optional<Long> firstWritableDataSegment() {
    return segments.stream()
        .filter(s -> s.type() == PT_LOAD && (s.flags() & (PF_X | PF_W)) == PF_W)
        .map(s -> s.mapping().vaddr())
        .findFirst();
  }

  /**
   * Up to {@code maxLength} bytes from virtual address {@code address}, fewer where the segment
   * holding it ends. Segments come first; allocated sections cover files without program headers.
   */
  ByteBuffer readVirtual(long address, int maxLength) throws IOException, NotGoBuildInfoException {
    Optional<Mapping> mapping =
        segments.stream().filter(s -> s.type() == PT_LOAD).map(Segment::mapping).filter(m -> m.contains(address)).findFirst();
    if (mapping.isEmpty()) {
      mapping =
          sections.stream()
              .filter(s -> (s.flags() & SHF_ALLOC) != 0 && s.type() != SHT_NOBITS)
              .map(Section::mapping)
              .filter(m -> m.contains(address))
              .findFirst();
    }
    if (mapping.isEmpty()) {
      throw new NotGoBuildInfoException("address 0x" + Long.toHexString(address) + " is not in the file");
    }
    Mapping m = mapping.get();
    long inMapping = address - m.vaddr();
    long length = Math.min(maxLength, m.fileSize() - inMapping);
    return readAt(file, fileSize, m.offset() + inMapping, (int) length, order);
  }

  private static List<Segment> readSegments(
      FileChannel file, long fileSize, ByteOrder order, long phoff, int entrySize, int count, boolean is64)
      throws IOException, NotGoBuildInfoException {
    List<Segment> segments = new ArrayList<>();
    if (count == 0) {
      return segments;
    }
    if (count > MAX_PROGRAM_HEADERS || entrySize < (is64 ? 56 : 32) || entrySize > MAX_HEADER_ENTRY_SIZE) {
      throw new NotGoBuildInfoException("implausible program header table: " + count + " × " + entrySize);
    }
    ByteBuffer table = readAt(file, fileSize, phoff, count * entrySize, order);
    for (int i = 0; i < count; i++) {
      HeaderReader ph = new HeaderReader(table.slice(i * entrySize, entrySize).order(order), is64);
      int type = ph.u32(0);
      // only loadable segments hold data at addresses; the others (notes, stack, TLS) are not read
      if (type != PT_LOAD) {
        continue;
      }
      int flags = ph.u32(is64 ? 4 : 24);
      Mapping mapping = ph.mapping(is64 ? 16 : 8, is64 ? 8 : 4, is64 ? 32 : 16, fileSize);
      segments.add(new Segment(type, flags, mapping));
    }
    return segments;
  }

  private static List<Section> readSections(
      FileChannel file, long fileSize, ByteOrder order, long shoff, int entrySize, int count, int namesIndex, boolean is64)
      throws IOException, NotGoBuildInfoException {
    List<Section> sections = new ArrayList<>();
    // stripped of section headers (count 0), or more than 0xff00 (kept in section 0): not needed
    if (count == 0 || shoff == 0) {
      return sections;
    }
    if (count > MAX_SECTIONS || entrySize < (is64 ? 64 : 40) || entrySize > MAX_HEADER_ENTRY_SIZE) {
      throw new NotGoBuildInfoException("implausible section header table: " + count + " × " + entrySize);
    }
    ByteBuffer table = readAt(file, fileSize, shoff, count * entrySize, order);
    List<HeaderReader> headers = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      headers.add(new HeaderReader(table.slice(i * entrySize, entrySize).order(order), is64));
    }
    ByteBuffer names = ByteBuffer.allocate(0);
    if (namesIndex < count) {
      HeaderReader namesHeader = headers.get(namesIndex);
      long size = namesHeader.address(is64 ? 32 : 20);
      if (Long.compareUnsigned(size, MAX_SECTION_NAMES_BYTES) > 0) {
        throw new NotGoBuildInfoException("implausible section name table size " + Long.toUnsignedString(size));
      }
      names = readAt(file, fileSize, namesHeader.address(is64 ? 24 : 16), (int) size, order);
    }
    for (HeaderReader sh : headers) {
      String name = cString(names, sh.u32(0));
      int type = sh.u32(4);
      long flags = sh.address(8);
      Mapping mapping =
          type == SHT_NOBITS
              ? new Mapping(sh.address(is64 ? 16 : 12), 0, 0)
              : sh.mapping(is64 ? 16 : 12, is64 ? 24 : 16, is64 ? 32 : 20, fileSize);
      sections.add(new Section(name, type, flags, mapping));
    }
    return sections;
  }

  private static String cString(ByteBuffer table, int offset) {
    if (offset < 0 || offset >= table.limit()) {
      return "";
    }
    int end = offset;
    while (end < table.limit() && table.get(end) != 0) {
      end++;
    }
    byte[] bytes = new byte[end - offset];
    table.get(offset, bytes);
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  /** Exactly {@code length} bytes at {@code offset}, or the file is not what its headers say. */
  private static ByteBuffer readAt(FileChannel file, long fileSize, long offset, int length, ByteOrder order)
      throws IOException, NotGoBuildInfoException {
    if (offset < 0 || length < 0 || offset > fileSize - length) {
      throw new NotGoBuildInfoException(
          length + " bytes at offset " + Long.toUnsignedString(offset) + " are past the end of the file (" + fileSize + " bytes)");
    }
    ByteBuffer buffer = ByteBuffer.allocate(length).order(order);
    while (buffer.hasRemaining()) {
      if (file.read(buffer, offset + buffer.position()) < 0) {
        throw new NotGoBuildInfoException("file shorter than its size: ended at " + (offset + buffer.position()));
      }
    }
    return buffer.flip();
  }

  /** Fields of a header whose address-sized fields are 4 or 8 bytes; all values unsigned. */
  private record HeaderReader(ByteBuffer buffer, boolean is64) {
    int u16(int at) {
      return Short.toUnsignedInt(buffer.getShort(at));
    }

    int u32(int at) {
      return buffer.getInt(at);
    }

    long address(int at) {
      return is64 ? buffer.getLong(at) : Integer.toUnsignedLong(buffer.getInt(at));
    }

    Mapping mapping(int vaddrAt, int offsetAt, int sizeAt, long fileSize) throws NotGoBuildInfoException {
      long offset = address(offsetAt);
      long size = address(sizeAt);
      if (offset < 0 || size < 0 || offset > fileSize || size > fileSize - offset) {
        throw new NotGoBuildInfoException(
            "header points past the end of the file: offset " + Long.toUnsignedString(offset) + ", size "
                + Long.toUnsignedString(size));
      }
      return new Mapping(address(vaddrAt), offset, size);
    }
  }
}
