package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NginxLogFormatTest {
  private static final String RETRIED = "10.1.2.4 - alice [05/Mar/2024:10:15:32 +0000] \"GET /api/orders/7 HTTP/2.0\" "
      + "200 88 \"-\" \"okhttp/4.12.0\" 10.0.0.7:8080, 10.0.0.8:8080 504, 200 5.013 5.001, 0.012";

  @Test
  void combinedWithUpstreamKeepsRetryListsInOneField() {
    NginxLogFormat.Fields fields = NginxLogFormat.of(NginxLogFormat.COMBINED_WITH_UPSTREAM).match(RETRIED);

    assertThat(fields).isNotNull();
    assertThat(fields.get("remote_user")).isEqualTo("alice");
    assertThat(fields.get("time_local")).isEqualTo("05/Mar/2024:10:15:32 +0000");
    assertThat(fields.get("request")).isEqualTo("GET /api/orders/7 HTTP/2.0");
    assertThat(fields.get("upstream_addr")).isEqualTo("10.0.0.7:8080, 10.0.0.8:8080");
    assertThat(fields.get("upstream_status")).isEqualTo("504, 200");
    assertThat(fields.get("request_time")).isEqualTo("5.013");
    assertThat(fields.get("upstream_response_time")).isEqualTo("5.001, 0.012");
    assertThat(fields.get("no_such_variable")).isNull();
  }

  @Test
  void directiveFromNginxConfIsJoinedIntoOneFormat() {
    NginxLogFormat format = NginxLogFormat.of("""
        log_format upstream_timing escape=default '$remote_addr - $remote_user [$time_local] "$request" '
                                  '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                                  '$upstream_addr $upstream_status $request_time $upstream_response_time';
        """);

    assertThat(format.format()).isEqualTo(NginxLogFormat.COMBINED_WITH_UPSTREAM);
    assertThat(format.match(RETRIED)).isNotNull();
  }

  @Test
  void bracedVariablesAndUpstreamGroupSeparators() {
    NginxLogFormat format = NginxLogFormat.of("${msec} ${upstream_addr}|$upstream_status|${upstream_connect_time}");
    NginxLogFormat.Fields fields = format.match("1709633734.512 10.0.0.8:8080, 10.0.1.9:9000 : 10.0.1.9:9001|"
        + "502, 504 : 502|0.000, 0.001 : -");

    assertThat(fields).isNotNull();
    assertThat(fields.get("msec")).isEqualTo("1709633734.512");
    assertThat(fields.get("upstream_addr")).isEqualTo("10.0.0.8:8080, 10.0.1.9:9000 : 10.0.1.9:9001");
    assertThat(fields.get("upstream_connect_time")).isEqualTo("0.000, 0.001 : -");
  }

  @Test
  void unquotedVariablesStopAtSpacesQuotedOnesAtQuotes() {
    NginxLogFormat format = NginxLogFormat.of("$host \"$http_user_agent\" $upstream_addr $upstream_status");

    assertThat(format.match("shop.example \"Mozilla/5.0 (X11; Linux x86_64)\" 10.0.0.7:8080 200").get("http_user_agent"))
        .isEqualTo("Mozilla/5.0 (X11; Linux x86_64)");
    assertThat(format.match("shop example \"curl\" 10.0.0.7:8080 200")).isNull();
  }

  @Test
  void linesOfAnotherFormatDoNotMatch() {
    NginxLogFormat format = NginxLogFormat.of(NginxLogFormat.COMBINED_WITH_UPSTREAM);

    assertThat(format.match("10.1.2.8 - - [05/Mar/2024:10:15:37 +0000] \"GET / HTTP/1.1\" 200")).isNull();
    assertThat(format.match("")).isNull();
    // nginx's plain combined format, without the upstream fields
    assertThat(format.match("10.1.2.3 - - [05/Mar/2024:10:15:30 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\""))
        .isNull();
  }

  @Test
  void aDollarWithoutANameIsRejected() {
    assertThatThrownBy(() -> NginxLogFormat.of("$remote_addr costs $ 5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'$' at offset 19");
  }

  @Test
  void anUnclosedQuoteInADirectiveIsRejected() {
    assertThatThrownBy(() -> NginxLogFormat.of("log_format x '$remote_addr;"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unclosed");
  }
}
