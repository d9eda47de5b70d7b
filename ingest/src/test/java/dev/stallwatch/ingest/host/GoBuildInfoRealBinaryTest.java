package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Build info of Go binaries built here by the installed toolchain, checked against what the
 * toolchain and the binaries themselves say. Needs {@code go} on the PATH (Debian: golang-go).
 */
class GoBuildInfoRealBinaryTest {
  // waits for go build or a child to finish, not for time to pass
  private static final long PROCESS_TIMEOUT_SECONDS = 300;

  /** Prints its runtime.Version() after reading a line, so a test can inspect it while it runs. */
  private static final String PROGRAM =
      """
      package main

      import (
      	"bufio"
      	"fmt"
      	"os"
      	"runtime"
      )

      func main() {
      	bufio.NewReader(os.Stdin).ReadString('\\n')
      	fmt.Println(runtime.Version())
      }
      """;

  @TempDir static Path work;
  private static Path go;
  private static String goVersion;
  private static Path hostBinary;
  private static Path elf32Binary;
  private static Path strippedPieBinary;

  @BeforeAll
  static void buildBinaries() throws IOException, InterruptedException {
    Optional<Path> onPath = findOnPath("go");
    if (onPath.isEmpty()) {
      return; // each test reports the skip, see requireGo()
    }
    go = onPath.get();
    goVersion = versionFromGoVersionOutput(run(List.of(go.toString(), "version")));
    Files.writeString(work.resolve("main.go"), PROGRAM);
    hostBinary = build("host", Map.of());
    elf32Binary = build("386", Map.of("GOARCH", "386"));
    strippedPieBinary = build("pie-stripped", Map.of(), "-buildmode=pie", "-ldflags=-s -w");
  }

  // per test rather than in @BeforeAll, so that every skipped test shows the reason in the report
  @BeforeEach
  void requireGo() {
    Assumptions.assumeTrue(
        go != null,
        "go is not on the PATH: install the Go toolchain (Debian: apt-get install golang-go) to test real Go binaries");
  }

  @Test
  void versionOfAHostBinaryIsWhatGoVersionSays() throws IOException {
    assertThat(GoBuildInfo.read(hostBinary)).contains(new GoBuildInfo(goVersion));
  }

  @Test
  void versionOfA32BitBinaryIsWhatGoVersionSays() throws IOException {
    assertThat(Files.readAllBytes(elf32Binary)[4]).as("ELF class of a GOARCH=386 build").isEqualTo((byte) 1);

    assertThat(GoBuildInfo.read(elf32Binary)).contains(new GoBuildInfo(goVersion));
  }

  @Test
  void versionOfAStrippedPositionIndependentBinaryIsWhatGoVersionSays() throws IOException {
    assertThat(GoBuildInfo.read(strippedPieBinary)).contains(new GoBuildInfo(goVersion));
  }

  @Test
  void versionOfARunningProcessThroughProcExeIsItsRuntimeVersion() throws IOException, InterruptedException {
    Process process = new ProcessBuilder(hostBinary.toString()).redirectErrorStream(true).start();
    Optional<GoBuildInfo> whileRunning;
    try (OutputStream stdin = process.getOutputStream()) {
      whileRunning = GoBuildInfo.read(Path.of("/proc", Long.toString(process.pid()), "exe"));
      stdin.write('\n');
    }
    String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();

    assertThat(whileRunning).contains(new GoBuildInfo(printed));
  }

  @Test
  void goReadsOurByteFixturesAsWeDo() throws IOException, InterruptedException {
    // the fixtures of GoBuildInfoTest, read by the toolchain's own reader (`go version FILE`)
    List<ElfFixture> fixtures =
        List.of(
            GoBuildInfoFixtures.pointerLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.14.1", true),
            GoBuildInfoFixtures.pointerLayout(false, ByteOrder.BIG_ENDIAN, "go1.12.17", true),
            GoBuildInfoFixtures.inlineLayout(true, ByteOrder.LITTLE_ENDIAN, "go1.21.5", "path\tx\n"),
            GoBuildInfoFixtures.inlineLayout(false, ByteOrder.BIG_ENDIAN, "go1.22.0 X:boringcrypto", "path\tx\n"));
    for (int i = 0; i < fixtures.size(); i++) {
      Path file = work.resolve("fixture-" + i);
      fixtures.get(i).writeTo(file);
      // go version skips files without the executable bit
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
      String goSays = run(List.of(go.toString(), "version", file.toString()));

      assertThat(GoBuildInfo.read(file))
          .map(info -> file + ": " + info.goVersion())
          .contains(goSays);
    }
  }

  /** {@code go version go1.19.8 linux/amd64} → {@code go1.19.8}; devel versions contain spaces. */
  private static String versionFromGoVersionOutput(String output) {
    String prefix = "go version ";
    assertThat(output).startsWith(prefix);
    return output.substring(prefix.length(), output.lastIndexOf(' '));
  }

  private static Path build(String name, Map<String, String> env, String... flags)
      throws IOException, InterruptedException {
    Path out = work.resolve("bin-" + name);
    List<String> command = new ArrayList<>(List.of(go.toString(), "build", "-o", out.toString()));
    command.addAll(List.of(flags));
    command.add(work.resolve("main.go").toString());
    ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile());
    Map<String, String> environment = builder.environment();
    // a private cache and GOPATH under the test's directory; no cgo, no toolchain download
    environment.put("GOCACHE", work.resolve("gocache").toString());
    environment.put("GOPATH", work.resolve("gopath").toString());
    environment.put("CGO_ENABLED", "0");
    environment.put("GOTOOLCHAIN", "local");
    environment.put("GOFLAGS", "");
    environment.putAll(env);
    run(builder);
    return out;
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    return run(new ProcessBuilder(command).directory(work.toFile()));
  }

  private static String run(ProcessBuilder builder) throws IOException, InterruptedException {
    Process process = builder.redirectErrorStream(true).start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("%s finished", builder.command()).isTrue();
    assertThat(process.exitValue()).as("%s exit code; output:%n%s", builder.command(), output).isZero();
    return output;
  }

  private static Optional<Path> findOnPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    return Stream.of(path.split(File.pathSeparator))
        .filter(dir -> !dir.isEmpty())
        .map(dir -> Path.of(dir, name))
        .filter(Files::isExecutable)
        .findFirst();
  }
}
