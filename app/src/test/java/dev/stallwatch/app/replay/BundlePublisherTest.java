package dev.stallwatch.app.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The windows a bundle folds into do not depend on file order, names or how samples are split. */
class BundlePublisherTest {
  private static final long WINDOW_MS = 10_000;

  @TempDir
  Path tmp;

  @Test
  void windowsDoNotDependOnHowAHostsSamplesAreSplitAcrossFiles() throws IOException {
    Path original = tmp.resolve("original");
    new DemoBundle().write(original);
    Path resplit = tmp.resolve("resplit");
    copyCsvFiles(original, resplit);
    // node-a's samples, shuffled by sample and dealt into five files with other names
    for (String host : List.of("node-a", "node-b")) {
      List<String> samples = new ArrayList<>();
      try (Stream<Path> files = Files.list(original.resolve("perf").resolve(host))) {
        for (Path file : files.sorted().toList()) {
          samples.addAll(List.of(read(file).split("\n\n")));
        }
      }
      Collections.shuffle(samples, new Random(7));
      Path hostDir = Files.createDirectories(resplit.resolve("perf").resolve(host));
      int parts = host.equals("node-a") ? 5 : 2;
      for (int p = 0; p < parts; p++) {
        StringBuilder text = new StringBuilder();
        for (int i = p; i < samples.size(); i += parts) {
          text.append(samples.get(i).strip()).append("\n\n");
        }
        Files.writeString(hostDir.resolve("z" + (parts - p) + ".data"), text);
      }
    }

    List<ProfileWindow> a = new BundlePublisher(WINDOW_MS).profileWindows(ReplayBundle.load(original));
    List<ProfileWindow> b = new BundlePublisher(WINDOW_MS).profileWindows(ReplayBundle.load(resplit));
    assertThat(a).isNotEmpty();
    assertThat(b).isEqualTo(a);
  }

  @Test
  void samplesOfOneContainerOnOneHostFoldIntoOneWindowPerTenSeconds() throws IOException {
    Path dir = tmp.resolve("demo");
    new DemoBundle().write(dir);
    List<ProfileWindow> windows = new BundlePublisher(WINDOW_MS).profileWindows(ReplayBundle.load(dir));
    assertThat(windows).allSatisfy(w -> {
      assertThat(w.getWindowStartMs() % WINDOW_MS).isZero();
      assertThat(w.getWindowEndMs() - w.getWindowStartMs()).isEqualTo(WINDOW_MS);
    });
    long distinct = windows.stream().map(w -> w.getHost() + "/" + w.getContainerId() + "/" + w.getWindowStartMs())
        .distinct().count();
    assertThat(distinct).isEqualTo(windows.size());
    ProfileWindow wedged = windows.stream()
        .filter(w -> w.getContainerId().equals(DemoBundle.WEDGED) && w.getStringsList().contains("runtime.osyield"))
        .findFirst().orElseThrow();
    assertThat(wedged.getRuntime().getVersion()).isEqualTo("go1.14.1");
    assertThat(wedged.getPod()).isEqualTo("orders-7f9c6d5b8-x2k4q");
    assertThat(wedged.hasCgroupCpuNs()).isTrue();
    // frame 0 of every stack is the process name, as in the folded format
    assertThat(wedged.getStacksList()).allSatisfy(s -> assertThat(wedged.getStrings(s.getFrames(0))).isEqualTo("orders-svc"));
  }

  @Test
  void upstreamRowsOfAnyLengthBecomeOneAlignedWindowPerContainer() {
    long t0 = 1_700_000_000_000L; // on a 10 s boundary
    List<UpstreamWindow> rows = List.of(
        upstream("a", t0, t0 + 5_000, 100, 10),            // two 5 s halves of one window
        upstream("a", t0 + 5_000, t0 + 10_000, 60, 2),
        upstream("b", t0, t0 + 60_000, 600, 61),           // one minute over six windows
        upstream("c", t0 + 5_000, t0 + 15_000, 10, 2),     // misaligned: half in each
        upstream("c", t0 + 5_000, t0 + 15_000, 10, 2));    // a second balancer's report adds up

    List<UpstreamWindow> aligned = new BundlePublisher(WINDOW_MS).alignedUpstream(rows);

    assertThat(aligned).allSatisfy(w -> {
      assertThat(w.getWindowStartMs() % WINDOW_MS).isZero();
      assertThat(w.getWindowEndMs() - w.getWindowStartMs()).isEqualTo(WINDOW_MS);
    });
    assertThat(aligned.stream().filter(w -> w.getContainerId().equals("a")))
        .singleElement().satisfies(w -> {
          assertThat(w.getRequests()).isEqualTo(160);
          assertThat(w.getTimeouts()).isEqualTo(12);
        });
    List<UpstreamWindow> b = aligned.stream().filter(w -> w.getContainerId().equals("b")).toList();
    assertThat(b).hasSize(6).allSatisfy(w -> assertThat(w.getRequests()).isEqualTo(100));
    assertThat(b.stream().mapToLong(UpstreamWindow::getTimeouts).sum()).isEqualTo(61);
    assertThat(b).allSatisfy(w -> assertThat(w.getTimeouts()).isBetween(10L, 11L));
    assertThat(aligned.stream().filter(w -> w.getContainerId().equals("c")))
        .extracting(UpstreamWindow::getWindowStartMs, UpstreamWindow::getRequests, UpstreamWindow::getTimeouts)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(t0, 10L, 2L),
            org.assertj.core.groups.Tuple.tuple(t0 + 10_000, 10L, 2L));
  }

  @Test
  void cpuRowsOfAMinuteSpreadOverTheirWindows() throws IOException {
    Path dir = tmp.resolve("cpu");
    Files.createDirectories(dir.resolve("perf/h"));
    Files.writeString(dir.resolve("perf/h/a.txt"), "");
    Files.writeString(dir.resolve("containers.csv"), "pid,container_id,host,pod,namespace\n7,c,h,,\n");
    Files.writeString(dir.resolve("upstream.csv"), "window_start_ms,window_end_ms,container_id,requests,timeouts\n");
    Files.writeString(dir.resolve("cpu.csv"), "window_start_ms,window_end_ms,container_id,cpu_seconds\n"
        + "1700000000000,1700000060000,c,60\n");

    List<ProfileWindow> windows = new BundlePublisher(WINDOW_MS).profileWindows(ReplayBundle.load(dir));

    // one core for a minute is one core in each of its six windows, not six cores in the first
    assertThat(windows).hasSize(6).allSatisfy(w -> assertThat(w.getCgroupCpuNs()).isEqualTo(10_000_000_000L));
  }

  private static UpstreamWindow upstream(String container, long start, long end, long requests, long timeouts) {
    return UpstreamWindow.newBuilder().setSource("test").setContainerId(container)
        .setWindowStartMs(start).setWindowEndMs(end).setRequests(requests).setTimeouts(timeouts).build();
  }

  @Test
  void onlyTheFirstEventTypeOfAFileCountsAsCpu() throws IOException {
    Path dir = tmp.resolve("events");
    Files.createDirectories(dir.resolve("perf/h"));
    String sample = "svc 7/7 [000] 1700000000.%06d: %d %s: \n\t 4011 main.spin+0x1 (/srv/svc)\n\n";
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      text.append(String.format(sample, i * 1000, 10101010, "cpu-clock"));
      text.append(String.format(sample, i * 1000 + 1, 1, "page-faults"));
    }
    Files.writeString(dir.resolve("perf/h/a.txt"), text);
    Files.writeString(dir.resolve("containers.csv"), "pid,container_id,host,pod,namespace\n7,c,h,,\n");
    Files.writeString(dir.resolve("upstream.csv"), "window_start_ms,window_end_ms,container_id,requests,timeouts\n");

    BundlePublisher publisher = new BundlePublisher(WINDOW_MS);
    List<ProfileWindow> windows = publisher.profileWindows(ReplayBundle.load(dir));

    assertThat(windows).singleElement().satisfies(w -> {
      assertThat(w.getSampleCount()).isEqualTo(10);
      assertThat(w.getTotalWeight()).isEqualTo(10 * 10_101_010L);
    });
  }

  private static void copyCsvFiles(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (String name : List.of("containers.csv", "upstream.csv", "traffic.csv", "cpu.csv", "meta.json")) {
      Files.copy(from.resolve(name), to.resolve(name));
    }
  }

  private static String read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(2);
      boolean gzip = head.length == 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
      if (!gzip) {
        return Files.readString(file, StandardCharsets.UTF_8);
      }
    }
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
