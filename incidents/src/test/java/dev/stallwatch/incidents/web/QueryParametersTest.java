package dev.stallwatch.incidents.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Query strings the JDK's HTTP client would not even send. */
class QueryParametersTest {
  @Test
  void decodesFormEncodingAndTakesBlankAsAbsent() {
    QueryParameters query = QueryParameters.parse("host=o%27brien&namespace=&container=3f9c+2b&&status");
    assertThat(query.single("host")).contains("o'brien");
    assertThat(query.single("container")).contains("3f9c 2b");
    assertThat(query.single("namespace")).isEmpty();
    assertThat(query.single("status")).isEmpty();
    assertThat(query.single("since")).isEmpty();
  }

  @Test
  void aBrokenEscapeIsABadRequest() {
    assertThatThrownBy(() -> QueryParameters.parse("host=%zz")).isInstanceOf(HttpError.class)
        .hasMessageContaining("not URL-encoded")
        .satisfies(e -> assertThat(((HttpError) e).status()).isEqualTo(400));
  }

  @Test
  void anUnknownNameIsABadRequestNamingTheKnownOnes() {
    QueryParameters query = QueryParameters.parse("stauts=open");
    assertThatThrownBy(() -> query.requireOnly(List.of("status", "host")))
        .hasMessage("unknown parameter 'stauts'; expected status, host");
  }
}
