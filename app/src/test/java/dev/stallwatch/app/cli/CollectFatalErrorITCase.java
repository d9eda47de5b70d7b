package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.app.Stallwatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stallwatch collect} in a child JVM with the JVM options {@code bin/stallwatch} gives it,
 * sampling through a long-running perf command: when a thread dies or the heap runs out, the
 * process ends (instead of staying up and publishing nothing) and takes its perf processes with it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CollectFatalErrorITCase {
  /** A perf script sample from this shell every 200 ms, with an epoch timestamp, for ever. */
  private static final String PERF_COMMAND = "while :; do printf 'loop %d/%d [000] %s:   10101010 cpu-clock: \\n"
      + "\\t          401000 main+0x10 (/usr/bin/loop)\\n\\n' $$ $$ \"$(date +%s.%6N)\"; sleep 0.2; done";
  private static final Pattern JAVA_OPTS = Pattern.compile("java_opts=\"([^\"]+)\"");

  @TempDir
  Path dir;

  /** The child's main: runs the CLI, and once the trigger file appears, fails one thread as asked. */
  public static final class InjectedFailure {
    public static void main(String[] args) {
      Path trigger = Path.of(args[0]);
      String mode = args[1];
      Thread failing = new Thread(() -> {
        while (!Files.exists(trigger)) {
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            return;
          }
        }
        if (mode.equals("oom")) {
          List<long[]> hoard = new ArrayList<>();
          while (true) {
            hoard.add(new long[1 << 17]);
          }
        }
        throw new IllegalStateException("injected worker failure");
      }, "stallwatch-injected");
      failing.setDaemon(true);
      failing.start();
      Stallwatch.main(Arrays.copyOfRange(args, 2, args.length));
    }
  }

  @Test
  void aDeadThreadEndsTheCollectorWithExit1AndItsPerfProcessesGoToo() throws Exception {
    Outcome outcome = runUntilFailure("throw");

    assertThat(outcome.exitCode).isEqualTo(1);
    assertThat(outcome.stderr).anySatisfy(line -> assertThat(line).isEqualTo(
        "stallwatch collect: fatal: java.lang.IllegalStateException: injected worker failure in stallwatch-injected;"
            + " exiting"));
  }

  @Test
  void runningOutOfMemoryEndsTheCollectorWithExit1AndItsPerfProcessesGoToo() throws Exception {
    Outcome outcome = runUntilFailure("oom");

    assertThat(outcome.exitCode).isEqualTo(1);
    assertThat(outcome.stderr).anySatisfy(line -> assertThat(line)
        .startsWith("stallwatch collect: fatal: java.lang.OutOfMemoryError").endsWith("; exiting"));
  }

  private record Outcome(int exitCode, List<String> stderr) {}

  private Outcome runUntilFailure(String mode) throws Exception {
    Path trigger = dir.resolve("fail-now");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(collectJvmOptions());
    command.addAll(List.of("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
        "-cp", System.getProperty("java.class.path"), InjectedFailure.class.getName(), trigger.toString(), mode,
        "collect", "--dry-run", "--host", "node-a", "--include-host-processes", "--http-address", "127.0.0.1:0",
        "--perf-command", PERF_COMMAND));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("STALLWATCH_PUSH_TOKEN");
    Process process = builder.start();
    List<String> stderr = new ArrayList<>();
    drain(process, stderr);
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !process.isAlive() || has(stderr, "collecting on node-a"));
      assertThat(process.isAlive()).as("collect started: %s", stderr).isTrue();
      // the perf command's shell and whatever it runs, while they run
      List<ProcessHandle> perf = process.descendants().toList();
      assertThat(perf).as("the perf command runs under the collector").isNotEmpty();

      Files.writeString(trigger, mode);

      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the collector exits: %s", stderr).isTrue();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(perf).as("perf processes left behind").noneMatch(ProcessHandle::isAlive));
      synchronized (stderr) {
        return new Outcome(process.exitValue(), List.copyOf(stderr));
      }
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }

  /** The JVM options bin/stallwatch runs collect with: the ones this test is about. */
  private static List<String> collectJvmOptions() throws IOException {
    Path script = Path.of("..", "bin", "stallwatch");
    Matcher m = JAVA_OPTS.matcher(Files.readString(script));
    assertThat(m.find()).as("java_opts for collect in %s", script.toAbsolutePath()).isTrue();
    List<String> options = List.of(m.group(1).split(" "));
    // the JVM's own exit on OutOfMemoryError would be code 3 without the shutdown hooks
    assertThat(options).contains("-Xmx128m").doesNotContain("-XX:+ExitOnOutOfMemoryError");
    return options;
  }

  private static boolean has(List<String> lines, String text) {
    synchronized (lines) {
      return lines.stream().anyMatch(line -> line.contains(text));
    }
  }

  private static void drain(Process process, List<String> stderr) {
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getErrorStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          System.err.println("[collect] " + line);
          synchronized (stderr) {
            stderr.add(line);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, "collect-stderr");
    reader.setDaemon(true);
    reader.start();
    Thread out = new Thread(() -> {
      try {
        process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      } catch (IOException ignored) {
        // the child is gone
      }
    }, "collect-stdout");
    out.setDaemon(true);
    out.start();
  }
}
