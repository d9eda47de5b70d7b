package dev.stallwatch.app.up;

import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.app.embedded.LocalFlink;
import dev.stallwatch.app.embedded.Shutdown;
import dev.stallwatch.incidents.notify.Notifier;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.web.ApiToken;
import dev.stallwatch.incidents.web.IncidentService;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;

/**
 * The central part of {@code stallwatch up}, kept in one data directory so that a restart
 * resumes where the last run stopped: the KRaft broker's log ({@code kafka/}, on the ports it
 * had, {@code kafka-ports.properties}), the detection job on a MiniCluster with its retained
 * checkpoints ({@code checkpoints/}; the newest is restored on start, so the detector's state,
 * its Kafka offsets and its open alert transactions carry over and an alert is never raised
 * twice), and the incident service (store, pages, API, pagers) on the store the caller opened.
 */
public final class UpStack implements AutoCloseable {
  private static final int PARTITIONS = 2;
  static final String KAFKA_DIR = "kafka";
  static final String KAFKA_PORTS = "kafka-ports.properties";
  static final String CHECKPOINTS_DIR = "checkpoints";

  /** What the stack runs with. */
  public record Settings(Path dataDir, DetectorOptions options, SignatureRules rules, Duration checkpointInterval,
                         InetSocketAddress serviceListen, ApiToken apiToken, List<Notifier> notifiers) {
    public Settings {
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(options, "options");
      Objects.requireNonNull(rules, "rules");
      Objects.requireNonNull(checkpointInterval, "checkpointInterval");
      Objects.requireNonNull(serviceListen, "serviceListen");
      Objects.requireNonNull(apiToken, "apiToken");
      notifiers = List.copyOf(notifiers);
    }
  }

  private final EmbeddedKafka kafka;
  private final IncidentService service;
  private final LocalFlink.RunningJob job;
  private final Optional<Path> restoredFrom;

  private UpStack(EmbeddedKafka kafka, IncidentService service, LocalFlink.RunningJob job, Optional<Path> restoredFrom) {
    this.kafka = kafka;
    this.service = service;
    this.job = job;
    this.restoredFrom = restoredFrom;
  }

  /**
   * Starts the broker, the service and the job; the service takes over {@code database}. On a
   * failure what started is stopped again.
   *
   * @throws UncheckedIOException when the service's address cannot be bound
   */
  public static UpStack start(Settings settings, IncidentDatabase database, Consumer<String> progress) {
    List<AutoCloseable> started = new ArrayList<>(List.of(database));
    try {
      Files.createDirectories(settings.dataDir());
      EmbeddedKafka.Ports ports = kafkaPorts(settings.dataDir());
      progress.accept("starting Kafka on 127.0.0.1:" + ports.broker() + " (log in "
          + settings.dataDir().resolve(KAFKA_DIR) + ")");
      EmbeddedKafka kafka = EmbeddedKafka.start(settings.dataDir().resolve(KAFKA_DIR), false, ports);
      started.add(kafka);
      Topics topics = Topics.defaults();
      kafka.createTopics(topics.all(), PARTITIONS);

      progress.accept("starting the incident service on " + settings.serviceListen());
      IncidentService service = IncidentService.builder()
          .database(database)
          .listen(settings.serviceListen())
          .apiToken(settings.apiToken())
          .notifiers(settings.notifiers())
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
          .topics(topics)
          .start();
      started.remove(database);
      started.add(service);

      Path checkpoints = settings.dataDir().resolve(CHECKPOINTS_DIR);
      Files.createDirectories(checkpoints);
      Optional<Path> restore = Checkpoints.latest(checkpoints);
      progress.accept("starting the detection job on a Flink MiniCluster, "
          + restore.map(p -> "restoring " + p).orElse("with no checkpoint to restore (a first start)"));
      DeadlockDetectionJob detection = DeadlockDetectionJob.builder()
          .bootstrapServers(kafka.bootstrapServers()).kafkaProperties(kafka.clientProperties())
          .topics(topics)
          .options(settings.options())
          .rules(settings.rules())
          .checkpointInterval(settings.checkpointInterval())
          .build();
      LocalFlink.RunningJob job = LocalFlink.start(detection, DeadlockDetectionJob.JOB_NAME,
          LocalFlink.Settings.defaults(), flinkConfiguration(checkpoints, restore));
      started.add(job);
      return new UpStack(kafka, service, job, restore);
    } catch (IOException e) {
      Shutdown.closeAll(Shutdown.newestFirst(started), e);
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      Shutdown.closeAll(Shutdown.newestFirst(started), e);
      throw e;
    } catch (Exception e) {
      Shutdown.closeAll(Shutdown.newestFirst(started), e);
      throw new IllegalStateException("could not start the detection job: " + e.getMessage(), e);
    }
  }

  /**
   * Checkpoints kept in {@code dir} when the job is cancelled (a stop), the newest restored; a
   * failed task restarts from the latest one in place, with a growing delay.
   */
  static Configuration flinkConfiguration(Path dir, Optional<Path> restore) {
    Configuration conf = new Configuration();
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
    conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 2);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
    restore.ifPresent(path -> conf.set(StateRecoveryOptions.SAVEPOINT_PATH, path.toUri().toString()));
    return conf;
  }

  /** The ports of the last run, when both are still free: collectors elsewhere keep their address. */
  static EmbeddedKafka.Ports kafkaPorts(Path dataDir) throws IOException {
    Path file = dataDir.resolve(KAFKA_PORTS);
    if (Files.isRegularFile(file)) {
      Properties saved = new Properties();
      try (InputStream in = Files.newInputStream(file)) {
        saved.load(in);
      }
      try {
        EmbeddedKafka.Ports ports = new EmbeddedKafka.Ports(Integer.parseInt(saved.getProperty("broker", "")),
            Integer.parseInt(saved.getProperty("controller", "")));
        if (free(ports.broker()) && free(ports.controller())) {
          return ports;
        }
      } catch (NumberFormatException e) {
        // a damaged file: new ports, written below
      }
    }
    EmbeddedKafka.Ports ports = EmbeddedKafka.Ports.free();
    Properties properties = new Properties();
    properties.setProperty("broker", Integer.toString(ports.broker()));
    properties.setProperty("controller", Integer.toString(ports.controller()));
    try (OutputStream out = Files.newOutputStream(file)) {
      properties.store(out, "ports of the embedded Kafka of 'stallwatch up', reused on the next start");
    }
    return ports;
  }

  private static boolean free(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  /** The SASL settings of the embedded broker's clients. */
  public Properties kafkaProperties() {
    return kafka.clientProperties();
  }

  /** The embedded broker's client settings in a 0600 file, for {@code --kafka-config}. */
  public Path kafkaConfigFile() {
    return kafka.clientConfigFile();
  }

  public URI incidentService() {
    return service.baseUri();
  }

  public List<String> receivers() {
    return service.receivers();
  }

  public Optional<Path> restoredFrom() {
    return restoredFrom;
  }

  /** The job; {@link LocalFlink.RunningJob#awaitTermination()} returns or throws when it ended on its own. */
  public LocalFlink.RunningJob job() {
    return job;
  }

  /** Stops the job (its last checkpoint is kept), then the service, then the broker. */
  @Override
  public void close() {
    RuntimeException failure = new RuntimeException("stopping stallwatch up failed");
    Shutdown.closeAll(List.of(job, service, kafka), failure);
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }
}
