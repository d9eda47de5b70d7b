package dev.stallwatch.app.cli;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.ingest.publish.EventPublisher;
import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "drain",
    mixinStandardHelpOptions = true,
    description = {
        "Tells the detector that traffic to a container was drained (or, with --restore, restored): publishes a "
            + "TrafficEvent, keyed by the container ID, and waits until Kafka has it. For load balancer hooks and "
            + "operators; a collector takes the same event as POST /v1/traffic.",
        "Exit 0 once Kafka acknowledged the event, 1 if it could not be published, 2 for wrong usage.",
        ""})
public final class DrainCommand implements Callable<Integer> {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");

  @Parameters(paramLabel = "CONTAINER_ID", description = "The container whose traffic was drained or restored.")
  String containerId;

  @Option(names = "--restore", description = "Traffic was restored (RESTORED), not drained (DRAINED).")
  boolean restore;

  @Option(names = "--actor", paramLabel = "A",
      description = "Who did it, e.g. lb-hook:haproxy-3 (default: operator:<user name>).")
  String actor;

  @Option(names = "--reason", paramLabel = "R", defaultValue = "", description = "Why, in a few words.")
  String reason;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client properties (SASL, TLS, ...); they win over the command's own settings.")
  Path kafkaConfig;

  @Option(names = "--topic", paramLabel = "TOPIC", defaultValue = Topics.DEFAULT_TRAFFIC,
      description = "The traffic topic (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
      description = "How long to wait for Kafka, e.g. 500ms, 30s, 2m (default: ${DEFAULT-VALUE}).")
  String timeout;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  Clock clock = Clock.systemUTC();

  @Override
  public Integer call() throws IOException {
    TrafficEvent event = event();
    Duration wait = timeout();
    Properties props = kafkaProperties(wait);
    Topics defaults = Topics.defaults();
    Topics topics = defaults.withInputs(defaults.profiles(), defaults.upstream(), topic);
    try (EventPublisher publisher = new EventPublisher(bootstrapServers, topics, props)) {
      publisher.publish(event);
      publisher.flush();
    } catch (IllegalStateException | KafkaException e) {
      // Kafka is down or refuses: a failure of the run, said in one line, not an internal error
      spec.commandLine().getErr().println(spec.qualifiedName() + ": could not publish to " + topic + " at "
          + bootstrapServers + " within " + timeout + ": " + rootMessage(e));
      spec.commandLine().getErr().flush();
      return Stallwatch.EXIT_FAILED;
    }
    Progress.log((restore ? "restored " : "drained ") + containerId + ": TrafficEvent published to " + topic);
    return Stallwatch.EXIT_OK;
  }

  /** The event the arguments describe; wrong arguments are a {@link UserError}. */
  TrafficEvent event() {
    if (containerId.isBlank() || !containerId.equals(containerId.strip()) || containerId.chars().anyMatch(
        Character::isISOControl)) {
      throw new UserError("CONTAINER_ID must not be empty, start or end with a space, or hold control characters, "
          + "got '" + containerId + "'");
    }
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new UserError("--bootstrap-servers is required");
    }
    if (actor != null && actor.isBlank()) {
      throw new UserError("--actor must not be empty");
    }
    return TrafficEvent.newBuilder()
        .setContainerId(containerId)
        .setTimestampMs(clock.millis())
        .setAction(restore ? TrafficAction.TRAFFIC_ACTION_RESTORED : TrafficAction.TRAFFIC_ACTION_DRAINED)
        .setActor(actor != null ? actor : "operator:" + System.getProperty("user.name", "unknown"))
        .setReason(reason)
        .build();
  }

  Duration timeout() {
    Matcher m = DURATION.matcher(timeout);
    if (!m.matches()) {
      throw new UserError("--timeout: expected a duration such as 500ms, 30s or 2m, got '" + timeout + "'");
    }
    long n = Long.parseLong(m.group(1));
    Duration duration = switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      default -> Duration.ofMinutes(n);
    };
    if (duration.toMillis() < 100) {
      throw new UserError("--timeout must be at least 100ms, got " + timeout);
    }
    return duration;
  }

  private Properties kafkaProperties(Duration wait) throws IOException {
    Properties props = new Properties();
    // give up within the timeout instead of the producer's two minutes
    long millis = wait.toMillis();
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(millis));
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(millis));
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(Math.max(1, millis - 50)));
    props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    if (kafkaConfig != null) {
      if (!Files.isRegularFile(kafkaConfig)) {
        throw new UserError(kafkaConfig + ": no such file");
      }
      try (Reader reader = Files.newBufferedReader(kafkaConfig)) {
        props.load(reader);
      }
    }
    return props;
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.toString() : root.getMessage().strip().replace('\n', ' ');
  }
}
