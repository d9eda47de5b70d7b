package dev.stallwatch.cluster;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.app.flink.FlinkRest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A Flink standalone session cluster from Maven Central jars: a JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}), each its
 * own JVM on 127.0.0.1, with the memory parameters Flink's own scripts compute
 * ({@code BashJavaUtils GET_TM_RESOURCE_PARAMS}).
 */
final class FlinkCluster implements AutoCloseable {
  static final int SLOTS_PER_TASK_MANAGER = 2;
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * What Flink's distribution puts in env.java.default-opts.all and its scripts pass to every JVM:
   * without them the JobManager cannot even build a job graph on Java 17.
   */
  static final List<String> FLINK_DEFAULT_JVM_OPTIONS = List.of(
      "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
      "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
      "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.net=ALL-UNNAMED",
      "--add-opens=java.base/java.io=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.text=ALL-UNNAMED",
      "--add-opens=java.base/java.time=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

  private final Path dir;
  private final Path conf;
  private final String classpath;
  private final List<String> baseJvm;
  private final int restPort;
  private final JvmProcess jobManager;
  private final List<JvmProcess> taskManagers = new ArrayList<>();
  private final List<String> tmJvm;
  private final List<String> tmDynamic;
  private final HttpClient http = HttpClient.newHttpClient();

  private FlinkCluster(Path dir, Path conf, String classpath, List<String> baseJvm, int restPort,
      List<String> tmJvm, List<String> tmDynamic, List<String> jmJvm, List<String> jmDynamic) {
    this.dir = dir;
    this.conf = conf;
    this.classpath = classpath;
    this.baseJvm = baseJvm;
    this.restPort = restPort;
    this.tmJvm = tmJvm;
    this.tmDynamic = tmDynamic;
    List<String> jvm = new ArrayList<>(baseJvm);
    jvm.addAll(jmJvm);
    List<String> args = new ArrayList<>(List.of("--configDir", conf.toString(), "--executionMode", "cluster"));
    args.addAll(jmDynamic);
    this.jobManager = new JvmProcess("flink-jobmanager", classpath, jvm,
        "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint", args, dir);
  }

  static FlinkCluster start(Path dir, String classpath, Path log4j, int taskManagers) throws Exception {
    List<Integer> ports = Ports.free(3);
    int rpc = ports.get(0);
    int rest = ports.get(1);
    int blob = ports.get(2);
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Files.writeString(conf.resolve("config.yaml"), String.join("\n",
        "jobmanager.rpc.address: 127.0.0.1",
        "jobmanager.rpc.port: " + rpc,
        "jobmanager.bind-host: 127.0.0.1",
        "jobmanager.memory.process.size: 768m",
        "rest.address: 127.0.0.1",
        "rest.bind-address: 127.0.0.1",
        "rest.port: " + rest,
        "blob.server.port: " + blob,
        "taskmanager.host: 127.0.0.1",
        "taskmanager.bind-host: 127.0.0.1",
        "taskmanager.numberOfTaskSlots: " + SLOTS_PER_TASK_MANAGER,
        "taskmanager.memory.process.size: 1024m",
        "taskmanager.memory.managed.size: 96m",
        "taskmanager.load-balance.mode: SLOTS",
        "parallelism.default: 2",
        // a killed TaskManager is noticed by failed heartbeat RPCs in seconds; a slow one on a busy machine is not dropped
        "heartbeat.interval: 2000",
        "heartbeat.timeout: 30000",
        "heartbeat.rpc-failure-threshold: 2",
        "restart-strategy.type: fixed-delay",
        "restart-strategy.fixed-delay.attempts: 1000",
        "restart-strategy.fixed-delay.delay: 1 s",
        "execution.checkpointing.savepoint-dir: " + dir.resolve("savepoints").toUri(),
        "web.upload.dir: " + Files.createDirectories(dir.resolve("uploads")),
        "io.tmp.dirs: " + Files.createDirectories(dir.resolve("tmp")),
        ""));
    List<String> baseJvm = new ArrayList<>(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Djava.io.tmpdir=" + dir.resolve("tmp"), "-Dlog4j.configurationFile=" + log4j,
        "-Dlog4j2.configurationFile=" + log4j));
    baseJvm.addAll(FLINK_DEFAULT_JVM_OPTIONS);
    List<String> tm = resourceParams(dir, classpath, baseJvm, conf, "GET_TM_RESOURCE_PARAMS");
    List<String> jm = resourceParams(dir, classpath, baseJvm, conf, "GET_JM_RESOURCE_PARAMS");
    FlinkCluster cluster = new FlinkCluster(dir, conf, classpath, baseJvm, rest,
        split(tm.get(0)), split(tm.get(1)), split(jm.get(0)), split(jm.get(1)));
    try {
      cluster.jobManager.start();
      for (int i = 0; i < taskManagers; i++) {
        cluster.addTaskManager();
      }
      cluster.awaitTaskManagers(taskManagers);
    } catch (RuntimeException | Error e) {
      cluster.close(); // no Flink process outlives a failed start
      throw e;
    }
    return cluster;
  }

  /** What Flink's scripts ask BashJavaUtils for: the JVM parameters, then the dynamic -D settings. */
  private static List<String> resourceParams(Path dir, String classpath, List<String> jvm, Path conf, String command)
      throws Exception {
    JvmProcess utils = new JvmProcess("flink-" + command.toLowerCase(java.util.Locale.ROOT), classpath, jvm,
        "org.apache.flink.runtime.util.bash.BashJavaUtils", List.of(command, "--configDir", conf.toString()), dir);
    utils.runToCompletion(Duration.ofSeconds(60));
    List<String> results = Files.readAllLines(utils.log()).stream()
        .filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
        .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim())
        .toList();
    if (results.size() < 2) {
      throw new IllegalStateException(command + " printed no parameters; see " + utils.log());
    }
    return results.subList(results.size() - 2, results.size());
  }

  private static List<String> split(String line) {
    return Arrays.stream(line.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
  }

  URI restUri() {
    return URI.create("http://127.0.0.1:" + restPort);
  }

  FlinkRest rest() {
    return new FlinkRest(restUri());
  }

  Path dir() {
    return dir;
  }

  JvmProcess jobManager() {
    return jobManager;
  }

  /**
   * Flink's command-line client as {@code bin/flink} starts it: {@code CliFrontend} in a JVM of
   * its own with the distribution's JVM options and {@code FLINK_CONF_DIR} pointing at a client
   * configuration (a {@code config.yaml} naming the JobManager's REST address and port), given
   * {@code args} ({@code run -d -p 2 -c ...}). Runs it to completion (exit 0, else it throws)
   * and returns what it printed.
   */
  String flinkCli(String name, List<String> args) throws Exception {
    Path clientConf = Files.createDirectories(dir.resolve("client-conf"));
    Files.writeString(clientConf.resolve("config.yaml"), String.join("\n",
        "rest.address: 127.0.0.1",
        "rest.port: " + restPort,
        "jobmanager.rpc.address: 127.0.0.1",
        ""));
    List<String> jvm = new ArrayList<>(baseJvm);
    jvm.add("-Xmx384m");
    JvmProcess cli = new JvmProcess(name, classpath, jvm, "org.apache.flink.client.cli.CliFrontend", args, dir,
        java.util.Map.of("FLINK_CONF_DIR", clientConf.toString()));
    cli.runToCompletion(Duration.ofMinutes(3));
    return Files.readString(cli.log());
  }

  /** Starts one more TaskManager, with a resource ID that names its process ({@code tm-N}). */
  JvmProcess addTaskManager() {
    String id = "tm-" + (taskManagers.size() + 1);
    List<String> jvm = new ArrayList<>(baseJvm);
    jvm.addAll(tmJvm);
    List<String> args = new ArrayList<>(List.of("--configDir", conf.toString()));
    args.addAll(tmDynamic);
    args.addAll(List.of("-D", "taskmanager.resource-id=" + id));
    JvmProcess process = new JvmProcess("flink-" + id, classpath, jvm,
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", args, dir);
    taskManagers.add(process);
    return process.start();
  }

  JvmProcess taskManager(String resourceId) {
    return taskManagers.stream().filter(t -> t.name().equals("flink-" + resourceId)).findFirst().orElseThrow();
  }

  /** Waits until {@code count} TaskManagers are registered with the JobManager. */
  void awaitTaskManagers(int count) {
    await(count + " TaskManagers registered").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(() -> get("taskmanagers").path("taskmanagers").size() >= count);
  }

  /** Resource IDs of the TaskManagers that run at least one of the job's subtasks. */
  List<String> taskManagersOf(String jobId) throws Exception {
    List<String> ids = new ArrayList<>();
    for (JsonNode vertex : get("jobs/" + jobId).path("vertices")) {
      for (JsonNode tm : get("jobs/" + jobId + "/vertices/" + vertex.path("id").asText() + "/taskmanagers")
          .path("taskmanagers")) {
        String id = tm.path("taskmanager-id").asText();
        if (!ids.contains(id)) {
          ids.add(id);
        }
      }
    }
    return ids;
  }

  /** The IDs of the jobs in the given state. */
  List<String> jobs(String state) throws Exception {
    List<String> ids = new ArrayList<>();
    for (JsonNode job : get("jobs/overview").path("jobs")) {
      if (state.equals(job.path("state").asText())) {
        ids.add(job.path("jid").asText());
      }
    }
    return ids;
  }

  JsonNode get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(restUri().resolve("/" + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(path + ": HTTP " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }

  String logs() {
    List<JvmProcess> all = new ArrayList<>(List.of(jobManager));
    all.addAll(taskManagers);
    return all.stream().map(p -> "== " + p.name() + "\n" + p.tail(60)).collect(Collectors.joining("\n"));
  }

  @Override
  public void close() throws Exception {
    for (JvmProcess tm : taskManagers) {
      tm.close();
    }
    jobManager.close();
  }
}
