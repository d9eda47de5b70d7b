package dev.stallwatch.app.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random bundles (valid rows, mutated rows, random bytes, huge and odd numbers, quotes,
 * control characters, long lines): every one either loads with every value in range, or fails
 * with a {@link BundleException} whose message is one line naming the file. Deterministic: a
 * failure names its seed.
 */
class BundleReadersFuzzTest {

  private static final long T = 1_700_000_000_000L;
  private static final int BUNDLES_PER_SEED = 150;
  private static final String[] FILES = {"containers.csv", "upstream.csv", "traffic.csv", "cpu.csv", "meta.json"};
  private static final String[] HEADERS = {
      "pid,container_id,host,pod,namespace",
      "window_start_ms,window_end_ms,container_id,requests,timeouts",
      "timestamp_ms,container_id,event",
      "window_start_ms,window_end_ms,container_id,cpu_seconds",
      null};
  private static final String[] ODD_CELLS = {
      "", "-1", "0", "NaN", "Infinity", "-Infinity", "1e400", "-0", "9223372036854775807", "9223372036854775808",
      "-9223372036854775808", "4102444800000", "946684799999", "1.5", "0x10", " 7 ", "\"", "\"\"", "\"a,b\"",
      "\u001b[2J", "\r", "\u0000", "\u00e9", "DRAINED", "restored", "c", "h", "9".repeat(40), "x".repeat(300)};

  @TempDir
  Path tmp;

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 20261204})
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void everyRandomBundleLoadsInRangeOrFailsWithOneLineNamingTheFile(long seed) throws IOException {
    Random random = new Random(seed);
    for (int i = 0; i < BUNDLES_PER_SEED; i++) {
      Path dir = tmp.resolve(seed + "-" + i);
      Files.createDirectories(dir.resolve("perf/h"));
      Files.writeString(dir.resolve("perf/h/x.txt"), "");
      for (int f = 0; f < FILES.length; f++) {
        if (f >= 2 && random.nextInt(3) == 0) {
          continue; // optional files may be absent
        }
        Files.write(dir.resolve(FILES[f]), f == 4 ? meta(random) : csv(random, HEADERS[f], f));
      }
      String where = "seed " + seed + " bundle " + i;
      try {
        ReplayBundle bundle = ReplayBundle.load(dir);
        assertInRange(bundle, where);
      } catch (BundleException e) {
        assertThat(e.getMessage()).as(where).doesNotContain("\n", "\r")
            .satisfies(m -> assertThat(List.of(FILES).stream().anyMatch(name -> m.startsWith(dir.resolve(name) + ":")
                || m.startsWith(dir.resolve(name) + " line "))).as(where + ": " + m).isTrue());
      }
    }
  }

  private static void assertInRange(ReplayBundle bundle, String where) {
    long latest = System.currentTimeMillis() + 10 * 60_000;
    bundle.upstream().forEach(w -> {
      assertThat(w.getWindowStartMs()).as(where).isBetween(946_684_800_000L, latest);
      assertThat(w.getWindowEndMs() - w.getWindowStartMs()).as(where).isBetween(1L, BundleLimits.MAX_ROW_SPAN_MS);
      assertThat(w.getTimeouts()).as(where).isBetween(0L, w.getRequests());
      assertThat(w.getContainerId()).as(where).isNotEmpty().hasSizeLessThanOrEqualTo(256);
    });
    bundle.cpu().forEach(c -> {
      assertThat(c.cpuSeconds()).as(where).isFinite().isGreaterThanOrEqualTo(0);
      assertThat(c.windowEndMs() - c.windowStartMs()).as(where).isBetween(1L, BundleLimits.MAX_ROW_SPAN_MS);
    });
    bundle.traffic().forEach(t -> assertThat(t.getTimestampMs()).as(where).isBetween(946_684_800_000L, latest));
    bundle.containers().keySet().forEach(k -> assertThat(k.pid()).as(where).isBetween(0, 4_194_304));
    assertThat(bundle.sampleFrequencyHz()).as(where).isFinite().isBetween(Double.MIN_VALUE, 1e6);
  }

  private static byte[] csv(Random random, String header, int kind) {
    StringBuilder sb = new StringBuilder();
    if (random.nextInt(10) > 0) {
      sb.append(header).append(random.nextBoolean() ? "\n" : "\r\n");
    }
    int rows = random.nextInt(6);
    for (int r = 0; r < rows; r++) {
      String[] cells = validRow(random, kind).split(",", -1);
      int mutations = random.nextInt(3);
      for (int m = 0; m < mutations; m++) {
        cells[random.nextInt(cells.length)] = ODD_CELLS[random.nextInt(ODD_CELLS.length)];
      }
      sb.append(String.join(",", cells));
      if (random.nextInt(20) == 0) {
        sb.append(",extra");
      }
      sb.append(random.nextInt(15) == 0 ? "\r" : "\n");
      if (random.nextInt(25) == 0) {
        sb.append("#").append("y".repeat(random.nextInt(10_000))).append('\n');
      }
    }
    byte[] text = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (random.nextInt(12) == 0 && text.length > 0) {
      text[random.nextInt(text.length)] = (byte) random.nextInt(256); // a random byte anywhere
    }
    return text;
  }

  private static String validRow(Random random, int kind) {
    long start = T + 10_000L * random.nextInt(100);
    long end = start + 1 + random.nextInt(120_000);
    return switch (kind) {
      case 0 -> random.nextInt(5000) + ",c" + random.nextInt(3) + ",h,pod,ns";
      case 1 -> {
        long requests = random.nextInt(2000);
        yield start + "," + end + ",c" + random.nextInt(3) + "," + requests + "," + random.nextInt((int) requests + 2);
      }
      case 2 -> start + ",c" + random.nextInt(3) + "," + (random.nextBoolean() ? "DRAINED" : "RESTORED");
      default -> start + "," + end + ",c" + random.nextInt(3) + "," + random.nextDouble() * 20;
    };
  }

  private static byte[] meta(Random random) {
    String[] values = {"99", "49.5", "0", "-1", "1e400", "1e-400", "\"99\"", "null", "[]", "1000001", "NaN", "99,"};
    String text = random.nextInt(8) == 0 ? "not json"
        : "{\"sample_frequency_hz\": " + values[random.nextInt(values.length)] + "}";
    return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
