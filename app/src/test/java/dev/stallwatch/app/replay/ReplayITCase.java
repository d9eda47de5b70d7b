package dev.stallwatch.app.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The demo bundle through the real pipeline: in-process Kafka, collector path, job on a MiniCluster. */
class ReplayITCase {
  @TempDir
  Path dir;

  @Test
  @Timeout(180)
  void demoBundleAlertsOnTheWedgedContainerOnly() throws Exception {
    new DemoBundle().write(dir);
    List<String> progress = new ArrayList<>();
    ReplayRunner runner = new ReplayRunner(DetectorOptions.defaults(), SignatureRules.defaults(), progress::add);

    ReplayRunner.Result result = runner.run(ReplayBundle.load(dir));

    assertThat(result.incidents()).singleElement().satisfies(incident -> {
      DeadlockAlert alert = incident.open();
      assertThat(alert.getContainerId()).isEqualTo(DemoBundle.WEDGED);
      assertThat(alert.getHost()).isEqualTo("node-a");
      assertThat(alert.getPod()).isEqualTo("orders-7f9c6d5b8-x2k4q");
      assertThat(alert.getNamespace()).isEqualTo("shop");
      assertThat(alert.getSignatureId()).isEqualTo("go-timer-livelock");
      assertThat(alert.getRuntimeVersion()).isEqualTo("go1.14.1");
      assertThat(alert.getKnownIssues()).anySatisfy(issue -> {
        assertThat(issue.getId()).isEqualTo("golang/go#38023");
        assertThat(issue.getFixedIn()).isEqualTo("go1.14.2");
        assertThat(issue.getVersionAffected()).isTrue();
      });
      Instant spike = Instant.ofEpochMilli(DemoBundle.START_MS).plus(Duration.ofMinutes(2));
      assertThat(alert.getSpikeStartedAt()).isEqualTo(spike);
      assertThat(alert.getDrainedAt()).isEqualTo(spike.plusSeconds(30));
      assertThat(alert.getDetectedAt()).isEqualTo(alert.getStuckSince().plusSeconds(60));
      assertThat(alert.getCpuCoresAfterDrain()).isGreaterThan(0.9);
      assertThat(alert.getSignatureShare()).isGreaterThan(0.8);
      assertThat(alert.getTopStacks().get(0).getFolded()).startsWith("orders-svc;runtime.morestack;runtime.newstack");
      // the incident outlives the bundle: a silence after the end of the data is not a resolution
      assertThat(incident.resolved()).isNull();
    });
    assertThat(result.stats().malformedLines()).isZero();
    assertThat(result.stats().unattributedSamples()).isZero();
  }
}
