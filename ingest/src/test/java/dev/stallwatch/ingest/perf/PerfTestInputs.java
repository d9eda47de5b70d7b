package dev.stallwatch.ingest.perf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The golden inputs, all in {@code src/test/resources/perf}: four real captures of this project's own
 * machines ({@code *.perf.txt.gz}) and small recordings ({@code *.perf.txt}).
 */
final class PerfTestInputs {
  static final Path RESOURCES = Path.of("src/test/resources/perf");

  private PerfTestInputs() {}

  /** Every golden input: name (as in NAME.folded) and path. */
  static Stream<Input> all() {
    return Stream.concat(captures().stream(), recorded().stream());
  }

  /** The real captures (Go osyield + morestack, a DWARF call graph, JIT maps, a deleted DSO), gzipped. */
  static List<Input> captures() {
    return list(RESOURCES, ".perf.txt.gz");
  }

  static List<Input> recorded() {
    return list(RESOURCES, ".perf.txt");
  }

  /** Inputs with one event type, where the reader and the folder must agree sample for sample. */
  static Stream<Input> singleEvent() {
    return all().filter(input -> !input.name().contains("multi-event"));
  }

  static byte[] bytes(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      byte[] raw = in.readAllBytes();
      if (raw.length > 1 && (raw[0] & 0xFF) == 0x1f && (raw[1] & 0xFF) == 0x8b) {
        try (InputStream gz = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
          return gz.readAllBytes();
        }
      }
      return raw;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Input> list(Path dir, String suffix) {
    try (Stream<Path> files = Files.list(dir)) {
      List<Input> inputs = files
          .filter(path -> path.getFileName().toString().endsWith(suffix))
          .sorted()
          .map(path -> {
            String file = path.getFileName().toString();
            return new Input(file.substring(0, file.length() - suffix.length()), path);
          })
          .toList();
      if (inputs.isEmpty()) {
        throw new IllegalStateException("no *" + suffix + " in " + dir);
      }
      return inputs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  record Input(String name, Path path) {
    Path expectedFolded() {
      return RESOURCES.resolve(name + ".folded");
    }

    long expectedUnrecognized() {
      try {
        return Long.parseLong(Files.readString(RESOURCES.resolve(name + ".unrecognized")).trim());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
