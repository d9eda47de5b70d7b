package dev.stallwatch.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void everyTopicHasOneDeclaration() {
    Topics topics = Topics.defaults();

    assertThat(topics.specs()).extracting(TopicSpec::name).containsExactlyElementsOf(topics.all());
    assertThat(topics.specs()).extracting(TopicSpec::role).containsExactly(Topics.Role.values());
    for (Topics.Role role : Topics.Role.values()) {
      assertThat(topics.name(role)).isEqualTo(role.defaultName());
    }
  }

  @Test
  void renamedTopicsKeepTheirDeclaration() {
    TopicSpec alerts = Topics.defaults().withSuffix(".test").specs().get(Topics.Role.ALERTS.ordinal());

    assertThat(alerts.name()).isEqualTo("stallwatch.alerts.v1.test");
    assertThat(alerts.configs()).containsExactly(
        entry("cleanup.policy", "delete"),
        entry("retention.ms", String.valueOf(Duration.ofDays(365).toMillis())));
  }

  @Test
  void theDeadLetterTopicOutlivesTheInputsAndContainerHealthIsShort() {
    assertThat(Topics.Role.DEAD_LETTER.retention()).isGreaterThan(Topics.Role.PROFILES.retention());
    assertThat(Topics.Role.CONTAINER_HEALTH.retention()).isLessThanOrEqualTo(Topics.Role.PROFILES.retention());
  }
}
