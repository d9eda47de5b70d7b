package dev.stallwatch.incidents.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class TimeBoundTest {
  private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @Test
  void durationsCountBackFromNow() {
    assertThat(TimeBound.parse("7d", CLOCK)).isEqualTo("2026-11-19T12:00:00Z");
    assertThat(TimeBound.parse("12h", CLOCK)).isEqualTo("2026-11-26T00:00:00Z");
    assertThat(TimeBound.parse("30m", CLOCK)).isEqualTo("2026-11-26T11:30:00Z");
    assertThat(TimeBound.parse("45s", CLOCK)).isEqualTo("2026-11-26T11:59:15Z");
    assertThat(TimeBound.parse("2w", CLOCK)).isEqualTo("2026-11-12T12:00:00Z");
  }

  @Test
  void isoInstantsDateTimesAndDates() {
    assertThat(TimeBound.parse("2021-12-29T12:53:30Z", CLOCK)).isEqualTo("2021-12-29T12:53:30Z");
    assertThat(TimeBound.parse("2021-12-29T12:53:30.250Z", CLOCK)).isEqualTo("2021-12-29T12:53:30.250Z");
    assertThat(TimeBound.parse("2021-12-29T13:53:30+01:00", CLOCK)).isEqualTo("2021-12-29T12:53:30Z");
    assertThat(TimeBound.parse("2021-12-29T07:53:30-05:00", CLOCK)).isEqualTo("2021-12-29T12:53:30Z");
    assertThat(TimeBound.parse("2021-12-29T12:53", CLOCK)).as("no offset: UTC").isEqualTo("2021-12-29T12:53:00Z");
    assertThat(TimeBound.parse("2021-12-29", CLOCK)).isEqualTo("2021-12-29T00:00:00Z");
  }

  @Test
  void anythingElseSaysWhatIsExpected() {
    for (String bad : new String[] {"yesterday", "7", "d7", "7 days", "-7d", "2021-13-01", "2021-12-29T25:00Z", ""}) {
      assertThatThrownBy(() -> TimeBound.parse(bad, CLOCK)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("expected " + TimeBound.EXPECTED + ", got '" + bad + "'");
    }
  }
}
