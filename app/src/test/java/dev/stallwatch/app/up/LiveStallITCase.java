package dev.stallwatch.app.up;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole thing live on this machine, with real perf and real cgroups: two "containers" (cgroup
 * v1 directories {@code /docker/<64 hex>} under cpu, cpuacct and pids) each run a small C HTTP
 * server behind a real haproxy, under the same bounded load. One of them wedges: it stops
 * answering and spins in stacks named like the Go runtime's in golang/go#38023, its build info
 * reads go1.14.1; haproxy times its requests out (504) and the test drains it on haproxy's stats
 * socket. {@code stallwatch up} (a child JVM: broker, job, store, pages, the collector with perf
 * and the haproxy source) must page a PagerDuty-style receiver exactly once, for that container,
 * and never for its healthy neighbour.
 *
 * <p>Shortened with the detector's own option: {@code stuck.sustain=30s} (default 60 s). Windows
 * stay 10 s. Where perf, gcc, haproxy or the cgroup tree are not usable the test fails saying which.
 */
class LiveStallITCase {
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
  private static final List<String> CONTROLLERS = List.of("cpu", "cpuacct", "pids");
  private static final Path DOCKER_CPU = CGROUP_ROOT.resolve("cpu").resolve("docker");
  /**
   * The CFS weight of the test's container groups and of /docker (restored after): a cgroup
   * competes as one task of weight cpu.shares with everything else on the machine, so on a busy
   * shared machine a spinning container would get a fraction of a core, where a wedged service
   * on its own node spins on a whole one.
   */
  private static final String SHARES = "262144";
  private static final Duration SUSTAIN = Duration.ofSeconds(30);
  private static final long REQUEST_INTERVAL_MS = 50;
  private static final int MAX_IN_FLIGHT = 8;
  private static final String ROUTING_KEY = "live-test-routing-key-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private final List<Process> processes = new ArrayList<>();
  private final List<Path> cgroups = new ArrayList<>();
  private final ScheduledExecutorService loadScheduler = Executors.newScheduledThreadPool(1);
  private final HttpClient loadClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private HttpServer receiver;
  private String dockerShares;
  private UpProcess up;

  @AfterEach
  void cleanUp() throws Exception {
    loadScheduler.shutdownNow();
    if (up != null) {
      up.close();
    }
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
    }
    for (Path cgroup : cgroups) {
      Files.deleteIfExists(cgroup); // rmdir: empty once its processes exited
    }
    if (dockerShares != null) {
      Files.writeString(DOCKER_CPU.resolve("cpu.shares"), dockerShares);
    }
    if (receiver != null) {
      receiver.stop(0);
    }
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void aWedgedGoContainerBehindHaproxyIsPagedOnceAndItsHealthyNeighbourNever() throws Exception {
    requireTools();
    Path binary = buildStallingService();
    String wedged = containerId();
    String healthy = containerId();
    int wedgedPort = freePort();
    int healthyPort = freePort();
    Process wedgedService = startInContainer(wedged, binary, wedgedPort);
    startInContainer(healthy, binary, healthyPort);
    awaitListening(wedgedPort);
    awaitListening(healthyPort);

    Path socket = dir.resolve("haproxy.sock");
    int wedgedFront = freePort();
    int healthyFront = freePort();
    startHaproxy(socket, wedgedFront, wedgedPort, healthyFront, healthyPort);
    Path upstreamMap = dir.resolve("upstreams.csv");
    Files.writeString(upstreamMap, "address,container_id\n127.0.0.1:" + wedgedPort + "," + wedged + "\n127.0.0.1:"
        + healthyPort + "," + healthy + "\n");
    List<JsonNode> pages = startReceiver();

    List<String> upArguments = List.of("--data-dir", dir.resolve("up").toString(), "--listen", "127.0.0.1:" + freePort(),
        "--collector-listen", "127.0.0.1:" + freePort(),
        "--pagerduty-url", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/v2/enqueue",
        "--pagerduty-routing-key", ROUTING_KEY,
        "--set", "stuck.sustain=" + SUSTAIN.toSeconds() + "s",
        // samples may come a little late on a machine that builds beside the test: a longer grace (up to the window)
        "--", "--window-grace", "5s",
        "--haproxy-socket", socket.toString(), "--upstream-map", upstreamMap.toString());
    up = UpProcess.start(upArguments);
    URI service = up.awaitRunning(Duration.ofMinutes(4));

    AtomicLong wedgedAnswers = startLoad(wedgedFront);
    AtomicLong healthyAnswers = startLoad(healthyFront);
    // a whole window of answered requests through haproxy before the wedge
    long loadStartedMs = System.currentTimeMillis();
    await().atMost(Duration.ofMinutes(1)).until(() -> System.currentTimeMillis() - loadStartedMs > 15_000
        && wedgedAnswers.get() >= 100 && healthyAnswers.get() >= 100);

    Instant wedgedAt = Instant.now();
    signal(wedgedService, "USR1");
    // haproxy times the unanswered requests out: a window of them is a spike
    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
        .until(() -> serverCounter(socket, "orders", "eresp") >= 20);
    long afterSpikeWindow = (System.currentTimeMillis() / 10_000 + 1) * 10_000 + 1_000;
    await().atMost(Duration.ofSeconds(15)).until(() -> System.currentTimeMillis() >= afterSpikeWindow);
    assertThat(haproxy(socket, "set server orders/orders-1 state drain")).isBlank();
    Instant drainedAt = Instant.now();

    await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> !pages.isEmpty());
    Instant pagedAt = Instant.now();
    System.err.printf("live: wedged at %s, drained at %s, paged at %s: drain -> page %.1f s%n", wedgedAt, drainedAt,
        pagedAt, Duration.between(drainedAt, pagedAt).toMillis() / 1000.0);

    // one more checkpoint and window later there is still exactly one page
    await().during(Duration.ofSeconds(25)).atMost(Duration.ofSeconds(40)).until(() -> pages.size() == 1);
    JsonNode page = pages.get(0);
    assertThat(page.path("routing_key").asText()).isEqualTo(ROUTING_KEY);
    assertThat(page.path("event_action").asText()).isEqualTo("trigger");
    JsonNode details = page.path("payload").path("custom_details");
    assertThat(details.path("container_id").asText()).isEqualTo(wedged);
    assertThat(details.path("runtime_version").asText()).isEqualTo("go1.14.1");
    assertThat(page.toString()).contains("golang/go#38023").doesNotContain(healthy);
    assertThat(healthyAnswers.get()).isPositive();

    // the store says the same through the API
    String token = Files.readString(dir.resolve("up").resolve("api-token")).strip();
    HttpResponse<String> incidents = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(service.resolve("/api/v1/incidents")).header("Authorization", "Bearer " + token).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(incidents.statusCode()).isEqualTo(200);
    JsonNode stored = JSON.readTree(incidents.body());
    assertThat(stored.path("total").asInt()).isEqualTo(1);
    assertThat(incidents.body()).contains(wedged).doesNotContain(healthy);

    // up printed the wedged container among this host's containers, with its runtime
    assertThat(up.stdout()).anyMatch(l -> l.contains(wedged.substring(0, 12)) && l.contains("go1.14.1"));

    assertThat(up.terminate(Duration.ofMinutes(2))).isEqualTo(143); // the JVM's exit status after SIGTERM
    assertThat(up.stderr()).contains("stallwatch: stopped").noneMatch(l -> l.contains("internal error"));

    // started again on the same data: the job resumes from its last checkpoint, and nothing pages again
    // (the collector sees the server still drained and says so once more; the detector knows the incident)
    up = UpProcess.start(upArguments);
    up.awaitRunning(Duration.ofMinutes(4));
    assertThat(up.stderr()).anyMatch(l -> l.contains("detection job:  resumed from "));
    await().during(Duration.ofSeconds(40)).atMost(Duration.ofSeconds(60)).until(() -> pages.size() == 1);
    assertThat(up.terminate(Duration.ofMinutes(2))).isEqualTo(143);
  }

  // ---- the machine

  private static void requireTools() throws Exception {
    for (List<String> probe : List.of(List.of("gcc", "--version"), List.of("haproxy", "-v"), List.of("perf", "--version"))) {
      try {
        Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) {
          throw new AssertionError(probe.get(0) + " does not run (exit " + p.exitValue() + "); this test needs it");
        }
      } catch (IOException e) {
        throw new AssertionError("this test needs " + probe.get(0) + " on PATH (apt-get install "
            + (probe.get(0).equals("perf") ? "linux-perf" : probe.get(0)) + "): " + e.getMessage(), e);
      }
    }
    for (String controller : CONTROLLERS) {
      Path docker = CGROUP_ROOT.resolve(controller).resolve("docker");
      if (!Files.isDirectory(CGROUP_ROOT.resolve(controller))) {
        throw new AssertionError("no cgroup v1 controller at " + CGROUP_ROOT.resolve(controller)
            + ": this test makes its containers as cgroup v1 directories");
      }
      try {
        Files.createDirectories(docker);
      } catch (IOException e) {
        throw new AssertionError("cannot create " + docker + " (" + e + "): the test must run as root with a "
            + "writable cgroup tree", e);
      }
    }
  }

  private Path buildStallingService() throws Exception {
    Path source = dir.resolve("orders-svc.c");
    try (InputStream in = LiveStallITCase.class.getResourceAsStream("/live/orders-svc.c")) {
      Files.write(source, in.readAllBytes());
    }
    Path binary = dir.resolve("orders-svc");
    Process gcc = new ProcessBuilder("gcc", "-O1", "-fno-omit-frame-pointer", "-fno-inline",
        "-fno-optimize-sibling-calls", "-o", binary.toString(), source.toString())
        .redirectErrorStream(true).start();
    String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(gcc.waitFor()).as("gcc: %s", output).isZero();
    return binary;
  }

  private static String containerId() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  /** A shell that moves itself into the container's cgroups and then becomes the service (exec keeps the pid). */
  private Process startInContainer(String containerId, Path binary, int port) throws IOException {
    if (dockerShares == null) {
      dockerShares = Files.readString(DOCKER_CPU.resolve("cpu.shares")).strip();
      Files.writeString(DOCKER_CPU.resolve("cpu.shares"), SHARES);
    }
    StringBuilder script = new StringBuilder();
    for (String controller : CONTROLLERS) {
      Path cgroup = CGROUP_ROOT.resolve(controller).resolve("docker").resolve(containerId);
      Files.createDirectories(cgroup);
      cgroups.add(0, cgroup);
      if (controller.equals("cpu")) {
        Files.writeString(cgroup.resolve("cpu.shares"), SHARES);
      }
      script.append("echo $$ > ").append(cgroup.resolve("cgroup.procs")).append(" || exit 97; ");
    }
    // at the highest priority, so that builds sharing this machine do not starve the spinning thread
    script.append("exec nice -n -20 ").append(binary).append(' ').append(port);
    Process process = new ProcessBuilder("sh", "-c", script.toString())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    processes.add(process);
    return process;
  }

  private static void awaitListening(int port) {
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
      try (var socket = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
        return true;
      }
    });
  }

  private void startHaproxy(Path socket, int wedgedFront, int wedgedServer, int healthyFront, int healthyServer)
      throws IOException {
    Path config = dir.resolve("haproxy.cfg");
    Files.writeString(config, String.join("\n",
        "global",
        "  stats socket " + socket + " mode 600 level admin",
        "defaults",
        "  mode http",
        "  timeout connect 1s",
        "  timeout client 10s",
        "  timeout server 1s",
        "listen orders",
        "  bind 127.0.0.1:" + wedgedFront,
        "  server orders-1 127.0.0.1:" + wedgedServer,
        "listen search",
        "  bind 127.0.0.1:" + healthyFront,
        "  server search-1 127.0.0.1:" + healthyServer,
        ""));
    Process haproxy = new ProcessBuilder("haproxy", "-db", "-f", config.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
    processes.add(haproxy);
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      if (!haproxy.isAlive()) {
        throw new AssertionError("haproxy exited with " + haproxy.exitValue() + ": "
            + Files.readString(dir.resolve("haproxy.log")));
      }
      return Files.exists(socket);
    });
  }

  /** A PagerDuty Events API v2 stand-in: 202 for every event, each kept. */
  private List<JsonNode> startReceiver() throws IOException {
    List<JsonNode> events = new CopyOnWriteArrayList<>();
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext("/v2/enqueue", exchange -> {
      byte[] body = exchange.getRequestBody().readNBytes(1 << 20);
      events.add(JSON.readTree(body));
      byte[] answer = "{\"status\":\"success\",\"message\":\"Event processed\"}".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(202, answer.length);
      exchange.getResponseBody().write(answer);
      exchange.close();
    });
    receiver.start();
    return events;
  }

  /**
   * A bounded load: a request every {@value #REQUEST_INTERVAL_MS} ms, at most {@value #MAX_IN_FLIGHT}
   * in flight, until the test ends; counts the 200s.
   */
  private AtomicLong startLoad(int port) {
    AtomicLong answered = new AtomicLong();
    AtomicLong inFlight = new AtomicLong();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
        .timeout(Duration.ofSeconds(5)).build();
    loadScheduler.scheduleAtFixedRate(() -> {
      if (inFlight.get() >= MAX_IN_FLIGHT) {
        return;
      }
      inFlight.incrementAndGet();
      loadClient.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, failure) -> {
        inFlight.decrementAndGet();
        if (response != null && response.statusCode() == 200) {
          answered.incrementAndGet();
        }
      });
    }, 0, REQUEST_INTERVAL_MS, TimeUnit.MILLISECONDS);
    return answered;
  }

  private static void signal(Process process, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    assertThat(kill.waitFor()).isZero();
  }

  /** One runtime API command on haproxy's stats socket. */
  private static String haproxy(Path socket, String command) throws IOException {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      StringBuilder answer = new StringBuilder();
      while (channel.read(buffer) >= 0) {
        buffer.flip();
        answer.append(StandardCharsets.UTF_8.decode(buffer));
        buffer.clear();
      }
      return answer.toString();
    }
  }

  private static long serverCounter(Path socket, String backend, String column) throws IOException {
    String[] lines = haproxy(socket, "show stat").split("\n");
    List<String> header = List.of(lines[0].substring(2).split(",", -1));
    for (String line : lines) {
      String[] values = line.split(",", -1);
      if (values.length > 1 && values[0].equals(backend) && !values[1].equals("FRONTEND")
          && !values[1].equals("BACKEND")) {
        return Long.parseLong(values[header.indexOf(column)]);
      }
    }
    throw new AssertionError("haproxy shows no server of " + backend);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
