package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextParserTest {
  @Test
  void readsNameLabelsValueAndIgnoresTheTimestamp() throws Exception {
    PrometheusTextParser.Sample sample = PrometheusTextParser.parse(
        "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"orders\",zone=\"eu-1\"} 45210 1709633730000");

    assertThat(sample.name()).isEqualTo("envoy_cluster_upstream_rq_total");
    assertThat(sample.labels()).isEqualTo(Map.of("envoy_cluster_name", "orders", "zone", "eu-1"));
    assertThat(sample.value()).isEqualTo(45210.0);
  }

  @Test
  void labelValuesMayHoldEscapesCommasAndBraces() throws Exception {
    PrometheusTextParser.Sample sample = PrometheusTextParser.parse(
        "http_requests_total{path=\"/a,b{c}\",quote=\"say \\\"hi\\\"\",nl=\"x\\ny\",} 3");

    assertThat(sample.labels()).containsEntry("path", "/a,b{c}").containsEntry("quote", "say \"hi\"")
        .containsEntry("nl", "x\ny");
  }

  @Test
  void specialValuesAndNoLabels() throws Exception {
    assertThat(PrometheusTextParser.parse("up 1").labels()).isEmpty();
    assertThat(PrometheusTextParser.parse("envoy_server_uptime{} 86412").value()).isEqualTo(86412.0);
    assertThat(PrometheusTextParser.parse("x +Inf").value()).isInfinite();
    assertThat(PrometheusTextParser.parse("x NaN").value()).isNaN();
    assertThat(PrometheusTextParser.parse("x 1.5e3").value()).isEqualTo(1500.0);
  }

  @Test
  void commentsAndBlankLinesHaveNoSample() throws Exception {
    assertThat(PrometheusTextParser.parse("# TYPE envoy_cluster_upstream_rq_total counter")).isNull();
    assertThat(PrometheusTextParser.parse("   ")).isNull();
  }

  @Test
  void brokenLinesAreMalformed() {
    assertThatThrownBy(() -> PrometheusTextParser.parse("x{a=\"b\" 12")).isInstanceOf(MalformedLineException.class);
    assertThatThrownBy(() -> PrometheusTextParser.parse("x{a=b} 12")).isInstanceOf(MalformedLineException.class);
    assertThatThrownBy(() -> PrometheusTextParser.parse("x{a=\"b} 12")).isInstanceOf(MalformedLineException.class);
    assertThatThrownBy(() -> PrometheusTextParser.parse("x twelve")).isInstanceOf(MalformedLineException.class);
    assertThatThrownBy(() -> PrometheusTextParser.parse("x")).isInstanceOf(MalformedLineException.class);
    assertThatThrownBy(() -> PrometheusTextParser.parse("x 1 now")).isInstanceOf(MalformedLineException.class);
    assertThatThrownBy(() -> PrometheusTextParser.parse("9x 1")).isInstanceOf(MalformedLineException.class);
  }
}
