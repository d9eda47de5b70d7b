package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProcStatTest {

  @Test
  void readsStartTimeOfARealStatLine() {
    String stat =
        "18518 (cat) R 18515 18515 6788 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 99891 3133440 393"
            + " 18446744073709551615 94102891835392 94102891855273 140731504454032 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
            + " 94102891871280 94102891872896 94103413178368 140731504462364 140731504462384 140731504462384"
            + " 140731504463851 0\n";

    assertThat(ProcStat.startTimeTicks(stat)).isEqualTo(99891L);
  }

  @Test
  void commMayHoldSpacesAndParentheses() {
    assertThat(ProcStat.startTimeTicks(ProcFixture.statLine(77, "Web Content (x) ) (", 123456L)))
        .isEqualTo(123456L);
  }

  @Test
  void rejectsTruncatedLine() {
    assertThatThrownBy(() -> ProcStat.startTimeTicks("77 (app) S 1 77"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("starttime is field 22");
  }

  @Test
  void rejectsLineWithoutComm() {
    assertThatThrownBy(() -> ProcStat.startTimeTicks("garbage"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no ')'");
  }
}
