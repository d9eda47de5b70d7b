package dev.stallwatch.app.testing;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real server from a Debian package (Alertmanager, Prometheus) as a child process on a loopback
 * port, with its output in a log file: started, waited for on its {@code /-/ready}, and stopped.
 * A missing binary fails the test with how to install it; CI installs it, so nothing skips.
 */
public final class ExternalProcess implements AutoCloseable {
  /** Which binary to run and how to get it. */
  public record Binary(String name, String property, List<String> names, String debianPackage) {
    /** -Dproperty, then the first of {@code names} on PATH; a failed test when there is none. */
    public Path find() {
      String configured = System.getProperty(property);
      if (configured != null && !configured.isBlank()) {
        Path path = Path.of(configured);
        if (!Files.isExecutable(path)) {
          fail("-D" + property + "=" + configured + " is not an executable file");
        }
        return path;
      }
      String path = System.getenv().getOrDefault("PATH", "");
      Optional<Path> found = Stream.of(path.split(File.pathSeparator))
          .flatMap(dir -> names.stream().map(n -> Path.of(dir, n)))
          .filter(Files::isExecutable)
          .findFirst();
      return found.orElseGet(() -> fail(name + " not found: none of " + names + " is on PATH. Install the Debian"
          + " package (apt-get install -y --no-install-recommends " + debianPackage + "; .ci/run does) or set -D"
          + property + "=/path/to/" + names.get(0)));
    }
  }

  private final String name;
  private final Process process;
  private final Path log;
  private final URI url;

  private ExternalProcess(String name, Process process, Path log, URI url) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.url = url;
  }

  /**
   * Starts {@code binary} with {@code arguments} (which must make it listen on {@code port} of
   * 127.0.0.1) and waits until {@code /-/ready} answers 200.
   */
  public static ExternalProcess start(Binary binary, Path dir, int port, List<String> arguments) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(binary.find().toString());
    command.addAll(arguments);
    Path log = dir.resolve(binary.names().get(0) + ".log");
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    ExternalProcess started = new ExternalProcess(binary.name(), process, log, URI.create("http://127.0.0.1:" + port));
    try {
      await(binary.name() + " ready").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(started::ready);
    } catch (RuntimeException e) {
      String output = started.log();
      started.close();
      throw new IllegalStateException(binary.name() + " did not become ready; its log:\n" + output, e);
    }
    return started;
  }

  public URI url() {
    return url;
  }

  /** GET on its HTTP API; anything but 200 is an exception with the body. */
  public String get(String pathAndQuery) throws IOException, InterruptedException {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(url.resolve(pathAndQuery)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + pathAndQuery + ": HTTP " + response.statusCode() + " " + response.body());
    }
    return response.body();
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean ready() {
    if (!process.isAlive()) {
      throw new IllegalStateException(name + " exited with " + process.exitValue() + ":\n" + log());
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

  /** A port free on loopback now. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
