package dev.stallwatch.app.up;

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

/** {@code stallwatch up} in a child JVM, as people run it; stdout and stderr kept line by line. */
final class UpProcess implements AutoCloseable {
  private static final Pattern PAGES_URL = Pattern.compile("incident pages: (http://\\S+?)/$");

  private final Process process;
  private final List<String> stderr = new ArrayList<>();
  private final List<String> stdout = new ArrayList<>();

  private UpProcess(Process process) {
    this.process = process;
    drain(process.getErrorStream(), stderr, "up-stderr");
    drain(process.getInputStream(), stdout, "up-stdout");
  }

  /**
   * Starts up at the highest priority: perf and the collector must keep up with the samples of a
   * machine that builds beside the test (without CAP_SYS_NICE nice says so and runs it as is).
   */
  static UpProcess start(List<String> arguments) throws IOException {
    List<String> command = new ArrayList<>(List.of("nice", "-n", "-20",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx2g", // Flink, Kafka and the collector share it: a small heap collects so often that perf's samples wait
        "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
        "-cp", System.getProperty("java.class.path"),
        Stallwatch.class.getName(), "up"));
    command.addAll(arguments);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("STALLWATCH_API_TOKEN");
    return new UpProcess(builder.start());
  }

  private static void drain(InputStream stream, List<String> into, String name) {
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          System.err.println("[" + name + "] " + line);
          synchronized (into) {
            into.add(line);
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

  List<String> stdout() {
    synchronized (stdout) {
      return List.copyOf(stdout);
    }
  }

  /** Waits for up to say it runs; fails early when it exits instead. */
  URI awaitRunning(Duration timeout) {
    await().atMost(timeout).until(() -> !process.isAlive()
        || stderr().stream().anyMatch(l -> l.contains("running; Ctrl-C to stop")));
    if (!process.isAlive()) {
      throw new AssertionError("stallwatch up exited with " + process.exitValue() + " before running:\n"
          + String.join("\n", stderr()));
    }
    for (String line : stderr()) {
      Matcher m = PAGES_URL.matcher(line);
      if (m.find()) {
        return URI.create(m.group(1));
      }
    }
    throw new AssertionError("stallwatch up printed no incident pages URL:\n" + String.join("\n", stderr()));
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM, then the exit code once the process ended. */
  int terminate(Duration timeout) throws InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("stallwatch up did not stop within " + timeout.toSeconds() + " s of SIGTERM");
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      // SIGTERM first, so that up stops its PostgreSQL and perf; forcibly only when it hangs
      process.toHandle().destroy();
      process.onExit().completeOnTimeout(process, 90, TimeUnit.SECONDS).join();
    }
    if (process.isAlive()) {
      process.toHandle().destroyForcibly();
      process.onExit().join();
    }
  }
}
