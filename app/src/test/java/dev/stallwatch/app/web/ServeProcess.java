package dev.stallwatch.app.web;

import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.Stallwatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code stallwatch serve} in a child JVM, as people run it: its stderr is kept line by line (and
 * echoed to the test's), {@link #terminate()} sends SIGTERM as Ctrl-C or Kubernetes would.
 */
final class ServeProcess implements AutoCloseable {
  private static final Pattern PAGES_URL = Pattern.compile("incident pages: (http://\\S+?)/$");

  private final Process process;
  private final List<String> stderr = new ArrayList<>();

  private ServeProcess(Process process) {
    this.process = process;
    drain(process.getErrorStream(), true, "serve-stderr");
    drain(process.getInputStream(), false, "serve-stdout");
  }

  static ServeProcess start(List<String> arguments) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m",
        "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
        "-cp", System.getProperty("java.class.path"),
        Stallwatch.class.getName()));
    command.addAll(arguments);
    ProcessBuilder builder = new ProcessBuilder(command);
    // the token comes from the file the test gives, never from the developer's environment
    builder.environment().remove("STALLWATCH_API_TOKEN");
    return new ServeProcess(builder.start());
  }

  private void drain(InputStream stream, boolean keep, String name) {
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          System.err.println("[serve] " + line);
          if (keep) {
            synchronized (stderr) {
              stderr.add(line);
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, name);
    reader.setDaemon(true);
    reader.start();
  }

  List<String> stderr() {
    synchronized (stderr) {
      return List.copyOf(stderr);
    }
  }

  /** Waits for serve to say where its pages are; fails early when it exits instead. */
  URI awaitBaseUri(Duration timeout) {
    await().atMost(timeout).until(() -> !process.isAlive() || baseUri() != null);
    URI base = baseUri();
    if (base == null) {
      throw new AssertionError("stallwatch serve exited with " + process.exitValue() + " before serving:\n"
          + String.join("\n", stderr()));
    }
    return base;
  }

  private URI baseUri() {
    for (String line : stderr()) {
      Matcher m = PAGES_URL.matcher(line);
      if (m.find()) {
        return URI.create(m.group(1));
      }
    }
    return null;
  }

  /** SIGTERM, then the exit code once the process ended. */
  int terminate(Duration timeout) throws InterruptedException {
    // the handle's destroy() only signals; Process.destroy() would also close the pipes, losing the last lines
    process.toHandle().destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("stallwatch serve did not stop within " + timeout.toSeconds() + " s of SIGTERM");
    }
    return process.exitValue();
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.toHandle().destroyForcibly();
      process.onExit().join();
    }
  }
}
