package dev.stallwatch.incidents.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AlertFanOutTest {
  private static final String INCIDENT = "b47101c4-d617-37c4-9adb-c2071b4d8ea3";
  private static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void aSlowReceiverDoesNotDelayAFastOne() throws Exception {
    CountDownLatch slowGotIt = new CountDownLatch(1);
    CountDownLatch releaseSlow = new CountDownLatch(1);
    try (TestReceiver slow = TestReceiver.start(); TestReceiver fast = TestReceiver.start()) {
      slow.respond((request, index) -> {
        slowGotIt.countDown();
        releaseSlow.await();
        return 202;
      });
      CountDownLatch allDone = new CountDownLatch(1);
      try (FanOutHarness harness = new FanOutHarness(new TestNotifier("slow", slow.url("/")),
          new TestNotifier("fast", fast.url("/")))) {
        harness.fanOut.submit(TestAlerts.open(INCIDENT), FanOutHarness.source(0), allDone::countDown);

        assertThat(slowGotIt.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().atMost(WAIT).until(() -> harness.metrics.deliveries("fast") == 1);
        // the fast receiver has it while the slow one still holds its request
        assertThat(fast.accepted()).hasSize(1);
        assertThat(releaseSlow.getCount()).isEqualTo(1);
        assertThat(harness.metrics.deliveries("slow")).isZero();
        assertThat(allDone.getCount()).as("done only when the slowest receiver is").isEqualTo(1);

        releaseSlow.countDown();
        assertThat(allDone.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(harness.metrics.deliveries("slow")).isEqualTo(1);
      }
    } finally {
      releaseSlow.countDown();
    }
  }

  @Test
  void a500Or429ReceiverGetsExactlyOneTriggerOnceItRecovers() throws Exception {
    try (TestReceiver pagerDuty = TestReceiver.start()) {
      pagerDuty.answerFirst(500, 500, 429, 503);
      PagerDutyNotifier notifier = PagerDutyNotifier.builder().url(pagerDuty.url("/v2/enqueue"))
          .routingKey("routing-key").incidentLinks(IncidentLinks.of("http://stallwatch.example:8080")).build();
      CountDownLatch done = new CountDownLatch(1);
      try (FanOutHarness harness = new FanOutHarness(notifier)) {
        harness.fanOut.submit(TestAlerts.open(INCIDENT), FanOutHarness.source(0), done::countDown);
        assertThat(done.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(harness.metrics.deliveries("pagerduty")).isEqualTo(1);
        assertThat(harness.metrics.attemptErrors("pagerduty")).isEqualTo(4);
        assertThat(harness.metrics.failures("pagerduty")).isZero();
        assertThat(harness.deadLetters.letters()).isEmpty();
      }
      assertThat(pagerDuty.received()).hasSize(5).allSatisfy(request ->
          assertThat(request.json().get("dedup_key").asText()).isEqualTo(INCIDENT));
      assertThat(pagerDuty.accepted()).singleElement().satisfies(request ->
          assertThat(request.json().get("event_action").asText()).isEqualTo("trigger"));
    }
  }

  @Test
  void a400IsNotRetriedAndIsDeadLettered() throws Exception {
    try (TestReceiver receiver = TestReceiver.start()) {
      receiver.respond((request, index) -> 400);
      CountDownLatch done = new CountDownLatch(1);
      try (FanOutHarness harness = new FanOutHarness(new TestNotifier("pagerduty", receiver.url("/v2/enqueue")))) {
        harness.fanOut.submit(TestAlerts.open(INCIDENT), FanOutHarness.source(42), done::countDown);
        assertThat(done.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(harness.deadLetters.letters()).singleElement().satisfies(letter -> {
          assertThat(letter.receiver()).isEqualTo("pagerduty");
          assertThat(letter.status()).isEqualTo("400");
          assertThat(letter.error()).startsWith("HTTP 400");
          assertThat(letter.source().offset()).isEqualTo(42);
          assertThat(letter.source().value()).containsExactly(1, 2, 3);
        });
        assertThat(harness.metrics.failures("pagerduty")).isEqualTo(1);
        assertThat(harness.metrics.deliveries("pagerduty")).isZero();
      }
      assertThat(receiver.received()).hasSize(1);
    }
  }

  @Test
  void retryingStopsAtTheMaxRetryTimeAndDeadLetters() throws Exception {
    RetryPolicy shortBudget = new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofMillis(300));
    try (TestReceiver receiver = TestReceiver.start()) {
      receiver.respond((request, index) -> 503);
      CountDownLatch done = new CountDownLatch(1);
      try (FanOutHarness harness = new FanOutHarness(shortBudget, new TestNotifier("webhook", receiver.url("/")))) {
        harness.fanOut.submit(TestAlerts.open(INCIDENT), FanOutHarness.source(0), done::countDown);
        assertThat(done.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(harness.deadLetters.letters()).singleElement().satisfies(letter -> {
          assertThat(letter.status()).isEqualTo("503");
          assertThat(letter.error()).contains("gave up after", "HTTP 503");
        });
      }
      assertThat(receiver.received().size()).isGreaterThan(1);
    }
  }

  @Test
  void networkErrorsAreRetried() throws Exception {
    RetryPolicy shortBudget = new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofMillis(300));
    CountDownLatch done = new CountDownLatch(1);
    try (FanOutHarness harness = new FanOutHarness(shortBudget, new TestNotifier("webhook", closedPort()))) {
      harness.fanOut.submit(TestAlerts.open(INCIDENT), FanOutHarness.source(0), done::countDown);
      assertThat(done.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(harness.metrics.attemptErrors("webhook")).isGreaterThan(1);
      assertThat(harness.deadLetters.letters()).singleElement().satisfies(letter -> {
        assertThat(letter.status()).isEqualTo("network");
        assertThat(letter.error()).contains("gave up after", "network error");
      });
    }
  }

  @Test
  void anAlertThatCannotBeDeadLetteredStaysUndoneAndStopsDelivery() throws Exception {
    List<Throwable> fatal = new CopyOnWriteArrayList<>();
    DeadLetterSink broken = new DeadLetterSink() {
      @Override
      public void send(DeadLetter letter) {
        throw new IllegalStateException("dead-letter topic unavailable");
      }

      @Override
      public void close() {}
    };
    try (TestReceiver receiver = TestReceiver.start()) {
      receiver.respond((request, index) -> 400);
      AlertFanOut fanOut = new AlertFanOut(List.of(new TestNotifier("webhook", receiver.url("/"))),
          HttpClient.newHttpClient(), WAIT, FanOutHarness.FAST_RETRIES, broken,
          NotifierMetrics.register(new PrometheusRegistry()), new MemoryDeliveryLog(), fatal::add);
      CountDownLatch done = new CountDownLatch(1);
      DeadlockAlert alert = TestAlerts.open(INCIDENT);
      fanOut.submit(alert, FanOutHarness.source(0), done::countDown);
      await().atMost(WAIT).until(() -> !fatal.isEmpty());
      assertThat(fatal.get(0)).hasMessageContaining("dead-letter topic unavailable");
      assertThat(done.getCount()).isEqualTo(1);
      fanOut.close();
    }
  }

  private static URI closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/");
    }
  }
}
