package dev.stallwatch.app.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every contract break of a bundle's CSV files and meta.json is one line on stderr naming the
 * file and line, and exit 2, before anything starts (no broker, no job, nothing on stdout).
 */
class BundleLimitsCliTest {

  private static final long T = 1_700_000_000_000L;
  private static final String UPSTREAM = "window_start_ms,window_end_ms,container_id,requests,timeouts\n";
  private static final String CPU = "window_start_ms,window_end_ms,container_id,cpu_seconds\n";
  private static final String TRAFFIC = "timestamp_ms,container_id,event\n";
  private static final String CONTAINERS = "pid,container_id,host,pod,namespace\n";
  private static final long YEAR_2100 = 4_102_444_800_000L;

  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void validBundle() throws IOException {
    Files.createDirectories(dir.resolve("perf/h"));
    Files.writeString(dir.resolve("perf/h/x.txt"), "");
    Files.writeString(dir.resolve("containers.csv"), CONTAINERS + "1,c,h,,\n");
    Files.writeString(dir.resolve("upstream.csv"), UPSTREAM + T + "," + (T + 10_000) + ",c,10,1\n");
  }

  static Stream<Arguments> contractBreaks() {
    return Stream.of(
        Arguments.of("upstream.csv", UPSTREAM + T + "," + (T + 10_000) + ",c,10,1\n0,9223372036854775807,c,1,0\n",
            3, "window_start_ms 0 is before 2000-01-01 (epoch milliseconds expected)"),
        Arguments.of("upstream.csv", UPSTREAM + T + ",9223372036854775807,c,1,0\n",
            2, "window_end_ms 9223372036854775807 (+292278994-08-17T07:12:55.807Z) is in the future"),
        Arguments.of("upstream.csv", UPSTREAM + T + "," + (T + 2 * 86_400_000L) + ",c,1,0\n",
            2, "the row spans 172800000 ms: at most 86400000 (24 h)"),
        Arguments.of("upstream.csv", UPSTREAM + T + "," + (T + 10_000) + ",c,10,11\n",
            2, "timeouts 11 exceed requests 10"),
        Arguments.of("upstream.csv", UPSTREAM + T + "," + (T + 10_000) + ",c,10000000000000,0\n",
            2, "requests 10000000000000 is out of range: at most 1000000000000"),
        Arguments.of("upstream.csv", UPSTREAM + "\n# note\n" + T + "," + (T + 10_000) + ",c,-1,0\n",
            4, "requests is negative: -1"),
        Arguments.of("upstream.csv", UPSTREAM + YEAR_2100 + "," + (YEAR_2100 + 10_000) + ",c,10,1\n",
            2, "window_start_ms 4102444800000 (2100-01-01T00:00:00Z) is in the future"),
        Arguments.of("upstream.csv", UPSTREAM + T + "," + (T + 10_000) + "," + "c".repeat(300) + ",10,1\n",
            2, "container_id is 300 characters long: at most 256"),
        Arguments.of("upstream.csv", UPSTREAM + T + "," + (T + 10_000) + ",c," + "9".repeat(9000) + ",1\n",
            2, "line longer than 8192 characters"),
        Arguments.of("cpu.csv", CPU + T + "," + (T + 10_000) + ",c,NaN\n",
            2, "cpu_seconds must be a finite number >= 0, got NaN"),
        Arguments.of("cpu.csv", CPU + T + "," + (T + 10_000) + ",c,Infinity\n",
            2, "cpu_seconds must be a finite number >= 0, got Infinity"),
        Arguments.of("cpu.csv", CPU + T + "," + (T + 10_000) + ",c,1e400\n",
            2, "cpu_seconds must be a finite number >= 0, got 1e400"),
        Arguments.of("cpu.csv", CPU + T + "," + (T + 10_000) + ",c,100000\n",
            2, "cpu_seconds 100000.0 is 10000.0 cores over the row: at most 4096"),
        Arguments.of("cpu.csv", CPU + "0," + Long.MAX_VALUE + ",c,1\n",
            2, "window_start_ms 0 is before 2000-01-01 (epoch milliseconds expected)"),
        Arguments.of("traffic.csv", TRAFFIC + YEAR_2100 + ",c,DRAINED\n",
            2, "timestamp_ms 4102444800000 (2100-01-01T00:00:00Z) is in the future"),
        Arguments.of("traffic.csv", TRAFFIC + "-5,c,DRAINED\n",
            2, "timestamp_ms -5 is before 2000-01-01 (epoch milliseconds expected)"),
        Arguments.of("containers.csv", CONTAINERS + "99999999,c,h,,\n",
            2, "pid 99999999 is out of range: at most 4194304"),
        Arguments.of("containers.csv", CONTAINERS + "1,c,h,\"pod\u001b]0;owned\u0007\",ns\n",
            2, "pod contains the control character U+001B"),
        Arguments.of("containers.csv", CONTAINERS + "1,c,h,pod,ns\n2,c," + "h".repeat(257) + ",,\n",
            3, "host is 257 characters long: at most 256"),
        Arguments.of("meta.json", "{\"sample_frequency_hz\": 1e400}",
            1, "sample_frequency_hz must be a finite number in (0, 1000000], got 1E+400"),
        Arguments.of("meta.json", "{\n  \"sample_frequency_hz\": 0\n}",
            2, "sample_frequency_hz must be a finite number in (0, 1000000], got 0"),
        Arguments.of("meta.json", "{\"sample_frequency_hz\": \"99\"}",
            1, "sample_frequency_hz must be a finite number in (0, 1000000], got \"99\""));
  }

  @ParameterizedTest(name = "{0} line {2}: {3}")
  @MethodSource("contractBreaks")
  void aContractBreakIsOneLineNamingFileAndLineAndExitTwo(String file, String content, int line, String problem)
      throws IOException {
    Files.writeString(dir.resolve(file), content);

    assertThat(run("replay", dir.toString())).isEqualTo(2);

    assertThat(err.toString()).isEqualTo(
        "stallwatch replay: " + dir.resolve(file) + " line " + line + ": " + problem + "\n");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void aFileThatIsNotUtf8IsOneLine() throws IOException {
    Files.write(dir.resolve("upstream.csv"), new byte[] {'a', ',', (byte) 0xff, (byte) 0xfe, '\n'});
    assertThat(run("replay", dir.toString())).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("stallwatch replay: " + dir.resolve("upstream.csv") + ": not UTF-8 text\n");
  }

  @Test
  void aLargeMetaJsonIsRefused() throws IOException {
    Files.writeString(dir.resolve("meta.json"), "{\"pad\": \"" + "x".repeat(70_000) + "\"}", StandardCharsets.UTF_8);
    assertThat(run("replay", dir.toString())).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(
        "stallwatch replay: " + dir.resolve("meta.json") + ": larger than 65536 bytes\n");
  }

  private int run(String... args) {
    CommandLine cli = Stallwatch.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }
}
