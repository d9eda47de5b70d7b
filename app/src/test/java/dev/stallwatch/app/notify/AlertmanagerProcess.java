package dev.stallwatch.app.notify;

import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Alertmanager (Debian's prometheus-alertmanager) as a child process on a free loopback
 * port, with no cluster port, its own storage and the config the test gives.
 */
final class AlertmanagerProcess implements AutoCloseable {
  /** Where to look for the binary: -Dstallwatch.alertmanager, then PATH. */
  static final String BINARY_PROPERTY = "stallwatch.alertmanager";
  private static final List<String> NAMES = List.of("prometheus-alertmanager", "alertmanager");

  private final Process process;
  private final Path log;
  private final URI url;

  private AlertmanagerProcess(Process process, Path log, URI url) {
    this.process = process;
    this.log = log;
    this.url = url;
  }

  /** Starts Alertmanager with {@code config} (YAML) and waits until it is ready; fails the test without the binary. */
  static AlertmanagerProcess start(Path dir, String config) throws IOException {
    Path binary = binary();
    Path configFile = Files.writeString(dir.resolve("alertmanager.yml"), config);
    Path storage = Files.createDirectories(dir.resolve("data"));
    Path log = dir.resolve("alertmanager.log");
    int port = freePort();
    Process process = new ProcessBuilder(binary.toString(),
        "--config.file=" + configFile,
        "--storage.path=" + storage,
        "--web.listen-address=127.0.0.1:" + port,
        // no cluster port: this Alertmanager gossips with nobody
        "--cluster.listen-address=",
        "--log.level=info")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    AlertmanagerProcess alertmanager = new AlertmanagerProcess(process, log, URI.create("http://127.0.0.1:" + port));
    try {
      await("Alertmanager ready").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(alertmanager::ready);
    } catch (RuntimeException e) {
      String output = alertmanager.log();
      alertmanager.close();
      throw new IllegalStateException("Alertmanager did not become ready; its log:\n" + output, e);
    }
    return alertmanager;
  }

  URI url() {
    return url;
  }

  /** GET on its API, e.g. {@code /api/v2/alerts}. */
  String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
    }
    return response.body();
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean ready() {
    if (!process.isAlive()) {
      throw new IllegalStateException("Alertmanager exited with " + process.exitValue() + ":\n" + log());
    }
    try {
      get("/-/ready");
      return true;
    } catch (IOException | IllegalStateException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** The binary, or a failed test saying how to get one: CI installs it, so a missing one is an error. */
  private static Path binary() {
    String configured = System.getProperty(BINARY_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      Path path = Path.of(configured);
      if (!Files.isExecutable(path)) {
        fail("-D" + BINARY_PROPERTY + "=" + configured + " is not an executable file");
      }
      return path;
    }
    String path = System.getenv().getOrDefault("PATH", "");
    Optional<Path> found = Stream.of(path.split(File.pathSeparator))
        .flatMap(dir -> NAMES.stream().map(name -> Path.of(dir, name)))
        .filter(Files::isExecutable)
        .findFirst();
    return found.orElseGet(() -> fail("Alertmanager not found: none of " + NAMES + " is on PATH. Install the Debian"
        + " package (apt-get install -y --no-install-recommends prometheus-alertmanager; .ci/run does) or set -D"
        + BINARY_PROPERTY + "=/path/to/alertmanager"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
