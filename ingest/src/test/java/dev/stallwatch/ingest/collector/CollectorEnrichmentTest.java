package dev.stallwatch.ingest.collector;

import static dev.stallwatch.ingest.collector.HostFixture.SERVICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.stallwatch.ingest.host.KubeletClient;
import dev.stallwatch.ingest.perf.PerfSample;
import dev.stallwatch.ingest.perf.Samples;
import dev.stallwatch.schemas.v1.ProfileWindow;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pod names from a kubelet (a recorded /pods response) and Go versions from the executables. */
class CollectorEnrichmentTest {
  private static final long T0 = 1_795_734_600_000L;
  private static final String CHECKOUT_CONTAINER = "0a650af6f9e74ab6748ff19c5c1c5601ce32b50be118db3d2e8bd1491bf2bc33";
  private static final String CHECKOUT_POD_SLICE = "/kubepods.slice/kubepods-burstable.slice/"
      + "kubepods-burstable-pod0ad0c515_62b4_4d8d_adac_b5cf5bcb6683.slice";
  // the pod's sandbox (pause) container: the kubelet never lists it, its pod UID names it
  private static final String PAUSE_CONTAINER = "7d2c1b6b3d8a4e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";

  @TempDir Path dir;
  private HttpServer kubelet;
  private final AtomicInteger kubeletStatus = new AtomicInteger(200);
  private final RecordingSink sink = new RecordingSink();

  @AfterEach
  void stopKubelet() {
    if (kubelet != null) {
      kubelet.stop(0);
    }
  }

  @Test
  void windowsCarryThePodAndNamespaceTheKubeletListsAndKeepThemWhenItFails() throws IOException {
    HostFixture host = new HostFixture(dir)
        .process(100, CHECKOUT_POD_SLICE + "/cri-containerd-" + CHECKOUT_CONTAINER + ".scope")
        .process(101, CHECKOUT_POD_SLICE + "/cri-containerd-" + PAUSE_CONTAINER + ".scope");
    Collector collector = Collector.builder().host("worker-3").procRoot(host.procRoot).cgroupRoot(host.cgroupRoot)
        .kubelet(KubeletClient.builder().url(startKubelet()).build(), Duration.ofSeconds(30))
        .sink(sink).build();

    collector.refreshPods();
    kubeletStatus.set(503);
    collector.refreshPods(); // a failing kubelet keeps the last good list
    collector.onSample(sample(100, T0 + 1_000));
    collector.onSample(sample(101, T0 + 1_000));
    collector.tick(T0 + 12_000);

    assertThat(sink.windows()).hasSize(2).allSatisfy(w -> {
      assertThat(w.getPod()).isEqualTo("checkout-7d9f8b6c5d-x2x9q");
      assertThat(w.getNamespace()).isEqualTo("shop");
      assertThat(w.getHost()).isEqualTo("worker-3");
    });
    assertThat(sink.windows()).extracting(ProfileWindow::getContainerId)
        .containsExactlyInAnyOrder(CHECKOUT_CONTAINER, PAUSE_CONTAINER);
  }

  @Test
  void windowsCarryTheGoVersionOfTheirContainersExecutableFromTheNextWindowOnAtTheLatest() throws Exception {
    Path goBinary = goToolchainBinary();
    HostFixture host = new HostFixture(dir).process(300, SERVICE).process(400, "/");
    Files.copy(goBinary, host.procRoot.resolve("300/exe"));
    Files.copy(goBinary, host.procRoot.resolve("400/exe"));
    Collector collector = Collector.builder().host("node-1").procRoot(host.procRoot).cgroupRoot(host.cgroupRoot)
        .includeHostProcesses(true).sink(sink).build();

    collector.onSample(sample(300, T0 + 1_000));
    collector.onSample(sample(400, T0 + 1_000));
    await().atMost(Duration.ofSeconds(10)).until(() -> !collector.runtimeVersion("cgroup:" + SERVICE).isEmpty());
    collector.onSample(sample(300, T0 + 11_000));
    collector.onSample(sample(400, T0 + 11_000));
    collector.close();

    String expected = goVersion(goBinary);
    // read off the sampling path: the first window may or may not have it yet, the next one has
    List<String> versions = sink.windows().stream()
        .filter(w -> w.getContainerId().equals("cgroup:" + SERVICE))
        .map(w -> w.getRuntime().getVersion())
        .toList();
    assertThat(versions).hasSize(2);
    assertThat(versions.get(0)).isIn("", expected);
    assertThat(versions.get(1)).isEqualTo(expected);
    assertThat(sink.windows()).filteredOn(w -> w.getWindowStartMs() == T0 + 10_000
            && w.getContainerId().equals("cgroup:" + SERVICE))
        .singleElement().satisfies(w -> assertThat(w.getRuntime().getName()).isEqualTo("go"));
    // the host's root cgroup holds every other process: one Go program there names none of them
    assertThat(sink.windows()).filteredOn(w -> w.getContainerId().equals("cgroup:/"))
        .hasSize(2).noneMatch(ProfileWindow::hasRuntime);
  }

  private URI startKubelet() throws IOException {
    byte[] pods;
    try (InputStream in = Objects.requireNonNull(getClass().getResourceAsStream("/host/kubelet-pods.json"))) {
      pods = in.readAllBytes();
    }
    kubelet = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    kubelet.createContext("/pods", exchange -> {
      int status = kubeletStatus.get();
      exchange.sendResponseHeaders(status, status == 200 ? pods.length : -1);
      if (status == 200) {
        exchange.getResponseBody().write(pods);
      }
      exchange.close();
    });
    kubelet.start();
    return URI.create("http://127.0.0.1:" + kubelet.getAddress().getPort());
  }

  private static PerfSample sample(int pid, long epochMillis) {
    return Samples.sample("app", pid, pid, 0, epochMillis * 1_000_000L, 10_101_010L, "cpu-clock", List.of("main"));
  }

  /** gofmt of the installed Go toolchain: a real Go executable (Debian golang-go, which .ci/run installs). */
  private static Path goToolchainBinary() throws Exception {
    Process go = new ProcessBuilder("go", "env", "GOROOT").redirectErrorStream(true).start();
    String goroot = new String(go.getInputStream().readAllBytes()).strip();
    Assumptions.assumeTrue(go.waitFor() == 0, "needs the Go toolchain on PATH (Debian: golang-go)");
    return Path.of(goroot, "bin", "gofmt");
  }

  /** What {@code go version FILE} says the binary was built with. */
  private static String goVersion(Path binary) throws Exception {
    Process go = new ProcessBuilder("go", "version", binary.toString()).redirectErrorStream(true).start();
    String out = new String(go.getInputStream().readAllBytes()).strip();
    assertThat(go.waitFor()).as(out).isZero();
    return out.substring(out.lastIndexOf(' ') + 1);
  }
}
