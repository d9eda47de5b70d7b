package dev.stallwatch.app.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.stallwatch.jobs.JobMetrics;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The pipeline's own alert rules (deploy/prometheus) use only series the components export, under the scrape job names. */
class PipelineRulesTest {
  private static final Path RULES = Dashboards.repoRoot().resolve("deploy/prometheus/stallwatch-pipeline.rules.yml");
  private static final Pattern METRIC = Pattern.compile("\\b((?:stallwatch|flink)_[a-zA-Z0-9_]+)");
  private static final Pattern JOB = Pattern.compile("job(?:=~?)\"([^\"]+)\"");

  @Test
  void everyRuleReadsExportedSeriesAndTheDashboardsJobNames() throws Exception {
    JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(RULES.toFile());
    Set<String> exported = new HashSet<>(ExportedMetrics.collector());
    exported.addAll(ExportedMetrics.incidentService());
    exported.addAll(JobMetrics.PROM_ALL);
    Set<String> alerts = new HashSet<>();
    for (JsonNode rule : rules.path("groups").get(0).path("rules")) {
      String alert = rule.path("alert").asText();
      String expr = rule.path("expr").asText();
      assertThat(alerts.add(alert)).as("alert names are unique: " + alert).isTrue();
      assertThat(rule.path("labels").path("severity").asText()).as(alert).isIn("critical", "warning");
      assertThat(rule.path("annotations").path("summary").asText()).as(alert).isNotBlank();
      Matcher metric = METRIC.matcher(expr);
      while (metric.find()) {
        assertThat(exported).as(alert + " reads " + metric.group(1)).contains(metric.group(1));
      }
      Matcher job = JOB.matcher(expr);
      while (job.find()) {
        for (String name : job.group(1).split("\\|")) {
          assertThat(DashboardLintTest.JOBS).as(alert).contains(name);
        }
      }
    }
    assertThat(alerts).contains("StallwatchJobNotRunning", "StallwatchCheckpointsStalled", "StallwatchPagesFailing");
  }
}
