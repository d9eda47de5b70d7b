package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Build info from byte fixtures generated here; real Go binaries are in {@link GoBuildInfoRealBinaryTest}. */
class GoBuildInfoTest {
  private static final String MOD_INFO = "path\tgithub.com/acme/checkout\nmod\tgithub.com/acme/checkout\t(devel)\t\n";

  @TempDir Path dir;

  @Test
  void readsPointerLayoutFromElf64LittleEndian() throws IOException {
    Path exe = write(GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.14.1", true));

    assertThat(GoBuildInfo.read(exe)).contains(new GoBuildInfo("go1.14.1"));
  }

  @Test
  void readsPointerLayoutFromElf32BigEndian() throws IOException {
    // e.g. linux/mips: 4-byte big-endian pointers, flag byte 1
    Path exe = write(GoBuildInfoFixtures.pointerLayout(false, ByteOrder.BIG_ENDIAN, "go1.12.17", true));

    assertThat(GoBuildInfo.read(exe)).contains(new GoBuildInfo("go1.12.17"));
  }

  @Test
  void findsPointerLayoutInFirstWritableSegmentWithoutSectionHeaders() throws IOException {
    // the segment also holds a magic at offset 8, which is not 16-byte aligned and must be skipped
    Path exe = write(GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.13.15", false));

    assertThat(GoBuildInfo.read(exe)).contains(new GoBuildInfo("go1.13.15"));
  }

  @Test
  void readsInlineLayoutFromElf64() throws IOException {
    Path exe = write(GoBuildInfoFixtures.inlineLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.21.5", MOD_INFO));

    assertThat(GoBuildInfo.read(exe)).contains(new GoBuildInfo("go1.21.5"));
  }

  @Test
  void readsInlineLayoutFromElf32BigEndian() throws IOException {
    Path exe = write(GoBuildInfoFixtures.inlineLayout(false, ByteOrder.BIG_ENDIAN, "go1.22.0 X:boringcrypto", MOD_INFO));

    assertThat(GoBuildInfo.read(exe)).contains(new GoBuildInfo("go1.22.0 X:boringcrypto"));
  }

  @Test
  void readsInlineVersionWithMultiByteLength() throws IOException {
    String devel = "devel go1.23-" + "1a2b3c4d".repeat(8) + " Tue Jan 9 12:00:00 2024 +0000 " + "x".repeat(50);
    Path exe = write(GoBuildInfoFixtures.inlineLayout(true, ByteOrder.LITTLE_ENDIAN, devel, MOD_INFO));

    assertThat(devel.length()).isGreaterThan(127);
    assertThat(GoBuildInfo.read(exe)).contains(new GoBuildInfo(devel));
  }

  @Test
  void readsBuildInfoFromAFileTooLargeForAnArray() throws IOException {
    // data segment 3 GiB into a sparse file: only ranged reads can get there
    long far = 3L << 30;
    long data = GoBuildInfoFixtures.dataAddress(true);
    ElfFixture elf =
        new ElfFixture(true, ByteOrder.LITTLE_ENDIAN)
            .segment(ElfFixture.PT_LOAD, ElfFixture.PF_R | ElfFixture.PF_W, far, data, 0x100)
            .put(far, GoBuildInfoFixtures.header(8, 0))
            .pointers(far + 16, data + 0x20, data + 0x30)
            .pointers(far + 0x20, data + 0x40, 8, 0, 0)
            .put(far + 0x40, "go1.14.1".getBytes(StandardCharsets.US_ASCII))
            .withoutSectionHeaders();
    Path exe = write(elf);

    assertThat(Files.size(exe)).isGreaterThan(Integer.MAX_VALUE);
    assertThat(GoBuildInfo.read(exe)).contains(new GoBuildInfo("go1.14.1"));
  }

  @Test
  void onlyAMisalignedMagicIsNoBuildInfo() throws IOException {
    ElfFixture elf =
        new ElfFixture(true, ByteOrder.LITTLE_ENDIAN)
            .segment(ElfFixture.PT_LOAD, ElfFixture.PF_R | ElfFixture.PF_W, 0x1000, 0x421000, 0x200)
            .put(0x1008, GoBuildInfoFixtures.header(8, 0x2))
            .put(0x1008 + 32, new byte[] {8, 'g', 'o', '1', '.', '2', '1', '.', '5', 0})
            .withoutSectionHeaders();

    assertThat(GoBuildInfo.read(write(elf))).isEmpty();
  }

  @Test
  void pointerOutsideTheFileIsNoBuildInfo() throws IOException {
    ElfFixture elf = GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.14.1", true);
    long data = GoBuildInfoFixtures.dataAddress(true);
    elf.pointers(GoBuildInfoFixtures.DATA_OFFSET + 16, 0x7fff_0000_0000L, data + 0x30);

    assertThat(GoBuildInfo.read(write(elf))).isEmpty();
  }

  @Test
  void zeroPointersOfAnOldPositionIndependentExecutableAreNoBuildInfo() throws IOException {
    ElfFixture elf = GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.14.1", true);
    elf.pointers(GoBuildInfoFixtures.DATA_OFFSET + 16, 0, 0);

    assertThat(GoBuildInfo.read(write(elf))).isEmpty();
  }

  @Test
  void implausibleVersionLengthIsNoBuildInfo() throws IOException {
    ElfFixture elf = GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.14.1", true);
    long text = GoBuildInfoFixtures.textAddress(true);
    elf.pointers(GoBuildInfoFixtures.DATA_OFFSET + 0x20, text + GoBuildInfoFixtures.VERSION_OFFSET, 1L << 40);

    assertThat(GoBuildInfo.read(write(elf))).isEmpty();
  }

  @Test
  void elfWithoutBuildInfoIsEmpty() throws IOException {
    ElfFixture elf =
        new ElfFixture(true, ByteOrder.LITTLE_ENDIAN)
            .segment(ElfFixture.PT_LOAD, ElfFixture.PF_R | ElfFixture.PF_X, 0, 0x400000, 0x1000)
            .segment(ElfFixture.PT_LOAD, ElfFixture.PF_R | ElfFixture.PF_W, 0x1000, 0x601000, 0x100)
            .put(0x1000, new byte[0x100]);

    assertThat(GoBuildInfo.read(write(elf))).isEmpty();
  }

  @Test
  void theJavaLauncherRunningThisTestIsNotGo() throws IOException {
    assertThat(GoBuildInfo.read(Path.of("/proc/self/exe"))).isEmpty();
  }

  @Test
  void textEmptyAndTinyFilesAreEmpty() throws IOException {
    assertThat(GoBuildInfo.read(writeBytes("text", "#!/bin/sh\necho go1.14.1\n".getBytes()))).isEmpty();
    assertThat(GoBuildInfo.read(writeBytes("empty", new byte[0]))).isEmpty();
    assertThat(GoBuildInfo.read(writeBytes("elf-magic-only", new byte[] {0x7f, 'E', 'L', 'F'}))).isEmpty();
  }

  @Test
  void everyTruncationOfAGoExecutableIsEmptyOrTheVersion() throws IOException {
    byte[] whole = GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.14.1", true)
        .toBytes(dir.resolve("whole"));
    Path truncated = dir.resolve("truncated");

    for (int length = 0; length < whole.length; length++) {
      Files.write(truncated, Arrays.copyOf(whole, length));
      Optional<GoBuildInfo> info = GoBuildInfo.read(truncated);
      assertThat(info).as("first %d bytes", length).satisfiesAnyOf(
          i -> assertThat(i).isEmpty(), i -> assertThat(i).contains(new GoBuildInfo("go1.14.1")));
    }
  }

  @Test
  void corruptedExecutablesNeverThrow() throws IOException {
    Random random = new Random(38023);
    byte[][] originals = {
      GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.14.1", true).toBytes(dir.resolve("a")),
      GoBuildInfoFixtures.pointerLayout(false, ByteOrder.BIG_ENDIAN, "go1.14.1", false).toBytes(dir.resolve("b")),
      GoBuildInfoFixtures.inlineLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.21.5", MOD_INFO).toBytes(dir.resolve("c")),
    };
    Path corrupted = dir.resolve("corrupted");

    for (int i = 0; i < 3000; i++) {
      byte[] bytes = originals[i % originals.length].clone();
      // headers and the blob are where corruption leads parsers astray
      int region = random.nextBoolean() ? 0x100 : bytes.length;
      for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
        bytes[random.nextInt(Math.min(region, bytes.length))] = (byte) random.nextInt(256);
      }
      Files.write(corrupted, bytes);
      int iteration = i;
      assertThatCode(() -> GoBuildInfo.read(corrupted)).as("corruption %d", iteration).doesNotThrowAnyException();
    }
  }

  @Test
  void randomBytesBehindAnElfMagicAreEmpty() throws IOException {
    Random random = new Random(38070);
    Path garbage = dir.resolve("garbage");

    for (int i = 0; i < 500; i++) {
      byte[] bytes = new byte[64 + random.nextInt(8192)];
      random.nextBytes(bytes);
      System.arraycopy(new byte[] {0x7f, 'E', 'L', 'F', (byte) (1 + i % 2), (byte) (1 + (i / 2) % 2)}, 0, bytes, 0, 6);
      Files.write(garbage, bytes);

      assertThat(GoBuildInfo.read(garbage)).isEmpty();
    }
  }

  @Test
  void missingFileIsAnIOException() {
    assertThatThrownBy(() -> GoBuildInfo.read(dir.resolve("absent"))).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void directoryIsAnIOException() {
    assertThatThrownBy(() -> GoBuildInfo.read(dir)).isInstanceOf(IOException.class);
  }

  private Path write(ElfFixture elf) throws IOException {
    Path exe = dir.resolve("exe");
    elf.writeTo(exe);
    return exe;
  }

  private Path writeBytes(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }
}
