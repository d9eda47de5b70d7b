package dev.stallwatch.incidents.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ApiTokenTest {
  private static final String TOKEN = "s3cret-token-0123456789";
  private final ApiToken token = ApiToken.of(TOKEN);

  @Test
  void acceptsTheBearerTokenWithTheSchemeInAnyCase() {
    assertThat(token.accepts("Bearer " + TOKEN)).isTrue();
    assertThat(token.accepts("bearer " + TOKEN)).isTrue();
    assertThat(token.accepts("BEARER  " + TOKEN + " ")).isTrue();
  }

  @Test
  void refusesAnythingElse() {
    assertThat(token.accepts(null)).isFalse();
    assertThat(token.accepts("")).isFalse();
    assertThat(token.accepts("Bearer")).isFalse();
    assertThat(token.accepts("Bearer ")).isFalse();
    assertThat(token.accepts("Basic " + TOKEN)).isFalse();
    assertThat(token.accepts(TOKEN)).isFalse();
    assertThat(token.accepts("Bearer " + TOKEN + "x")).isFalse();
    assertThat(token.accepts("Bearer " + TOKEN.substring(1))).isFalse();
  }

  @Test
  void refusesShortTokensAndOnesAHeaderCannotCarry() {
    assertThatThrownBy(() -> ApiToken.of("short")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least " + ApiToken.MIN_LENGTH).hasMessageContaining("/dev/urandom");
    assertThatThrownBy(() -> ApiToken.of("has a space in the middle")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("visible ASCII");
    assertThatThrownBy(() -> ApiToken.of("non-ascii-token-ééééééé")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void neverShowsTheToken() {
    assertThat(token.toString()).doesNotContain(TOKEN);
  }
}
