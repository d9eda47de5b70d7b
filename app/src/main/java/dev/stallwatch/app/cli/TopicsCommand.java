package dev.stallwatch.app.cli;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.topics.ClusterTopics;
import dev.stallwatch.schemas.TopicSpec;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = {
        "The pipeline's Kafka topics, as the project declares them: names, keys, partitions, cleanup policy and "
            + "retention. 'create' makes the missing ones on a real cluster, 'list' prints the declaration, "
            + "'describe' compares a cluster's topics with it.",
        ""},
    subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class, TopicsCommand.Describe.class})
public final class TopicsCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: create, list or describe");
  }

  /** Where the cluster is and how to log in. */
  static final class Cluster {
    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", required = true,
        description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--kafka-config", paramLabel = "FILE",
        description = "Kafka client properties (SASL, TLS, ...) for the admin client.")
    Path kafkaConfig;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
        description = "How long to wait for Kafka, e.g. 10s, 2m (default: ${DEFAULT-VALUE}).")
    String timeout;

    ClusterTopics connect() {
      Duration wait;
      try {
        wait = new CollectCommand.DurationConverter().convert(timeout);
      } catch (IllegalArgumentException e) {
        throw new UserError("--timeout: " + e.getMessage(), e);
      }
      if (wait.toMillis() < 100) {
        throw new UserError("--timeout must be at least 100ms, got " + timeout);
      }
      try {
        return ClusterTopics.connect(bootstrapServers, properties(), wait);
      } catch (ClusterTopics.ClusterException e) {
        throw new UserError(e.getMessage(), e);
      }
    }

    private Properties properties() {
      Properties props = new Properties();
      if (kafkaConfig == null) {
        return props;
      }
      if (!Files.isRegularFile(kafkaConfig)) {
        throw new UserError("--kafka-config " + kafkaConfig + ": no such file");
      }
      try (Reader reader = Files.newBufferedReader(kafkaConfig, StandardCharsets.UTF_8)) {
        props.load(reader);
      } catch (IOException | IllegalArgumentException e) {
        throw new UserError("--kafka-config " + kafkaConfig + ": " + e.getMessage(), e);
      }
      return props;
    }
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
          "Creates the declared topics the cluster does not have, with their cleanup policy and retention, and "
              + "min.insync.replicas 2 (1 below 3 replicas). Topics that exist are reported and left alone; "
              + "running it again changes nothing.",
          "Exit 0 when every topic exists, 1 when one exists with another cleanup policy than declared, "
              + "2 for wrong usage or a cluster that refuses.",
          ""})
  static final class Create implements Callable<Integer> {
    @Mixin
    Cluster cluster;

    @Option(names = "--partitions", paramLabel = "N",
        description = "Partitions of every topic it creates (default: each topic's declared partitions, sized for "
            + "100,000 containers; see 'stallwatch topics list').")
    Integer partitions;

    @Option(names = "--replication-factor", paramLabel = "N",
        description = "Replicas of every partition (default: 3, or the number of brokers when there are fewer).")
    Short replicationFactor;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      if (partitions != null && (partitions < 1 || partitions > 10_000)) {
        throw new UserError("--partitions must be between 1 and 10000, got " + partitions);
      }
      if (replicationFactor != null && replicationFactor < 1) {
        throw new UserError("--replication-factor must be at least 1, got " + replicationFactor);
      }
      List<ClusterTopics.Outcome> outcomes;
      try (ClusterTopics topics = cluster.connect()) {
        outcomes = topics.create(Topics.defaults().specs(), Optional.ofNullable(partitions),
            Optional.ofNullable(replicationFactor));
      } catch (ClusterTopics.ClusterException e) {
        throw new UserError(e.getMessage(), e);
      }
      PrintWriter out = spec.commandLine().getOut();
      for (ClusterTopics.Outcome outcome : outcomes) {
        out.println(line(outcome.created() ? "created" : "exists", outcome));
      }
      out.flush();
      return reportWrongCleanupPolicies(spec, outcomes);
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {"Prints the declared topics: name, partitions, cleanup policy, retention and value. Every key "
          + "is the container ID. Needs no cluster.", ""})
  static final class ListTopics implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      out.printf("%-34s %10s  %-14s %-10s %s%n", "topic", "partitions", "cleanup.policy", "retention", "value");
      for (TopicSpec topic : Topics.defaults().specs()) {
        out.printf("%-34s %10d  %-14s %-10s %s%n", topic.name(), topic.partitions(), topic.cleanupPolicy(),
            retention(topic.retention()), topic.role().value());
      }
      out.println("every key: " + Topics.Role.KEY);
      out.flush();
      return Stallwatch.EXIT_OK;
    }
  }

  @Command(
      name = "describe",
      mixinStandardHelpOptions = true,
      description = {"Compares the cluster's topics with the declaration: missing topics, partitions, replicas, "
          + "cleanup policy and retention.",
          "Exit 0 when every topic exists, 1 when one is missing or has another cleanup policy than declared.", ""})
  static final class Describe implements Callable<Integer> {
    @Mixin
    Cluster cluster;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      List<ClusterTopics.Outcome> outcomes;
      try (ClusterTopics topics = cluster.connect()) {
        outcomes = topics.describe(Topics.defaults().specs());
      } catch (ClusterTopics.ClusterException e) {
        throw new UserError(e.getMessage(), e);
      }
      PrintWriter out = spec.commandLine().getOut();
      for (ClusterTopics.Outcome outcome : outcomes) {
        out.println(outcome.exists() ? line("exists", outcome) : String.format("%-8s %s", "missing",
            outcome.spec().name()));
      }
      out.flush();
      List<String> missing = outcomes.stream().filter(o -> !o.exists()).map(o -> o.spec().name()).toList();
      if (!missing.isEmpty()) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("stallwatch topics describe: missing " + String.join(", ", missing)
            + ": create them with 'stallwatch topics create --bootstrap-servers " + cluster.bootstrapServers + "'");
        err.flush();
        return Stallwatch.EXIT_FAILED;
      }
      return reportWrongCleanupPolicies(spec, outcomes);
    }
  }

  private static int reportWrongCleanupPolicies(CommandLine.Model.CommandSpec spec,
      List<ClusterTopics.Outcome> outcomes) {
    List<ClusterTopics.Outcome> wrong = outcomes.stream().filter(ClusterTopics.Outcome::wrongCleanupPolicy).toList();
    if (wrong.isEmpty()) {
      return Stallwatch.EXIT_OK;
    }
    PrintWriter err = spec.commandLine().getErr();
    for (ClusterTopics.Outcome outcome : wrong) {
      err.println(spec.qualifiedName() + ": " + outcome.spec().name() + " has " + TopicSpec.CLEANUP_POLICY + "="
          + outcome.state().configs().get(TopicSpec.CLEANUP_POLICY) + ", declared " + outcome.spec().cleanupPolicy()
          + ": change it with kafka-configs.sh --alter --entity-type topics --entity-name " + outcome.spec().name()
          + " --add-config " + TopicSpec.CLEANUP_POLICY + "=" + outcome.spec().cleanupPolicy());
    }
    err.flush();
    return Stallwatch.EXIT_FAILED;
  }

  /** One topic on the cluster: what it is and, when it is not as declared, how. */
  private static String line(String verb, ClusterTopics.Outcome outcome) {
    ClusterTopics.State state = outcome.state();
    if (state == null) {
      return String.format("%-8s %s", "missing", outcome.spec().name());
    }
    String settings = state.configs().entrySet().stream()
        .map(entry -> entry.getKey() + "=" + entry.getValue())
        .collect(Collectors.joining(" "));
    String differs = outcome.differences().isEmpty() ? "" : "; not as declared: "
        + String.join(", ", outcome.differences());
    return String.format("%-8s %-34s %3d partitions x%d replicas  %s%s", verb, outcome.spec().name(),
        state.partitions(), state.replicationFactor(), settings, differs);
  }

  /** 12h, 7d, 365d: how the declaration reads. */
  static String retention(Duration retention) {
    if (retention.toHours() % 24 == 0) {
      return retention.toDays() + "d";
    }
    return retention.toHours() + "h";
  }
}
