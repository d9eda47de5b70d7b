package dev.stallwatch.jobs;

import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The detection job's command line: parsed by the job jar's {@link DeadlockDetectionJob#main}
 * ({@code flink run}, the REST API) and mixed into {@code stallwatch job}, so both take the same
 * flags. {@link #programArguments()} turns a local command line into the jar's arguments.
 */
public class JobArguments {
  public static final String ROCKSDB = "rocksdb";
  public static final String HASHMAP = "hashmap";

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]", description = "Kafka bootstrap servers.")
  String bootstrapServers;

  @Option(names = "--kafka-config", paramLabel = "FILE",
      description = "Kafka client properties (SASL, TLS, ...) for the job's sources and sinks; on a cluster, a path"
          + " on the JobManager's host.")
  Path kafkaConfig;

  @Mixin
  DetectorArguments detector = new DetectorArguments();

  /** Rules as text: how a submit carries a local --rules file to the cluster. */
  @Option(names = "--rules-text", paramLabel = "YAML", hidden = true)
  String rulesText;

  @Option(names = "--topic-suffix", paramLabel = "SUFFIX", description = "Suffix of every topic name.")
  String topicSuffix;

  @Option(names = "--group-id", paramLabel = "ID", description = "Consumer group of the sources.")
  String groupId;

  @Option(names = "--transactional-id-prefix", paramLabel = "PREFIX",
      description = "Transactional ID prefix of the exactly-once alert sink (distinct per job on one Kafka cluster).")
  String transactionalIdPrefix;

  @Option(names = "--bounded", description = "Read each topic up to the offsets latest at start, then finish.")
  boolean bounded;

  @Option(names = "--state-backend", paramLabel = "rocksdb|hashmap", defaultValue = ROCKSDB,
      description = "State backend: rocksdb (incremental checkpoints; default) or hashmap (state on the heap).")
  String stateBackend;

  @Option(names = "--checkpoint-dir", paramLabel = "URI",
      description = "Where checkpoints go (file:///..., s3://...), kept on cancel so a restart can resume from the"
          + " latest; default: the cluster's execution.checkpointing.dir.")
  String checkpointDir;

  @Option(names = "--checkpoint-interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Checkpoint interval (alerts become visible at checkpoints), e.g. 5s; default 10s.")
  Duration checkpointInterval;

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The --kafka-config file, or null. */
  public Path kafkaConfig() {
    return kafkaConfig;
  }

  public DetectorArguments detector() {
    return detector;
  }

  /** The configured job builder. Bad values: {@link IllegalArgumentException} saying what is wrong. */
  public DeadlockDetectionJob.Builder builder() {
    if (bootstrapServers == null) {
      throw new IllegalArgumentException("--bootstrap-servers is required (see --help)");
    }
    DeadlockDetectionJob.Builder builder = DeadlockDetectionJob.builder()
        .bootstrapServers(bootstrapServers)
        .options(detector.options())
        .rules(rulesText != null ? SignatureRules.parse(rulesText, "--rules-text") : detector.rules())
        .kafkaProperties(kafkaProperties())
        .bounded(bounded)
        .stateBackend(stateBackend());
    if (topicSuffix != null) {
      builder.topics(Topics.defaults().withSuffix(topicSuffix));
    }
    if (groupId != null) {
      builder.groupId(groupId);
    }
    if (transactionalIdPrefix != null) {
      builder.transactionalIdPrefix(transactionalIdPrefix);
    }
    if (checkpointDir != null) {
      builder.checkpointDirectory(checkpointDir);
    }
    if (checkpointInterval != null) {
      builder.checkpointInterval(checkpointInterval);
    }
    return builder;
  }

  public String stateBackend() {
    String backend = stateBackend.toLowerCase(Locale.ROOT);
    if (!backend.equals(ROCKSDB) && !backend.equals(HASHMAP)) {
      throw new IllegalArgumentException("--state-backend: expected rocksdb or hashmap, got '" + stateBackend + "'");
    }
    return backend;
  }

  public Properties kafkaProperties() {
    Properties props = new Properties();
    if (kafkaConfig != null) {
      if (!Files.isRegularFile(kafkaConfig)) {
        throw new IllegalArgumentException("--kafka-config " + kafkaConfig + ": no such file");
      }
      try (Reader reader = Files.newBufferedReader(kafkaConfig)) {
        props.load(reader);
      } catch (IOException | IllegalArgumentException e) {
        throw new IllegalArgumentException("--kafka-config " + kafkaConfig + ": cannot read it (" + e.getMessage() + ")", e);
      }
    }
    return props;
  }

  /**
   * The arguments for the job jar's main on a cluster: options and rules resolved here and sent
   * as values (the cluster has none of this machine's files, except --kafka-config, whose secrets
   * stay out of the job's arguments).
   */
  public List<String> programArguments() {
    builder(); // every value is checked before anything is uploaded
    List<String> args = new ArrayList<>(List.of("--bootstrap-servers", bootstrapServers));
    if (kafkaConfig != null) {
      args.addAll(List.of("--kafka-config", kafkaConfig.toAbsolutePath().toString()));
    }
    DetectorOptions defaults = DetectorOptions.defaults();
    for (Map.Entry<String, String> e : detector.options().toMap().entrySet()) {
      if (!e.getValue().equals(defaults.toMap().get(e.getKey()))) {
        args.addAll(List.of("--set", e.getKey() + "=" + e.getValue()));
      }
    }
    String rules = rulesText != null ? rulesText : detector.rulesText();
    if (rules != null) {
      args.addAll(List.of("--rules-text", rules));
    }
    addIf(args, "--topic-suffix", topicSuffix);
    addIf(args, "--group-id", groupId);
    addIf(args, "--transactional-id-prefix", transactionalIdPrefix);
    if (bounded) {
      args.add("--bounded");
    }
    args.addAll(List.of("--state-backend", stateBackend()));
    addIf(args, "--checkpoint-dir", checkpointDir);
    if (checkpointInterval != null) {
      args.addAll(List.of("--checkpoint-interval", checkpointInterval.toMillis() + "ms"));
    }
    return args;
  }

  private static void addIf(List<String> args, String name, String value) {
    if (value != null) {
      args.addAll(List.of(name, value));
    }
  }

  /** The job jar's usage text, with the detector options and their defaults. */
  public static String usage() {
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(new JobArguments());
    cli.setCommandName("flink run -c " + DeadlockDetectionJob.class.getName() + " stallwatch-job.jar");
    cli.usage(new PrintWriter(out));
    return out + "Detector options:\n" + DetectorOptions.describe();
  }

  /** Parses the job jar's arguments: the builder, or null for --help. Bad arguments: IllegalArgumentException. */
  public static DeadlockDetectionJob.Builder parse(String[] args) {
    JobArguments parsed = new JobArguments();
    CommandLine cli = new CommandLine(parsed);
    try {
      CommandLine.ParseResult result = cli.parseArgs(args);
      if (result.expandedArgs().contains("--help") || result.expandedArgs().contains("-h")) {
        return null;
      }
    } catch (CommandLine.ParameterException e) {
      if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
        return null;
      }
      throw new IllegalArgumentException(e.getMessage() + " (see --help)", e);
    }
    return parsed.builder();
  }

  /** {@code 10s}, {@code 500ms}, {@code 2m}, or ISO-8601 ({@code PT10S}). */
  public static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        Duration d;
        if (v.startsWith("pt")) {
          d = Duration.parse(value.trim());
        } else if (v.endsWith("ms")) {
          d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        } else if (v.endsWith("s")) {
          d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
        } else if (v.endsWith("m")) {
          d = Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
        } else {
          throw new IllegalArgumentException();
        }
        if (d.isZero() || d.isNegative()) {
          throw new IllegalArgumentException();
        }
        return d;
      } catch (RuntimeException e) {
        throw new CommandLine.TypeConversionException("expected a positive duration such as 10s, 500ms or 2m, got '"
            + value + "'");
      }
    }
  }
}
