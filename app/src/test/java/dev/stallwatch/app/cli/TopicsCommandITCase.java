package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.embedded.EmbeddedKafka;
import dev.stallwatch.schemas.TopicSpec;
import dev.stallwatch.schemas.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code stallwatch topics} against a real broker (in-process KRaft), fresh per test as a new
 * user's would be; and {@code job} and {@code serve} refusing to start on a broker without them.
 */
@Timeout(120)
class TopicsCommandITCase {
  private static final List<TopicSpec> DECLARED = Topics.defaults().specs();

  private EmbeddedKafka kafka;

  @TempDir
  Path dir;

  private record Run(int exit, String stdout, String stderr) {}

  @BeforeEach
  void startKafka() {
    kafka = EmbeddedKafka.start();
  }

  @AfterEach
  void stopKafka() {
    kafka.close();
  }

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private Map<String, TopicDescription> describe(Admin admin) throws Exception {
    Set<String> names = admin.listTopics().names().get();
    return admin.describeTopics(names).allTopicNames().get();
  }

  private static Map<String, String> configs(Admin admin, String topic) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
    return config.entries().stream().collect(Collectors.toMap(e -> e.name(), e -> String.valueOf(e.value())));
  }

  @Test
  void createMakesEveryDeclaredTopicWithItsSettingsAndASecondRunIsANoOp() throws Exception {
    Run first = run("topics", "create", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString());

    assertThat(first.exit()).as(first.stderr()).isZero();
    assertThat(first.stdout().lines()).hasSize(DECLARED.size()).allSatisfy(line -> assertThat(line).startsWith("created "));
    try (Admin admin = kafka.admin()) {
      Map<String, TopicDescription> topics = describe(admin);
      assertThat(topics.keySet()).containsExactlyInAnyOrderElementsOf(Topics.defaults().all());
      for (TopicSpec spec : DECLARED) {
        TopicDescription topic = topics.get(spec.name());
        assertThat(topic.partitions()).as(spec.name()).hasSize(spec.partitions());
        // one broker: one replica, and min.insync.replicas 1 so that acks=all writes work
        assertThat(topic.partitions()).allSatisfy(p -> assertThat(p.replicas()).hasSize(1));
        Map<String, String> configs = configs(admin, spec.name());
        assertThat(configs).containsAllEntriesOf(spec.configs()).containsEntry("min.insync.replicas", "1");
      }
      assertThat(configs(admin, Topics.DEFAULT_ALERTS)).containsEntry("cleanup.policy", "delete");

      Run second = run("topics", "create", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString());

      assertThat(second.exit()).as(second.stderr()).isZero();
      assertThat(second.stdout().lines()).hasSize(DECLARED.size())
          .allSatisfy(line -> assertThat(line).startsWith("exists ").doesNotContain("not as declared"));
      assertThat(describe(admin)).hasSameSizeAs(topics);
      for (TopicSpec spec : DECLARED) {
        assertThat(configs(admin, spec.name())).containsAllEntriesOf(spec.configs());
      }
    }
    Run described = run("topics", "describe", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString());
    assertThat(described.exit()).as(described.stderr()).isZero();
    assertThat(described.stdout()).contains(Topics.DEFAULT_PROFILES + " ", "24 partitions x1 replicas",
        "cleanup.policy=delete retention.ms=43200000");
  }

  @Test
  void aTopicThatExistsWithAnotherCleanupPolicyIsReportedAndLeftAlone() throws Exception {
    try (Admin admin = kafka.admin()) {
      admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_ALERTS, 2, (short) 1)
          .configs(Map.of("cleanup.policy", "compact")))).all().get();
    }

    Run run = run("topics", "create", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString(), "--partitions", "3");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.stdout().lines()).hasSize(DECLARED.size())
        .filteredOn(line -> line.startsWith("created ")).hasSize(DECLARED.size() - 1)
        .allSatisfy(line -> assertThat(line).contains(" 3 partitions"));
    assertThat(run.stdout()).contains("exists   " + Topics.DEFAULT_ALERTS)
        .contains("not as declared: cleanup.policy is compact, declared delete");
    assertThat(run.stderr()).hasLineCount(1)
        .startsWith("stallwatch topics create: " + Topics.DEFAULT_ALERTS + " has cleanup.policy=compact, declared delete");
    try (Admin admin = kafka.admin()) {
      assertThat(configs(admin, Topics.DEFAULT_ALERTS)).containsEntry("cleanup.policy", "compact");
      assertThat(describe(admin).get(Topics.DEFAULT_ALERTS).partitions()).hasSize(2);
    }
  }

  @Test
  void aReplicationFactorTheClusterCannotHaveIsAUsageErrorInOneLine() {
    Run run = run("topics", "create", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString(), "--replication-factor", "3");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).hasLineCount(1).startsWith("stallwatch topics create: could not create topic ")
        .contains("replication factor");
  }

  @Test
  void jobOnABrokerWithoutTheTopicsExitsTwoNamingEachAndTheCommand() {
    Run run = run("job", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString());

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).hasLineCount(1)
        .startsWith("stallwatch job: Kafka at " + kafka.bootstrapServers() + " has no topic ")
        .contains(Topics.defaults().all())
        .endsWith("create them with 'stallwatch topics create --bootstrap-servers " + kafka.bootstrapServers()
            + " --kafka-config " + kafka.clientConfigFile() + "'\n");
  }

  @Test
  void jobStillNamesTheTopicsThatAreMissingWhenSomeExist() {
    Topics topics = Topics.defaults();
    kafka.createTopics(topics.inputs(), 1);

    Run run = run("job", "--bootstrap-servers", kafka.bootstrapServers(), "--kafka-config", kafka.clientConfigFile().toString());

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.stderr()).hasLineCount(1)
        .contains("has no topic " + topics.alerts() + ", " + topics.deadLetter() + ", " + topics.containerHealth() + ":")
        .doesNotContain(topics.profiles());
  }

  @Test
  void serveOnABrokerWithoutTheTopicsExitsTwoNamingEachAndTheCommand() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------")); // serve refuses others
    Path clientConfig = Files.writeString(dir.resolve("client.properties"),
        Files.readString(kafka.clientConfigFile()) + "client.id=topics-itcase\n");

    Run run = run("serve", "--bootstrap-servers", kafka.bootstrapServers(), "--api-token-file", token.toString(),
        "--kafka-config", clientConfig.toString(), "--data-dir", dir.resolve("data").toString(),
        "--listen", "127.0.0.1:0");

    assertThat(run.exit()).isEqualTo(2);
    Topics topics = Topics.defaults();
    assertThat(run.stderr()).hasLineCount(1)
        .startsWith("stallwatch serve: Kafka at " + kafka.bootstrapServers() + " has no topic " + topics.alerts()
            + ", " + topics.containerHealth() + ", " + topics.deadLetter() + ":")
        .contains("'stallwatch topics create --bootstrap-servers " + kafka.bootstrapServers() + " --kafka-config "
            + clientConfig + "'");
    assertThat(dir.resolve("data")).as("nothing started: no store").doesNotExist();
  }
}
