package dev.stallwatch.app.cli;

import dev.stallwatch.app.Directories;
import dev.stallwatch.app.demo.DemoBundle;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.replay.ReplayBundle;
import dev.stallwatch.app.replay.ReplayRunner;
import dev.stallwatch.incidents.AlertJson;
import dev.stallwatch.incidents.AlertReport;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.Notifier;
import dev.stallwatch.incidents.notify.RetryPolicy;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.IncidentIngestor;
import dev.stallwatch.schemas.Topics;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Replays the built-in example of the Go 1.14.1 timer livelock (golang/go#38023) through the embedded stack: "
            + "a wedged go1.14.1 service among healthy neighbours and two decoys (one drained but busy for real "
            + "reasons, one whose CPU falls after a slow-downstream spike). Prints the alert for the wedged container "
            + "and nothing for the others.",
        ""})
public final class DemoCommand implements Callable<Integer> {
  private static final Duration PAGE_RETRY_TIME = Duration.ofSeconds(20);

  @Option(names = "--bundle-dir", paramLabel = "DIR",
      description = "Write the demo's replay bundle here and keep it (default: a temporary directory, deleted).")
  Path bundleDir;

  @Option(names = "--json", description = "Print JSON lines (as 'stallwatch replay' does) instead of the report.")
  boolean json;

  @Option(names = "--serve",
      description = "Keep the embedded stack up after the alert, until interrupted: Kafka, the detection job (unbounded), "
          + "the incident store, pages and API, and the /metrics of the collector, the job and the incident service. "
          + "Prints the URLs to point Prometheus and Grafana at and writes a Prometheus configuration for them.")
  boolean serve;

  @Mixin
  DemoServeOptions serveOptions;

  @Mixin
  DetectorSettings detector;

  @Mixin
  NotifierSettings pages;

  @Mixin
  IncidentStoreOptions store;

  @Override
  public Integer call() throws Exception {
    if (serve) {
      return new DemoServe(this).run();
    }
    if (serveOptions.anyGiven()) {
      throw new UserError(DemoServeOptions.NAMES + " go with --serve");
    }
    boolean temporary = bundleDir == null;
    Path dir = temporary ? Files.createTempDirectory("stallwatch-demo-") : bundleDir;
    PrintStream stdout = System.out;
    try {
      List<Notifier> notifiers = pages.notifiers();
      Progress.log("writing the demo bundle to " + dir);
      DemoBundle demo = new DemoBundle();
      demo.write(dir);
      ReplayRunner runner = new ReplayRunner(detector.options(), detector.rules(), Progress::log);
      ReplayRunner.Result result;
      System.setOut(System.err);
      try (EmbeddedKafka kafka = EmbeddedKafka.start();
           IncidentDatabase database = store.open(DatabaseOptions.Access.READ_WRITE)) {
        result = runner.run(ReplayBundle.load(dir), kafka);
        record(kafka, database);
        if (!notifiers.isEmpty()) {
          page(kafka, notifiers);
        }
      } finally {
        System.setOut(stdout);
      }
      for (ReplayRunner.Incident incident : result.incidents()) {
        stdout.println(json ? AlertJson.line(incident.open(), incident.resolved())
            : AlertReport.render(incident.open(), incident.resolved()));
      }
      stdout.flush();
      Progress.log(result.incidents().size() + " deadlock alert(s) among " + demo.containerCount()
          + " containers");
      return 0;
    } finally {
      if (temporary) {
        Directories.deleteRecursively(dir);
      }
    }
  }

  /** Stores the alerts on the topic as incidents, so that {@code stallwatch incidents} shows them. */
  private static void record(EmbeddedKafka kafka, IncidentDatabase database) {
    try (IncidentIngestor ingestor = IncidentIngestor.builder()
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
        .topics(Topics.defaults())
        .store(database.store())
        .build()) {
      ingestor.drainToEnd(Duration.ofSeconds(30));
      Progress.log("incidents stored in " + database.describe() + "; see them with 'stallwatch incidents list'");
    }
  }

  /** Delivers the alerts on the topic to the configured receivers, then stops. */
  private static void page(EmbeddedKafka kafka, List<Notifier> notifiers) throws InterruptedException {
    try (AlertNotifier notifier = AlertNotifier.builder()
        .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
        .topics(Topics.defaults())
        .notifiers(notifiers)
        // a demo should not retry a wrong URL for ten minutes
        .retryPolicy(new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(2), PAGE_RETRY_TIME))
        .build()) {
      AlertNotifier.DrainResult result = notifier.drainToEnd(PAGE_RETRY_TIME.plusSeconds(30));
      Progress.log("paged: " + result.delivered() + (result.deadLettered() > 0
          ? "; " + result.deadLettered() + " alert(s) could not be delivered (see the log above)" : ""));
    }
  }
}
