package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Directories;
import dev.stallwatch.app.Stallwatch;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 11, finding 6 (part), for real: the CLI in a child JVM run as {@code nobody} (the tests run
 * as root, who may write anywhere) on a data directory it cannot write, and on a file: one line
 * naming the option and the problem, exit 2, no trace.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DataDirUnwritableITCase {
  private static final String NOBODY = "65534";
  private static Path base;
  private static String classPath;
  private static Path locked;
  private static Path file;

  /**
   * A folder {@code nobody} can read but not write, and the class path where it can read it: the
   * jars of the local Maven repository (under root's 0700 home) hard-linked into the folder and the
   * modules' class directories copied there. The folder is made in {@code /tmp}, not in the build's
   * temporary directory, which may lie in a tree only root can enter (as {@code .ci/run}'s copy
   * does).
   */
  @BeforeAll
  static void folders() throws IOException {
    Path tmp = Path.of("/tmp");
    assertThat(Files.getPosixFilePermissions(tmp)).as("/tmp is open to every user")
        .containsAll(PosixFilePermissions.fromString("rwxrwxrwx"));
    base = Files.createTempDirectory(tmp, "stallwatch-datadir-it-");
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jars = Files.createDirectory(base.resolve("cp"));
    List<String> entries = new ArrayList<>();
    int i = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (Files.isRegularFile(path)) {
        Path link = jars.resolve((i++) + "-" + path.getFileName());
        try {
          Files.createLink(link, path);
        } catch (IOException | UnsupportedOperationException e) {
          Files.copy(path, link);
        }
        entries.add(link.toString());
      } else if (Files.isDirectory(path)) {
        Path copy = jars.resolve((i++) + "-" + path.getFileName());
        copyTree(path, copy);
        entries.add(copy.toString());
      }
    }
    classPath = String.join(File.pathSeparator, entries);
    locked = Files.createDirectory(base.resolve("locked"));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
    file = Files.writeString(base.resolve("a-file"), "x");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          Files.copy(source, target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
  }

  @AfterAll
  static void cleanUp() throws IOException {
    Directories.deleteRecursively(base);
  }

  @Test
  void anUnwritableDataDirectoryIsOneLineAndExit2ForEveryCommandThatHasOne() throws Exception {
    for (List<String> command : List.of(List.of("incidents", "list"), List.of("incidents", "show", "b471"),
        List.of("up", "--no-collect"))) {
      Run run = asNobody(command, locked);
      assertThat(run.exit).as("%s: %s", command, run.stderr).isEqualTo(2);
      assertThat(run.stderr).as("%s", command).containsExactly(
          "stallwatch " + command.get(0) + (command.get(0).equals("incidents") ? " " + command.get(1) : "")
              + ": --data-dir " + locked + ": is not writable by this user");
    }
  }

  @Test
  void aDataDirectoryToBeMadeInAnUnwritableOneNamesThatOne() throws Exception {
    for (List<String> command : List.of(List.of("incidents", "list"), List.of("up", "--no-collect"))) {
      Path inside = locked.resolve("sub").resolve("store");
      Run run = asNobody(command, inside);
      assertThat(run.exit).as("%s: %s", command, run.stderr).isEqualTo(2);
      assertThat(run.stderr).as("%s", command).hasSize(1);
      assertThat(run.stderr.get(0)).as("%s", command)
          .endsWith(": --data-dir " + inside + ": " + locked + " is not writable by this user");
    }
  }

  @Test
  void aFileIsNoDataDirectoryForThisUserEither() throws Exception {
    for (List<String> command : List.of(List.of("incidents", "list"), List.of("up", "--no-collect"))) {
      Run run = asNobody(command, file);
      assertThat(run.exit).as("%s: %s", command, run.stderr).isEqualTo(2);
      assertThat(run.stderr).as("%s", command).hasSize(1);
      assertThat(run.stderr.get(0)).as("%s", command)
          .endsWith(": --data-dir " + file + ": is a file, not a directory");
    }
  }

  private record Run(int exit, List<String> stderr) {}

  private static Run asNobody(List<String> command, Path dataDir) throws Exception {
    Path setpriv = Path.of("/usr/bin/setpriv");
    assertThat(setpriv).as("setpriv (util-linux) runs the CLI as nobody").isExecutable();
    List<String> argv = new ArrayList<>(List.of(setpriv.toString(), "--reuid=" + NOBODY, "--regid=" + NOBODY,
        "--clear-groups", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.io.tmpdir=" + base, "-cp", classPath, Stallwatch.class.getName()));
    argv.addAll(command);
    argv.addAll(List.of("--data-dir", dataDir.toString()));
    ProcessBuilder builder = new ProcessBuilder(argv).directory(base.toFile());
    builder.environment().put("HOME", base.toString());
    builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process process = builder.start();
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s exits", command).isTrue();
    return new Run(process.exitValue(), stderr.lines().toList());
  }
}
