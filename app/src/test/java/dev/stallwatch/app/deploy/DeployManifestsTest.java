package dev.stallwatch.app.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.stallwatch.app.Stallwatch;
import dev.stallwatch.app.dashboards.Dashboards;
import dev.stallwatch.jobs.DeadlockDetectionJob;
import dev.stallwatch.schemas.TopicSpec;
import dev.stallwatch.schemas.Topics;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * Every manifest under deploy/ parses, and what it says about the code agrees with the code: topic
 * names and settings ({@link Topics}), the job's jar, main class and arguments (its own parser),
 * the CLI's arguments (picocli's specs of {@link Stallwatch}), images and versions (the poms),
 * ports, and the Kafka bootstrap address. The names are read from the code and the poms, so a
 * rename there fails here until the manifests follow.
 */
class DeployManifestsTest {
  static final Path ROOT = Dashboards.repoRoot();
  static final Path DEPLOY = ROOT.resolve("deploy");
  static final Path KUBERNETES = DEPLOY.resolve("kubernetes");
  static final Path COMPOSE = DEPLOY.resolve("compose/docker-compose.yml");
  static final Path STALLWATCH_DOCKERFILE = DEPLOY.resolve("docker/stallwatch.Dockerfile");
  static final Path FLINK_DOCKERFILE = DEPLOY.resolve("docker/flink-job.Dockerfile");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final ObjectMapper JSON = new ObjectMapper();

  static final String IMAGE_REGISTRY = "registry.example.com/";
  static final String USRLIB = "/opt/flink/usrlib/";
  /** Where the stallwatch image holds the CLI (deploy/docker/stallwatch.Dockerfile). */
  static final String STALLWATCH_JAR = "/opt/stallwatch/stallwatch.jar";
  /** The job names Prometheus must scrape with: the Pipeline dashboard filters on them (deploy/grafana/README.md). */
  static final Set<String> SCRAPE_JOBS = Set.of("stallwatch-collector", "stallwatch-incidents", "stallwatch-flink");
  private static final Pattern K8S_VARIABLE = Pattern.compile("\\$\\(([A-Z_]+)\\)");

  // ---- the poms and the code

  static Element pom(Path file) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile()).getDocumentElement();
  }

  static String child(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e.getTextContent().strip();
      }
    }
    throw new AssertionError("no <" + name + "> in <" + parent.getTagName() + ">");
  }

  static String projectVersion() throws Exception {
    return child(pom(ROOT.resolve("pom.xml")), "version");
  }

  static String pomProperty(String name) throws Exception {
    Element properties = (Element) pom(ROOT.resolve("pom.xml")).getElementsByTagName("properties").item(0);
    return child(properties, name);
  }

  /** Images carry the release version: the pom's without -SNAPSHOT. */
  static String imageTag() throws Exception {
    return projectVersion().replace("-SNAPSHOT", "");
  }

  /** The job jar as jobs/pom.xml's shade plugin names it: stallwatch-job-VERSION.jar in jobs/target. */
  static String jobJar() throws Exception {
    String jobsPom = Files.readString(ROOT.resolve("jobs/pom.xml"), StandardCharsets.UTF_8);
    Matcher outputFile = Pattern.compile("<outputFile>\\$\\{project.build.directory}/([^<]+)</outputFile>")
        .matcher(jobsPom);
    String pattern = outputFile.find() ? outputFile.group(1) : "stallwatch-job-${project.version}.jar";
    return pattern.replace("${project.version}", projectVersion());
  }

  /** The job jar's main class parses the arguments: the same parser a cluster's submit runs. */
  static void assertJobArgumentsParse(List<String> args) throws Exception {
    Method main = DeadlockDetectionJob.class.getMethod("main", String[].class);
    assertThat(Modifier.isStatic(main.getModifiers())).isTrue();
    Method parse = Class.forName("dev.stallwatch.jobs.JobArguments").getDeclaredMethod("parse", String[].class);
    parse.setAccessible(true);
    try {
      assertThat(parse.invoke(null, (Object) args.toArray(String[]::new))).as("arguments " + args).isNotNull();
    } catch (InvocationTargetException e) {
      fail("the job does not take " + args + ": " + e.getCause().getMessage());
    }
  }

  /** picocli parses the arguments as `stallwatch ARGS` would, without running the command. */
  static CommandLine.ParseResult assertCliArgumentsParse(List<String> args) {
    try {
      return Stallwatch.commandLine().parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new AssertionError("stallwatch does not take " + args + ": " + e.getMessage(), e);
    }
  }

  static String option(CommandLine.ParseResult root, String name) {
    CommandLine.ParseResult command = root;
    while (command.subcommand() != null) {
      command = command.subcommand();
    }
    CommandLine.Model.OptionSpec option = command.matchedOption(name);
    return option == null ? null : option.originalStringValues().get(0);
  }

  static String subcommand(CommandLine.ParseResult root) {
    return root.subcommand() == null ? null : root.subcommand().commandSpec().name();
  }

  // ---- the manifests

  static List<Path> manifests() throws IOException {
    try (Stream<Path> files = Files.walk(DEPLOY)) {
      return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    }
  }

  /** Every YAML document of the file; SnakeYAML, which resolves the Compose file's merge keys (<<). */
  static List<JsonNode> documents(Path file) throws IOException {
    List<JsonNode> documents = new ArrayList<>();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (Object doc : new Yaml().loadAll(reader)) {
        if (doc != null) {
          documents.add(JSON.valueToTree(doc));
        }
      }
    }
    return documents;
  }

  static List<JsonNode> kubernetes() throws IOException {
    List<JsonNode> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(KUBERNETES)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        all.addAll(documents(file));
      }
    }
    return all;
  }

  static List<JsonNode> ofKind(String kind) throws IOException {
    return kubernetes().stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
  }

  static JsonNode single(String kind) throws IOException {
    List<JsonNode> docs = ofKind(kind);
    assertThat(docs).as("one " + kind).hasSize(1);
    return docs.get(0);
  }

  /** The in-cluster bootstrap address of the Strimzi cluster: its bootstrap service and the plain listener. */
  static String strimziBootstrap() throws IOException {
    JsonNode kafka = single("Kafka");
    JsonNode plain = null;
    for (JsonNode listener : kafka.path("spec").path("kafka").path("listeners")) {
      if (!listener.path("tls").asBoolean()) {
        plain = listener;
      }
    }
    assertThat(plain).as("a plain in-cluster listener").isNotNull();
    return kafka.path("metadata").path("name").asText() + "-kafka-bootstrap." + kafka.path("metadata").path("namespace")
        .asText() + ":" + plain.path("port").asInt();
  }

  static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(v -> values.add(v.asText()));
    return values;
  }

  // ---- the tests

  @Test
  void everyManifestParsesAndEveryKubernetesObjectIsNamedInItsNamespace() throws IOException {
    assertThat(manifests()).extracting(p -> DEPLOY.relativize(p).toString()).contains(
        "compose/docker-compose.yml", "kubernetes/kafka.yaml", "kubernetes/topics.yaml",
        "kubernetes/flink-deployment.yaml", "kubernetes/serve.yaml", "kubernetes/collector-daemonset.yaml",
        "prometheus/stallwatch-pipeline.rules.yml");
    for (Path file : manifests()) {
      assertThat(documents(file)).as(file.toString()).isNotEmpty();
    }
    Set<String> clusterScoped = Set.of("ClusterRole", "ClusterRoleBinding");
    for (JsonNode doc : kubernetes()) {
      String what = doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText();
      assertThat(doc.path("apiVersion").asText()).as(what).isNotBlank();
      assertThat(doc.path("metadata").path("name").asText()).as(what).matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
      if (!clusterScoped.contains(doc.path("kind").asText())) {
        assertThat(doc.path("metadata").path("namespace").asText()).as(what).isEqualTo("stallwatch");
      }
    }
  }

  @Test
  void kafkaTopicsAreTheDeclaredTopics() throws IOException {
    String cluster = single("Kafka").path("metadata").path("name").asText();
    int brokers = single("KafkaNodePool").path("spec").path("replicas").asInt();
    Map<String, JsonNode> topics = new LinkedHashMap<>();
    for (JsonNode topic : ofKind("KafkaTopic")) {
      topics.put(topic.path("spec").path("topicName").asText(), topic);
    }

    assertThat(topics.keySet()).containsExactlyElementsOf(Topics.defaults().all());
    for (TopicSpec spec : Topics.defaults().specs()) {
      JsonNode topic = topics.get(spec.name()).path("spec");
      assertThat(topics.get(spec.name()).path("metadata").path("labels").path("strimzi.io/cluster").asText())
          .isEqualTo(cluster);
      assertThat(topic.path("partitions").asInt()).as(spec.name()).isEqualTo(spec.partitions());
      Map<String, String> config = new HashMap<>();
      topic.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
      assertThat(config).as(spec.name()).containsAllEntriesOf(spec.configs());
      int replicas = topic.path("replicas").asInt();
      assertThat(replicas).as(spec.name()).isBetween(1, brokers);
      assertThat(Integer.parseInt(config.get("min.insync.replicas"))).as(spec.name()).isLessThan(replicas);
    }
  }

  @Test
  void theFlinkDeploymentRunsTheJobJarWithArgumentsTheJobTakes() throws Exception {
    JsonNode deployment = single("FlinkDeployment").path("spec");
    JsonNode job = deployment.path("job");
    JsonNode conf = deployment.path("flinkConfiguration");

    assertThat(deployment.path("image").asText()).isEqualTo(IMAGE_REGISTRY + "stallwatch-flink:" + imageTag());
    assertThat(job.path("entryClass").asText()).isEqualTo(DeadlockDetectionJob.class.getName());
    assertThat(job.path("jarURI").asText()).isEqualTo("local://" + USRLIB + jobJar());
    assertThat(job.path("upgradeMode").asText()).isEqualTo("savepoint");
    List<String> args = strings(job.path("args"));
    assertJobArgumentsParse(args);
    assertThat(args.get(args.indexOf("--bootstrap-servers") + 1)).isEqualTo(strimziBootstrap());

    // one slot per partition of the biggest topic; enough slots for that parallelism
    int parallelism = job.path("parallelism").asInt();
    assertThat(parallelism).isEqualTo(Topics.Role.PROFILES.partitions());
    assertThat(deployment.path("taskManager").path("replicas").asInt()
        * conf.path("taskmanager.numberOfTaskSlots").asInt()).isGreaterThanOrEqualTo(parallelism);

    assertThat(conf.path("state.backend.type").asText()).isEqualTo("rocksdb");
    assertThat(conf.path("execution.checkpointing.incremental").asText()).isEqualTo("true");
    assertThat(conf.path("execution.checkpointing.dir").asText()).isNotBlank();
    assertThat(conf.path("execution.checkpointing.savepoint-dir").asText()).isNotBlank();
    assertThat(conf.path("high-availability.type").asText()).isEqualTo("kubernetes");
    assertThat(conf.path("high-availability.storageDir").asText()).isNotBlank();
    assertThat(conf.path("metrics.reporter.prom.factory.class").asText())
        .isEqualTo(PrometheusReporterFactory.class.getName());
    String metricsPort = conf.path("metrics.reporter.prom.port").asText();
    JsonNode pod = deployment.path("podTemplate");
    assertThat(pod.path("metadata").path("annotations").path("prometheus.io/port").asText()).isEqualTo(metricsPort);
    assertThat(pod.path("spec").path("containers").get(0).path("ports").get(0).path("containerPort").asText())
        .isEqualTo(metricsPort);
    assertThat(pod.path("metadata").path("labels").path("app.kubernetes.io/part-of").asText())
        .as("the Kafka listener's network policy admits the pipeline's pods").isEqualTo("stallwatch");

    String flinkMinor = pomProperty("flink.version").replaceAll("^(\\d+\\.\\d+).*", "$1");
    assertThat(deployment.path("flinkVersion").asText()).isEqualTo("v" + flinkMinor.replace('.', '_'));
    String dockerfile = Files.readString(FLINK_DOCKERFILE, StandardCharsets.UTF_8);
    assertThat(dockerfile).contains("FROM flink:" + flinkMinor + "\n")
        .contains("COPY --chown=flink:flink jobs/target/" + jobJar() + " " + USRLIB + jobJar() + "\n");
  }

  /** The stallwatch containers: the arguments after the jar, with Kubernetes' $(VAR) filled in. */
  static List<String> stallwatchArguments(JsonNode container) {
    List<String> command = strings(container.path("command"));
    List<String> args = new ArrayList<>();
    if (!command.isEmpty()) {
      int jar = command.indexOf("-jar");
      assertThat(jar).as(container.path("name") + " runs the jar").isNotNegative();
      assertThat(command.get(jar + 1)).isEqualTo(STALLWATCH_JAR);
      args.addAll(command.subList(jar + 2, command.size()));
    }
    Map<String, String> env = new HashMap<>();
    for (JsonNode var : container.path("env")) {
      String field = var.path("valueFrom").path("fieldRef").path("fieldPath").asText();
      env.put(var.path("name").asText(), field.equals("status.hostIP") ? "10.0.0.7" : "node-7");
    }
    for (String arg : strings(container.path("args"))) {
      Matcher m = K8S_VARIABLE.matcher(arg);
      StringBuilder filled = new StringBuilder();
      while (m.find()) {
        assertThat(env).as("$(" + m.group(1) + ") is defined").containsKey(m.group(1));
        m.appendReplacement(filled, env.get(m.group(1)));
      }
      m.appendTail(filled);
      args.add(filled.toString());
    }
    return args;
  }

  static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  @Test
  void kubernetesStallwatchContainersTakeTheirArgumentsAndServeTheirPorts() throws Exception {
    String dockerfile = Files.readString(STALLWATCH_DOCKERFILE, StandardCharsets.UTF_8);
    assertThat(dockerfile).contains("COPY app/target/stallwatch.jar " + STALLWATCH_JAR + "\n")
        .contains("ENTRYPOINT [\"java\", \"-jar\", \"" + STALLWATCH_JAR + "\"]");
    Map<String, String> commands = new TreeMap<>();
    for (JsonNode workload : kubernetes()) {
      JsonNode pod = workload.path("spec").path("template");
      for (JsonNode container : pod.path("spec").path("containers")) {
        if (!container.path("image").asText().startsWith(IMAGE_REGISTRY + "stallwatch:")) {
          continue;
        }
        assertThat(container.path("image").asText()).isEqualTo(IMAGE_REGISTRY + "stallwatch:" + imageTag());
        List<String> args = stallwatchArguments(container);
        CommandLine.ParseResult parsed = assertCliArgumentsParse(args);
        String name = subcommand(parsed);
        commands.put(workload.path("metadata").path("name").asText(), name);
        assertThat(option(parsed, "--bootstrap-servers")).as(name).isEqualTo(strimziBootstrap());
        String listen = option(parsed, name.equals("serve") ? "--listen" : "--http-address");
        int containerPort = container.path("ports").get(0).path("containerPort").asInt();
        assertThat(port(listen)).as(name + " listens where its container port is").isEqualTo(containerPort);
        assertThat(pod.path("metadata").path("annotations").path("prometheus.io/port").asInt()).isEqualTo(containerPort);
        assertThat(pod.path("metadata").path("labels").path("app.kubernetes.io/part-of").asText()).isEqualTo("stallwatch");
      }
    }
    assertThat(commands).containsEntry("stallwatch-collector", "collect").containsEntry("stallwatch-serve", "serve");

    JsonNode service = single("Service").path("spec");
    JsonNode serve = ofKind("Deployment").stream()
        .filter(d -> d.path("metadata").path("name").asText().equals("stallwatch-serve")).findFirst().orElseThrow()
        .path("spec").path("template").path("spec").path("containers").get(0);
    assertThat(service.path("ports").get(0).path("targetPort").asText()).isEqualTo(serve.path("ports").get(0).path("name").asText());
    assertThat(serve.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/healthz");
  }

  @Test
  void theComposeFileRunsTheSameJarsArgumentsTopicsAndPorts() throws Exception {
    JsonNode services = documents(COMPOSE).get(0).path("services");
    String kafkaImage = "apache/kafka:" + pomProperty("kafka.version");
    List<String> brokers = new ArrayList<>();
    services.fields().forEachRemaining(e -> {
      if (e.getValue().path("image").asText().startsWith("apache/kafka:")) {
        brokers.add(e.getKey());
      }
    });
    assertThat(brokers).hasSize(3);
    String internalBootstrap = brokers.stream().map(b -> b + ":9092").collect(Collectors.joining(","));
    for (String broker : brokers) {
      JsonNode env = services.path(broker).path("environment");
      assertThat(services.path(broker).path("image").asText()).isEqualTo(kafkaImage);
      assertThat(env.path("KAFKA_ADVERTISED_LISTENERS").asText()).contains("INTERNAL://" + broker + ":9092");
      assertThat(env.path("KAFKA_CONTROLLER_QUORUM_VOTERS").asText().split(",")).hasSize(brokers.size());
      assertThat(env.path("KAFKA_AUTO_CREATE_TOPICS_ENABLE").asText()).isEqualTo("false");
    }

    // the job: application mode with the job jar on every Flink process
    String flinkImage = "flink:" + pomProperty("flink.version").replaceAll("^(\\d+\\.\\d+).*", "$1");
    String jarMount = "../../jobs/target/" + jobJar() + ":" + USRLIB + jobJar() + ":ro";
    List<String> flink = new ArrayList<>();
    services.fields().forEachRemaining(e -> {
      if (e.getValue().path("image").asText().startsWith("flink:")) {
        flink.add(e.getKey());
      }
    });
    assertThat(flink).hasSize(3);
    for (String name : flink) {
      JsonNode service = services.path(name);
      assertThat(service.path("image").asText()).isEqualTo(flinkImage);
      assertThat(strings(service.path("volumes"))).contains(jarMount);
      JsonNode conf = YAML.readTree(service.path("environment").path("FLINK_PROPERTIES").asText());
      assertThat(conf.path("metrics.reporter.prom.factory.class").asText())
          .isEqualTo(PrometheusReporterFactory.class.getName());
      assertThat(conf.path("state.backend.type").asText()).isEqualTo("rocksdb");
    }
    List<String> jobManager = strings(services.path("jobmanager").path("command"));
    assertThat(jobManager.subList(0, 3))
        .containsExactly("standalone-job", "--job-classname", DeadlockDetectionJob.class.getName());
    List<String> jobArgs = jobManager.subList(3, jobManager.size());
    assertJobArgumentsParse(jobArgs);
    assertThat(jobArgs.get(jobArgs.indexOf("--bootstrap-servers") + 1)).isEqualTo(internalBootstrap);
    assertThat(services.path("jobmanager").path("depends_on").path("topics").path("condition").asText())
        .isEqualTo("service_completed_successfully");

    // the CLI: topics creates the declared topics first, serve waits for them
    Map<String, CommandLine.ParseResult> cli = new TreeMap<>();
    services.fields().forEachRemaining(e -> {
      List<String> command = strings(e.getValue().path("command"));
      if (command.size() > 2 && command.get(0).equals("java") && command.get(2).equals(STALLWATCH_JAR)) {
        assertThat(strings(e.getValue().path("volumes"))).contains("../../app/target:/opt/stallwatch:ro");
        cli.put(e.getKey(), assertCliArgumentsParse(command.subList(3, command.size())));
      }
    });
    assertThat(cli.keySet()).containsExactly("serve", "topics");
    assertThat(subcommand(cli.get("topics"))).isEqualTo("topics");
    assertThat(cli.get("topics").subcommand().subcommand().commandSpec().name()).isEqualTo("create");
    for (CommandLine.ParseResult parsed : cli.values()) {
      assertThat(option(parsed, "--bootstrap-servers")).isEqualTo(internalBootstrap);
    }
    CommandLine.ParseResult serve = cli.get("serve");
    Set<String> serveSecrets = new TreeSet<>(strings(services.path("serve").path("secrets")));
    for (String fileOption : List.of("--db-password-file", "--api-token-file")) {
      String file = option(serve, fileOption);
      assertThat(file).startsWith("/run/secrets/");
      assertThat(serveSecrets).contains(file.substring("/run/secrets/".length()));
    }
    int servePort = port(option(serve, "--listen"));

    // secrets are files beside the Compose file, in the directory .gitignore keeps out of git
    JsonNode secrets = documents(COMPOSE).get(0).path("secrets");
    secrets.fields().forEachRemaining(e -> assertThat(e.getValue().path("file").asText())
        .isEqualTo("./secrets/" + e.getKey()));
    assertThat(Files.readString(COMPOSE.resolveSibling(".gitignore"), StandardCharsets.UTF_8)).contains("secrets/");

    // every published port on loopback only
    services.fields().forEachRemaining(e -> {
      for (String published : strings(e.getValue().path("ports"))) {
        assertThat(published).as(e.getKey()).startsWith("127.0.0.1:");
      }
    });
    assertThat(strings(services.path("serve").path("ports"))).contains("127.0.0.1:" + servePort + ":" + servePort);

    // Prometheus scrapes the services where they serve /metrics, under the dashboards' job names
    JsonNode prometheus = documents(COMPOSE.resolveSibling("prometheus.yml")).get(0);
    Map<String, List<String>> targets = new TreeMap<>();
    for (JsonNode scrape : prometheus.path("scrape_configs")) {
      List<String> hosts = new ArrayList<>();
      scrape.path("static_configs").forEach(c -> hosts.addAll(strings(c.path("targets"))));
      targets.put(scrape.path("job_name").asText(), hosts);
    }
    assertThat(targets.keySet()).containsExactlyInAnyOrderElementsOf(SCRAPE_JOBS);
    assertThat(targets.get("stallwatch-incidents")).containsExactly("serve:" + servePort);
    JsonNode flinkConf = YAML.readTree(services.path("jobmanager").path("environment").path("FLINK_PROPERTIES").asText());
    String flinkPort = flinkConf.path("metrics.reporter.prom.port").asText();
    assertThat(targets.get("stallwatch-flink")).containsExactlyInAnyOrderElementsOf(
        flink.stream().map(f -> f + ":" + flinkPort).toList());
    assertThat(prometheus.path("rule_files").get(0).asText()).endsWith("/stallwatch-pipeline.rules.yml");
  }

  @Test
  @Timeout(60)
  void dockerComposeValidatesTheFile() throws Exception {
    // Debian's docker-compose validates offline; there is no Docker engine here to run it
    ProcessBuilder builder = new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q")
        .redirectErrorStream(true);
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new AssertionError("docker-compose is needed to validate " + COMPOSE
          + " (Debian package docker-compose): " + e.getMessage(), e);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(50, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
  }
}
