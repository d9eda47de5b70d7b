package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Against {@code upstream/nginx-access.log}: nginx combined + upstream fields, one case per line. */
class NginxLineParserTest {
  private static final String ORDERS = "10.0.0.7:8080";
  private static final String CHECKOUT = "10.0.0.8:8080";

  private final NginxLineParser only504 = new NginxLineParser(format(), null);
  private final NginxLineParser slowIsTimeout = new NginxLineParser(format(), Duration.ofSeconds(2));

  static List<String> fixture(String name) throws IOException {
    try (InputStream in = NginxLineParserTest.class.getResourceAsStream("/upstream/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  private static NginxLogFormat format() {
    return NginxLogFormat.of(NginxLogFormat.COMBINED_WITH_UPSTREAM);
  }

  private static long at(String time) {
    return Instant.parse("2024-03-05T10:15:" + time + "Z").toEpochMilli();
  }

  @Test
  void oneHitPerUpstreamAttempt() throws Exception {
    List<String> lines = fixture("nginx-access.log");

    assertThat(only504.parse(lines.get(0))).containsExactly(new UpstreamHit(ORDERS, at("30"), false));
    assertThat(only504.parse(lines.get(1))).containsExactly(new UpstreamHit(ORDERS, at("31"), true));
    // retried after a timeout: the timeout belongs to the first server, the success to the second
    assertThat(only504.parse(lines.get(2))).containsExactly(
        new UpstreamHit(ORDERS, at("32"), true),
        new UpstreamHit(CHECKOUT, at("32"), false));
    // a static file: no upstream
    assertThat(only504.parse(lines.get(3))).isEmpty();
    // two upstream groups after an internal redirect
    assertThat(only504.parse(lines.get(4))).containsExactly(
        new UpstreamHit(CHECKOUT, at("34"), false),
        new UpstreamHit("10.0.1.9:9000", at("34"), true),
        new UpstreamHit("10.0.1.9:9001", at("34"), false));
    // the client gave up first: a request, not a timeout
    assertThat(only504.parse(lines.get(5))).containsExactly(new UpstreamHit(ORDERS, at("35"), false));
    assertThat(only504.parse(lines.get(6))).containsExactly(new UpstreamHit("10.0.2.50:8080", at("36"), false));
    assertThat(only504.parse(lines.get(8))).containsExactly(new UpstreamHit(ORDERS, at("38"), false));
  }

  @Test
  void aTruncatedLineIsMalformed() throws Exception {
    String truncated = fixture("nginx-access.log").get(7);

    assertThatThrownBy(() -> only504.parse(truncated))
        .isInstanceOf(MalformedLineException.class)
        .hasMessageContaining("log_format");
  }

  @Test
  void withAThresholdSlowAttemptsAreTimeoutsToo() throws Exception {
    List<String> lines = fixture("nginx-access.log");

    assertThat(slowIsTimeout.parse(lines.get(8))).containsExactly(new UpstreamHit(ORDERS, at("38"), true));
    assertThat(slowIsTimeout.parse(lines.get(5))).containsExactly(new UpstreamHit(ORDERS, at("35"), false));
    assertThat(slowIsTimeout.parse(lines.get(0))).containsExactly(new UpstreamHit(ORDERS, at("30"), false));
  }

  @Test
  void withoutUpstreamTimesTheRequestTimeCountsForTheLastAttempt() throws Exception {
    NginxLineParser parser = new NginxLineParser(
        NginxLogFormat.of("$time_iso8601 $upstream_addr $request_time"), Duration.ofMillis(2500));

    assertThat(parser.parse("2024-03-05T10:15:38+00:00 10.0.0.7:8080, 10.0.0.8:8080 2.500")).containsExactly(
        new UpstreamHit(ORDERS, at("38"), false),
        new UpstreamHit(CHECKOUT, at("38"), true));
  }

  @Test
  void msecGivesMillisecondTimes() throws Exception {
    NginxLineParser parser = new NginxLineParser(NginxLogFormat.of("$msec $upstream_addr $upstream_status"), null);

    assertThat(parser.parse("1709633738.5 10.0.0.7:8080 504"))
        .containsExactly(new UpstreamHit(ORDERS, 1709633738500L, true));
  }

  @Test
  void aFormatWithoutTimeLeavesTheTimeToTheReader() throws Exception {
    NginxLineParser parser = new NginxLineParser(NginxLogFormat.of("$upstream_addr $upstream_status"), null);

    assertThat(parser.parse("10.0.0.7:8080 200"))
        .containsExactly(new UpstreamHit(ORDERS, UpstreamHit.UNKNOWN_TIME, false));
  }

  @Test
  void listsOfDifferentLengthsAreMalformed() {
    NginxLineParser parser = new NginxLineParser(NginxLogFormat.of("$upstream_addr $upstream_status"), null);

    assertThatThrownBy(() -> parser.parse("10.0.0.7:8080, 10.0.0.8:8080 504"))
        .isInstanceOf(MalformedLineException.class)
        .hasMessageContaining("$upstream_status has 1 entries for 2 upstream addresses");
  }

  @Test
  void formatsThatCannotSeeTimeoutsAreRejected() {
    assertThatThrownBy(() -> new NginxLineParser(NginxLogFormat.of("$remote_addr $status"), null))
        .hasMessageContaining("no $upstream_addr");
    assertThatThrownBy(() -> new NginxLineParser(NginxLogFormat.of("$upstream_addr $status"), null))
        .hasMessageContaining("no $upstream_status");
    assertThatThrownBy(() -> new NginxLineParser(NginxLogFormat.of("$upstream_addr $status"), Duration.ofSeconds(1)))
        .hasMessageContaining("needs $upstream_response_time or $request_time");
  }
}
