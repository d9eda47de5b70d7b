package dev.stallwatch.app.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker of {@code demo}, {@code replay} and {@code up} lets in only clients with its
 * generated password: another local user can neither write forged windows or alerts nor read them.
 */
class EmbeddedKafkaAuthenticationITCase {
  private static final String TOPIC = "auth-probe";

  @TempDir Path dir;

  @Test
  void aClientWithoutThePasswordIsRefusedAndOneWithItGetsIn() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), false)) {
      kafka.createTopics(List.of(TOPIC), 1);

      Properties plaintext = new Properties();
      plaintext.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      assertThat(refusal(plaintext)).as("a client that does not speak SASL never gets an answer")
          .isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);

      Properties wrong = kafka.clientProperties();
      wrong.put(SaslConfigs.SASL_JAAS_CONFIG, kafka.clientProperties().getProperty(SaslConfigs.SASL_JAAS_CONFIG)
          .replaceAll("password=\"[^\"]*\"", "password=\"guessed\""));
      wrong.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      assertThat(refusal(wrong)).isInstanceOf(SaslAuthenticationException.class)
          .hasMessageContaining("Authentication failed");

      Properties producer = kafka.clientProperties();
      producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      producer.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
      producer.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
      producer.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
      producer.put(SaslConfigs.SASL_JAAS_CONFIG, wrong.getProperty(SaslConfigs.SASL_JAAS_CONFIG));
      try (KafkaProducer<byte[], byte[]> forger =
               new KafkaProducer<>(producer, new ByteArraySerializer(), new ByteArraySerializer())) {
        assertThatThrownBy(() -> forger.send(new ProducerRecord<>(TOPIC, "forged".getBytes(StandardCharsets.UTF_8)))
            .get(20, TimeUnit.SECONDS))
            .hasRootCauseInstanceOf(SaslAuthenticationException.class);
      }

      try (Admin admin = kafka.admin()) {
        assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).contains(TOPIC);
      }
    }
  }

  @Test
  void theControllerListenerRefusesAClientWithoutThePasswordToo() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), false)) {
      Properties wrong = kafka.clientProperties();
      wrong.put(SaslConfigs.SASL_JAAS_CONFIG, wrong.getProperty(SaslConfigs.SASL_JAAS_CONFIG)
          .replaceAll("password=\"[^\"]*\"", "password=\"guessed\""));
      wrong.put(AdminClientConfig.BOOTSTRAP_CONTROLLERS_CONFIG, "127.0.0.1:" + kafka.ports().controller());
      assertThat(refusal(wrong)).isInstanceOf(SaslAuthenticationException.class);

      Properties right = kafka.clientProperties();
      right.put(AdminClientConfig.BOOTSTRAP_CONTROLLERS_CONFIG, "127.0.0.1:" + kafka.ports().controller());
      try (Admin admin = Admin.create(right)) {
        assertThat(admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS)).isNotBlank();
      }
    }
  }

  @Test
  void thePasswordIsOwnerOnlyAndSurvivesARestartOnTheSameDirectory() throws Exception {
    Path data = dir.resolve("kafka");
    String first;
    EmbeddedKafka.Ports ports;
    try (EmbeddedKafka kafka = EmbeddedKafka.start(data, false)) {
      ports = kafka.ports();
      first = kafka.clientProperties().getProperty(SaslConfigs.SASL_JAAS_CONFIG);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(EmbeddedKafka.SECRET_FILE))))
          .isEqualTo("rw-------");
      Path config = kafka.clientConfigFile();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-------");
      Properties fromFile = new Properties();
      try (var reader = Files.newBufferedReader(config)) {
        fromFile.load(reader);
      }
      assertThat(fromFile).containsEntry(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers())
          .containsEntry(SaslConfigs.SASL_JAAS_CONFIG, first)
          .containsEntry(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
    }
    try (EmbeddedKafka again = EmbeddedKafka.start(data, false, ports)) {
      assertThat(again.clientProperties().getProperty(SaslConfigs.SASL_JAAS_CONFIG))
          .as("clients configured from the file keep working after a restart").isEqualTo(first);
    }
    try (EmbeddedKafka other = EmbeddedKafka.start(dir.resolve("other"), false)) {
      assertThat(other.clientProperties().getProperty(SaslConfigs.SASL_JAAS_CONFIG))
          .as("each broker directory has its own password").isNotEqualTo(first);
    }
  }

  /** What asking for the cluster's ID with {@code props} fails with (brokers and controllers both answer it). */
  private static Throwable refusal(Properties props) throws InterruptedException {
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "4000");
    try (Admin admin = Admin.create(props)) {
      admin.describeCluster().clusterId().get(Duration.ofSeconds(20).toMillis(), TimeUnit.MILLISECONDS);
      throw new AssertionError("the broker answered a client with " + props);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the admin client did not give up within its own timeout", e);
    }
  }
}
