package dev.stallwatch.app.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.demo.DemoBundle;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "done when", through the CLI itself: {@code stallwatch demo --pagerduty-url ...}
 * sends one trigger whose dedup key is the incident ID, and {@code stallwatch incidents list}
 * then shows the demo's incident from the store the demo wrote.
 */
@Timeout(180)
class DemoCommandITCase {
  @TempDir
  Path dataDir;

  @Test
  void demoPagesOnceAndLeavesTheIncidentInTheStore() throws Exception {
    String demoOut;
    try (HttpReceiver pagerDuty = new HttpReceiver()) {
      demoOut = run("demo", "--json", "--data-dir", dataDir.toString(),
          "--pagerduty-url", pagerDuty.url("/v2/enqueue").toString(), "--pagerduty-routing-key", "demo-key");
      JsonNode alert = new ObjectMapper().readTree(demoOut.lines().findFirst().orElseThrow());
      assertThat(alert.get("containerId").asText()).isEqualTo(DemoBundle.WEDGED);
      assertThat(demoOut.lines().count()).isEqualTo(1);

      assertThat(pagerDuty.accepted()).singleElement().satisfies(trigger -> {
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("routing_key").asText()).isEqualTo("demo-key");
        assertThat(trigger.get("dedup_key").asText()).isEqualTo(alert.get("incidentId").asText());
        assertThat(trigger.get("payload").get("summary").asText()).contains(DemoBundle.WEDGED, "node-a");
        assertThat(trigger.get("payload").get("custom_details").get("runtime_version").asText()).isEqualTo("go1.14.1");
      });

      String listed = run("incidents", "list", "--format", "json", "--data-dir", dataDir.toString());
      JsonNode incident = new ObjectMapper().readTree(listed.lines().findFirst().orElseThrow());
      assertThat(incident.get("incidentId").asText()).isEqualTo(alert.get("incidentId").asText());
      assertThat(incident.get("containerId").asText()).isEqualTo(DemoBundle.WEDGED);
      assertThat(incident.get("status").asText()).isEqualTo("OPEN");
    }
  }

  /** Runs the CLI in this JVM and returns what it printed on stdout; fails on a non-zero exit. */
  private static String run(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit;
    try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      System.setOut(capture);
      exit = Stallwatch.commandLine().execute(args);
    } finally {
      System.setOut(original);
    }
    assertThat(exit).as("exit code of stallwatch %s", String.join(" ", args)).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }
}
