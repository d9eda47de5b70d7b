package dev.stallwatch.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.schemas.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * The whole deployment of the cluster tests: 3 Kafka brokers, a Flink JobManager and 2
 * TaskManagers (6 JVMs), the topics, and the job jar submitted as a user does: with {@code flink
 * run} (Flink's {@code CliFrontend} in a JVM of its own) or through {@code stallwatch job
 * --flink-rest}.
 */
final class StallwatchCluster implements AutoCloseable {
  private static final Pattern JOB_ID = Pattern.compile("job-id\\s+([0-9a-f]{32})");
  /** What {@code flink run -d} prints once the JobManager accepted the job. */
  private static final Pattern FLINK_RUN_JOB_ID = Pattern.compile("Job has been submitted with JobID ([0-9a-f]{32})");
  private static final Pattern SAVEPOINT = Pattern.compile("savepoint\\s+(\\S+)");

  final KafkaCluster kafka;
  final FlinkCluster flink;
  final Topics topics = Topics.defaults();
  final Path jobJar;
  final Path checkpoints;
  private int flinkRuns;

  private StallwatchCluster(KafkaCluster kafka, FlinkCluster flink, Path jobJar, Path checkpoints) {
    this.kafka = kafka;
    this.flink = flink;
    this.jobJar = jobJar;
    this.checkpoints = checkpoints;
  }

  static StallwatchCluster start(Path dir) throws Exception {
    String classpathFile = required("stallwatch.cluster.classpath");
    String classpath = Files.readString(Path.of(classpathFile)).trim();
    Path jobJar = Path.of(required("stallwatch.job.jar"));
    if (!Files.isRegularFile(jobJar)) {
      throw new AssertionError("no job jar at " + jobJar + ": run the tests with 'verify' so jobs packages it");
    }
    Path log4j = dir.resolve("log4j2.properties");
    try (var in = StallwatchCluster.class.getResourceAsStream("/cluster-log4j2.properties")) {
      Files.copy(in, log4j);
    }
    KafkaCluster kafka = null;
    try {
      kafka = KafkaCluster.start(Files.createDirectories(dir.resolve("kafka")), classpath, log4j);
      kafka.createTopics(Topics.defaults());
      FlinkCluster flink = FlinkCluster.start(Files.createDirectories(dir.resolve("flink")), classpath, log4j, 2);
      StallwatchCluster cluster = new StallwatchCluster(kafka, flink, jobJar,
          Files.createDirectories(dir.resolve("checkpoints")));
      return cluster;
    } catch (Exception | AssertionError e) {
      if (kafka != null) {
        kafka.close();
      }
      throw e;
    }
  }

  private static String required(String property) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      throw new AssertionError("-D" + property + " is not set: run the cluster tests through Maven (failsafe sets it)");
    }
    return value;
  }

  /** {@code stallwatch job --flink-rest ...} with these extra flags; returns the job ID it printed. */
  String submit(List<String> extra) {
    List<String> args = new ArrayList<>(List.of("job", "--flink-rest", flink.restUri().toString(),
        "--job-jar", jobJar.toString(), "--bootstrap-servers", kafka.bootstrapServers(), "--parallelism", "2",
        "--checkpoint-dir", checkpoints.toUri().toString()));
    args.addAll(extra);
    String out = stallwatch(args);
    Matcher m = JOB_ID.matcher(out);
    assertThat(m.find()).as("job ID in: " + out).isTrue();
    return m.group(1);
  }

  /**
   * {@code flink run -d -p 2 -c MAIN stallwatch-job-<version>.jar --bootstrap-servers ...
   * --checkpoint-dir ...} with these extra job flags, exactly as the README documents it, run by
   * Flink's own client ({@code CliFrontend}, what the distribution's {@code bin/flink} script
   * starts) in a JVM of its own; returns the job ID it printed.
   */
  String submitWithFlinkRun(List<String> extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("run", "-d", "-p", "2", "-c", DeadlockDetectionJob.class.getName(),
        jobJar.toString(), "--bootstrap-servers", kafka.bootstrapServers(),
        "--checkpoint-dir", checkpoints.toUri().toString()));
    args.addAll(extra);
    String out = flink.flinkCli("flink-run-" + (++flinkRuns), args);
    Matcher m = FLINK_RUN_JOB_ID.matcher(out);
    assertThat(m.find()).as("job ID in the output of flink " + String.join(" ", args) + ":\n" + out).isTrue();
    return m.group(1);
  }

  /** {@code stallwatch job stop JOB_ID}; returns the savepoint path it printed. */
  String stopWithSavepoint(String jobId) {
    String out = stallwatch(List.of("job", "stop", jobId, "--flink-rest", flink.restUri().toString(),
        "--savepoint-dir", flink.dir().resolve("savepoints").toUri().toString()));
    Matcher m = SAVEPOINT.matcher(out);
    assertThat(m.find()).as("savepoint in: " + out).isTrue();
    return m.group(1);
  }

  private static String stallwatch(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args.toArray(String[]::new));
    assertThat(code).as("stallwatch " + String.join(" ", args) + "\nout: " + out + "\nerr: " + err).isZero();
    return out.toString();
  }

  /** The newest completed, retained checkpoint of a job (what an operator restarts from after losing the JobManager). */
  Path latestCheckpoint(String jobId) throws Exception {
    Path jobDir = checkpoints.resolve(jobId);
    try (var dirs = Files.list(jobDir)) {
      return dirs.filter(d -> d.getFileName().toString().startsWith("chk-"))
          .filter(d -> Files.exists(d.resolve("_metadata")))
          .max(java.util.Comparator.comparingLong(d -> Long.parseLong(d.getFileName().toString().substring(4))))
          .orElseThrow(() -> new AssertionError("no completed checkpoint under " + jobDir));
    }
  }

  String logs() {
    return kafka.logs() + "\n" + flink.logs();
  }

  @Override
  public void close() throws Exception {
    try {
      flink.close();
    } finally {
      kafka.close();
    }
  }
}
