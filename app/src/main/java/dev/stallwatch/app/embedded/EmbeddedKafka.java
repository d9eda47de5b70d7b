package dev.stallwatch.app.embedded;

import dev.stallwatch.app.Directories;
import dev.stallwatch.incidents.store.SecretFile;
import dev.stallwatch.schemas.TopicSpec;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.security.plain.PlainLoginModule;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka (KRaft, combined broker + controller) inside this JVM, on loopback.
 * Used by {@code stallwatch demo}, {@code replay}, {@code up} and the tests: no mocked clients.
 *
 * <p>Both of its listeners take SASL only: a client without the generated password is refused
 * during authentication, so another local user can neither forge windows or alerts nor read them.
 * The password lives in {@value #SECRET_FILE} under the broker's directory (0600, directory 0700)
 * and is kept across restarts on the same directory; {@link #clientProperties()} are the settings
 * a client needs, and {@value #CLIENT_CONFIG_FILE} beside it holds them for {@code --kafka-config}.
 * The mechanism is PLAIN over loopback: reading loopback traffic takes the same privileges as
 * reading the secret file, and PLAIN needs no credentials in the cluster metadata.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
  /** The file under the broker's directory that holds its client password. */
  public static final String SECRET_FILE = "kafka-secret";
  /** The file under the broker's directory with the client settings ({@code --kafka-config}). */
  public static final String CLIENT_CONFIG_FILE = "client.properties";
  /** The one principal of the embedded broker. */
  static final String USER = "stallwatch";
  private static final String LISTENER = "SASL_PLAINTEXT";

  private final Path dataDir;
  private final boolean deleteOnClose;
  private final Ports ports;
  private final KafkaRaftServer server;
  private final String password;

  /**
   * The loopback ports of a broker. A test that stops a broker and starts it again on the same
   * data directory passes the first broker's ports, so that its clients find it where it was.
   */
  public record Ports(int broker, int controller) {
    /** Two ports that are free now. */
    public static Ports free() {
      return new Ports(freePort(), freePort());
    }
  }

  private EmbeddedKafka(Path dataDir, boolean deleteOnClose, Ports ports, KafkaRaftServer server, String password) {
    this.dataDir = dataDir;
    this.deleteOnClose = deleteOnClose;
    this.ports = ports;
    this.server = server;
    this.password = password;
  }

  /** Starts a broker whose log lives in a fresh temporary directory, deleted on close. */
  public static EmbeddedKafka start() {
    try {
      return start(Files.createTempDirectory("stallwatch-kafka-"), true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a broker on {@code dataDir}; formats it first when it holds no log yet. */
  public static EmbeddedKafka start(Path dataDir, boolean deleteOnClose) {
    // KafkaRaftServer cannot report a port bound with :0, so pick two free ones up front.
    return start(dataDir, deleteOnClose, Ports.free());
  }

  /**
   * Starts a broker on {@code dataDir} that listens on {@code ports}; formats it first when it
   * holds no log yet. Restarting on the same directory and ports keeps the topics, their records
   * and the idempotent producers' state.
   */
  public static EmbeddedKafka start(Path dataDir, boolean deleteOnClose, Ports ports) {
    int brokerPort = ports.broker();
    int controllerPort = ports.controller();
    int nodeId = 1;
    Path logDir = dataDir.resolve("log");
    String password;
    try {
      password = SecretFile.readOrCreate(dataDir.resolve(SECRET_FILE));
    } catch (IOException e) {
      throw new IllegalStateException("could not read or create the Kafka password in " + dataDir + ": " + e, e);
    }
    Properties props = new Properties();
    props.put("process.roles", "broker,controller");
    props.put("node.id", String.valueOf(nodeId));
    props.put("controller.quorum.voters", nodeId + "@127.0.0.1:" + controllerPort);
    props.put("listeners", LISTENER + "://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.put("advertised.listeners", LISTENER + "://127.0.0.1:" + brokerPort);
    props.put("listener.security.protocol.map", LISTENER + ":SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT");
    props.put("controller.listener.names", "CONTROLLER");
    props.put("inter.broker.listener.name", LISTENER);
    // SASL on both listeners: the broker and the controller log in to each other with the same user
    props.put("sasl.enabled.mechanisms", "PLAIN");
    props.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
    props.put("sasl.mechanism.controller.protocol", "PLAIN");
    String serverJaas = jaas(password, " user_" + USER + "=\"" + password + "\"");
    props.put("listener.name." + LISTENER.toLowerCase(Locale.ROOT) + ".plain.sasl.jaas.config", serverJaas);
    props.put("listener.name.controller.plain.sasl.jaas.config", serverJaas);
    props.put("log.dirs", logDir.toString());
    // One node: every internal topic has a single replica.
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "4");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "4");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("num.partitions", "2");
    props.put("auto.create.topics.enable", "false");
    props.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
    KafkaConfig config = KafkaConfig.fromProps(props, false);
    try {
      if (!Files.exists(logDir.resolve("meta.properties"))) {
        Files.createDirectories(logDir);
        new Formatter()
            .setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
            .setClusterId(Uuid.randomUuid().toString())
            .setNodeId(nodeId)
            .setDirectories(List.of(logDir.toString()))
            .setMetadataLogDirectory(logDir.toString())
            .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
            .setReleaseVersion(MetadataVersion.latestProduction())
            .setControllerListenerName("CONTROLLER")
            .setHasDynamicQuorum(false)
            .run();
      }
      KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      EmbeddedKafka kafka = new EmbeddedKafka(dataDir, deleteOnClose, ports, server, password);
      kafka.writeClientConfig();
      kafka.awaitReady();
      LOG.info("Kafka broker ready at {} (data in {})", kafka.bootstrapServers(), dataDir);
      return kafka;
    } catch (Exception e) {
      throw new IllegalStateException("could not start the embedded Kafka broker in " + dataDir + ": " + e, e);
    }
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + ports.broker();
  }

  public Ports ports() {
    return ports;
  }

  /**
   * What a client of this broker needs besides {@code bootstrap.servers}: SASL/PLAIN with the
   * broker's password. A fresh copy on each call, for a builder's {@code kafkaProperties}.
   */
  public Properties clientProperties() {
    Properties props = new Properties();
    props.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
    props.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
    props.put(SaslConfigs.SASL_JAAS_CONFIG, jaas(password, ""));
    return props;
  }

  /**
   * A file (0600) with {@code bootstrap.servers} and {@link #clientProperties()}, for the
   * {@code --kafka-config} of the commands that talk to this broker from another process.
   */
  public Path clientConfigFile() {
    return dataDir.resolve(CLIENT_CONFIG_FILE);
  }

  private void writeClientConfig() throws IOException {
    StringBuilder text = new StringBuilder("# client settings of the embedded Kafka broker; keep this file private\n");
    text.append(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG).append('=').append(bootstrapServers()).append('\n');
    for (String key : new TreeSet<>(clientProperties().stringPropertyNames())) {
      text.append(key).append('=').append(clientProperties().getProperty(key)).append('\n');
    }
    SecretFile.writeOwnerOnly(clientConfigFile(), text.toString());
  }

  /** The login of {@link #USER}; a server's also lists the users it accepts ({@code user_NAME="PASSWORD"}). */
  private static String jaas(String password, String accepted) {
    return PlainLoginModule.class.getName() + " required username=\"" + USER + "\" password=\"" + password + "\""
        + accepted + ";";
  }

  /** Creates the topics that do not exist yet, with the broker's default settings. */
  public void createTopics(Collection<String> topics, int partitions) {
    List<NewTopic> newTopics = new ArrayList<>();
    for (String topic : topics) {
      newTopics.add(new NewTopic(topic, partitions, (short) 1));
    }
    create(newTopics);
  }

  /**
   * Creates the pipeline's topics that do not exist yet as they are declared ({@link Topics#specs()}:
   * cleanup policy, retention), with {@code partitions} each and one replica.
   */
  public void createTopics(Topics topics, int partitions) {
    List<NewTopic> newTopics = new ArrayList<>();
    for (TopicSpec spec : topics.specs()) {
      newTopics.add(new NewTopic(spec.name(), partitions, (short) 1).configs(spec.configs()));
    }
    create(newTopics);
  }

  private void create(List<NewTopic> newTopics) {
    try (Admin admin = admin()) {
      for (var entry : admin.createTopics(newTopics).values().entrySet()) {
        try {
          entry.getValue().get();
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("could not create topic " + entry.getKey() + ": " + e.getCause(), e);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    }
  }

  public Admin admin() {
    Properties props = clientProperties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    return Admin.create(props);
  }

  private void awaitReady() throws InterruptedException, ExecutionException {
    // describeCluster answers only once the broker has registered with the controller.
    try (Admin admin = admin()) {
      admin.describeCluster().nodes().get();
    }
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    if (deleteOnClose) {
      deleteRecursively(dataDir);
    }
  }

  private static void deleteRecursively(Path dir) {
    try {
      Directories.deleteRecursively(dir);
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", dir, e.toString());
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }
}
