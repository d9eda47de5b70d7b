package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.app.Stallwatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Issue 11, finding 6 (part): a --data-dir that cannot be one is one line and exit 2, not a trace. */
class DataDirOptionTest {
  @TempDir
  Path dir;

  private String err;

  private int run(String... args) {
    StringWriter errors = new StringWriter();
    CommandLine cli = Stallwatch.commandLine();
    cli.setErr(new PrintWriter(errors, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    int exit = cli.execute(args);
    err = errors.toString();
    return exit;
  }

  @Test
  void aFileIsNotADataDirectory() throws Exception {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    for (List<String> command : List.of(List.of("incidents", "list"), List.of("incidents", "show", "b471"),
        List.of("demo", "--serve"), List.of("up", "--no-collect"))) {
      List<String> args = new java.util.ArrayList<>(command);
      args.addAll(List.of("--data-dir", file.toString()));
      assertThat(run(args.toArray(String[]::new))).as("%s", args).isEqualTo(2);
      assertThat(err).as("%s", args).hasLineCount(1)
          .endsWith(": --data-dir " + file + ": is a file, not a directory" + System.lineSeparator())
          .doesNotContain("Exception");
    }
  }

  @Test
  void aDirectoryUnderAFileSaysWhichFileItIs() throws Exception {
    Path file = Files.writeString(dir.resolve("plain"), "x");
    assertThat(run("incidents", "list", "--data-dir", file.resolve("sub/dir").toString())).isEqualTo(2);
    assertThat(err).hasLineCount(1)
        .isEqualTo("stallwatch incidents list: --data-dir " + file.resolve("sub/dir") + ": " + file
            + " is a file, not a directory" + System.lineSeparator());
  }
}
