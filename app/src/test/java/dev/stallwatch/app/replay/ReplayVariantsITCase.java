package dev.stallwatch.app.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-written bundles in the other forms docs/design.md allows, replayed in one run: each container
 * is one case, and the test asserts the exact set of alerts.
 */
class ReplayVariantsITCase {
  private static final String[] SPIN_GO119 = {"runtime.osyield.abi0", "runtime.adjusttimers", "runtime.checkTimers",
      "runtime.schedule", "runtime.goschedImpl", "runtime.gopreempt_m", "runtime.newstack", "runtime.morestack.abi0"};
  private static final String[] SPIN_GO114 = {"runtime.osyield", "runtime.adjusttimers", "runtime.schedule",
      "runtime.newstack", "runtime.morestack"};
  private static final String[] SERVING = {"runtime.mallocgc", "main.handle", "net/http.(*conn).serve", "runtime.goexit"};
  private static final String[] BUSY_USER = {"sort.quickSort", "main.rebuild", "main.main", "runtime.main"};

  @TempDir
  Path dir;

  @Test
  @Timeout(180)
  void exactAlertSetAcrossHeaderFormsAndNegativeCases() throws Exception {
    TestBundle bundle = new TestBundle(dir)
        .host("h1", TestBundle.Header.DEFAULT)
        .host("h2", TestBundle.Header.TID_ONLY_NO_PERIOD)
        .host("h3", TestBundle.Header.PID_TID_NO_CPU)
        .frequency(49)
        // the same pid on two hosts is two processes
        .container(100, "abi0-request-drain", "h1")
        .container(100, "healthy-same-pid", "h3")
        .container(201, "tid-only-event-drain", "h2")
        .container(300, "short-stall", "h1")
        .container(400, "no-drain", "h1")
        .container(500, "low-share", "h3")
        .container(600, "cpu-falls", "h3");
    for (int w = 0; w < 30; w++) {
      boolean spike = w >= 6 && w < 8;
      boolean after = w >= 8;
      // 1 core at 99 Hz = 990 samples a window; at 49 Hz (no period) = 490
      bundle.samples("h1", "api", 100, 101, w, after || spike ? 990 : 300, after || spike ? SPIN_GO119 : SERVING);
      // one timeout a window before the drain; none after it, when no request is left to time out
      bundle.upstream("abi0-request-drain", w, after ? 0 : 1000, spike ? 200 : after ? 0 : 1);

      bundle.samples("h3", "api", 100, 100, w, 200, SERVING);
      bundle.upstream("healthy-same-pid", w, 1000, spike ? 5 : 0);

      bundle.samples("h2", "go worker", 200, 201, w, after || spike ? 490 : 150, after || spike ? SPIN_GO114 : SERVING);
      if (!after) {
        bundle.upstream("tid-only-event-drain", w, 800, spike ? 100 : 0);
      }

      // stuck for 5 windows (50 s) only, then it recovers
      boolean stalled = spike || (after && w < 13);
      bundle.samples("h1", "svc", 300, 301, w, stalled ? 990 : 200, stalled ? SPIN_GO119 : SERVING);
      bundle.upstream("short-stall", w, after ? 0 : 1000, spike ? 300 : 0);

      // timeouts and the signature, but the traffic never goes away
      bundle.samples("h1", "svc", 400, 401, w, spike || after ? 990 : 200, spike || after ? SPIN_GO119 : SERVING);
      bundle.upstream("no-drain", w, 1000, spike || after ? 300 : 0);

      // drained and busy, but mostly in user code: 30 % in the signature
      bundle.samples("h3", "indexer", 500, 501, w, after ? 700 : 300, after ? BUSY_USER : SERVING);
      bundle.samples("h3", "indexer", 500, 502, w, after ? 300 : 0, SPIN_GO119);
      bundle.upstream("low-share", w, after ? 0 : 1000, spike ? 300 : 0);

      // the signature, but CPU falls to a tenth after the drain
      bundle.samples("h3", "svc", 600, 601, w, spike ? 990 : after ? 99 : 300, spike || after ? SPIN_GO119 : SERVING);
      bundle.upstream("cpu-falls", w, after ? 0 : 1000, spike ? 300 : 0);
    }
    bundle.drained("tid-only-event-drain", TestBundle.T0 + 8 * TestBundle.W);

    ReplayRunner runner = new ReplayRunner(DetectorOptions.defaults(), SignatureRules.defaults(), s -> { });
    ReplayRunner.Result result = runner.run(ReplayBundle.load(bundle.write(3)));

    Map<String, ReplayRunner.Incident> byContainer = new TreeMap<>();
    result.incidents().forEach(i -> byContainer.put(i.open().getContainerId(), i));
    assertThat(byContainer).containsOnlyKeys("abi0-request-drain", "tid-only-event-drain");

    var abi0 = byContainer.get("abi0-request-drain").open();
    assertThat(abi0.getHost()).isEqualTo("h1");
    assertThat(abi0.getDrainedBy()).isEqualTo("requests");
    assertThat(abi0.getDrainedAt()).isEqualTo(Instant.ofEpochMilli(TestBundle.T0 + 8 * TestBundle.W));
    assertThat(abi0.getDetectedAt()).isEqualTo(Instant.ofEpochMilli(TestBundle.T0 + 14 * TestBundle.W));
    assertThat(abi0.getCpuCoresAfterDrain()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.01));
    assertThat(abi0.getSignatureShare()).isEqualTo(1.0);

    var tidOnly = byContainer.get("tid-only-event-drain").open();
    assertThat(tidOnly.getHost()).isEqualTo("h2");
    assertThat(tidOnly.getDrainedBy()).isEqualTo(ReplayBundle.TRAFFIC_ACTOR);
    // 490 samples at 49 Hz without periods is 10 s of CPU in 10 s: one core
    assertThat(tidOnly.getCpuCoresAfterDrain()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.01));
    // spaces in a process name fold to '_', as in stackcollapse-perf.pl
    assertThat(tidOnly.getTopStacks().get(0).getFolded()).startsWith("go_worker;runtime.morestack;");

    assertThat(result.stats().unattributedSamples()).isZero();
    assertThat(result.stats().malformedLines()).isZero();
  }
}
