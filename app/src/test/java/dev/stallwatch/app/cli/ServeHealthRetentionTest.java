package dev.stallwatch.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code serve --health-retention}: the forms it takes; the errors are in ServeCommandTest. */
class ServeHealthRetentionTest {
  private static ServeCommand parse(String... args) {
    ServeCommand command = new ServeCommand();
    new CommandLine(command).parseArgs(args);
    return command;
  }

  @Test
  void theDefaultIsThreeDays() {
    assertThat(parse().healthRetention()).isEqualTo(Duration.ofDays(3));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"3d, PT72H", "36h, PT36H", "90m, PT1H30M", "P2D, PT48H"})
  void daysHoursMinutesAndIsoForms(String text, Duration expected) {
    assertThat(parse("--bootstrap-servers", "kafka:9092", "--health-retention", text).healthRetention())
        .isEqualTo(expected);
  }
}
