package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Against {@code upstream/envoy-access.log}: Envoy json_format lines, one case per line. */
class EnvoyLineParserTest {
  private final EnvoyLineParser parser = new EnvoyLineParser(EnvoyLineParser.Keys.defaults());

  private static long at(String time) {
    return Instant.parse("2024-03-05T10:15:" + time + "Z").toEpochMilli();
  }

  @Test
  void upstreamTimeoutsAreTheUtFlagInShortOrLongForm() throws Exception {
    List<String> lines = NginxLineParserTest.fixture("envoy-access.log");

    assertThat(parser.parse(lines.get(0))).containsExactly(new UpstreamHit("10.0.0.7:8080", at("30.124"), false));
    // counted when it ended: 15 s after it started
    assertThat(parser.parse(lines.get(1))).containsExactly(new UpstreamHit("10.0.0.7:8080", at("40.501"), true));
    assertThat(parser.parse(lines.get(2))).containsExactly(new UpstreamHit("10.0.0.8:8080", at("34.004"), true));
    // no healthy upstream: no request reached one
    assertThat(parser.parse(lines.get(3))).isEmpty();
    // %RESPONSE_FLAGS_LONG%, and a duration written as a string
    assertThat(parser.parse(lines.get(4))).containsExactly(new UpstreamHit("10.0.0.7:8080", at("48.000"), true));
    assertThat(parser.parse(lines.get(5))).containsExactly(new UpstreamHit("10.0.1.9:9000", at("34.262"), false));
  }

  @Test
  void envoysOwnLogLinesAndBadTimesAreMalformed() throws Exception {
    List<String> lines = NginxLineParserTest.fixture("envoy-access.log");

    assertThatThrownBy(() -> parser.parse(lines.get(6))).isInstanceOf(MalformedLineException.class)
        .hasMessageContaining("not JSON");
    assertThatThrownBy(() -> parser.parse(lines.get(7))).isInstanceOf(MalformedLineException.class)
        .hasMessageContaining("not an ISO-8601 time");
    // a json_format without response flags cannot tell timeouts
    assertThatThrownBy(() -> parser.parse(lines.get(8))).isInstanceOf(MalformedLineException.class)
        .hasMessageContaining("response_flags");
    assertThatThrownBy(() -> parser.parse("[1, 2]")).isInstanceOf(MalformedLineException.class)
        .hasMessageContaining("not a JSON object");
  }

  @Test
  void keysFollowTheConfiguredJsonFormat() throws Exception {
    EnvoyLineParser custom = new EnvoyLineParser(new EnvoyLineParser.Keys("upstream", "flags", "ts", "ms"));

    assertThat(custom.parse("{\"ts\":\"2024-03-05T10:15:30Z\",\"ms\":1000,\"upstream\":\"10.0.0.7:8080\",\"flags\":\"UT\"}"))
        .containsExactly(new UpstreamHit("10.0.0.7:8080", at("31"), true));
    assertThat(custom.parse("{\"upstream\":\"10.0.0.7:8080\",\"flags\":\"-\"}"))
        .containsExactly(new UpstreamHit("10.0.0.7:8080", UpstreamHit.UNKNOWN_TIME, false));
  }
}
