package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real HTTP server on the loopback interface serving the recorded pod list. */
class KubeletClientTest {
  private static final String CHECKOUT_CONTAINER = "0a650af6f9e74ab6748ff19c5c1c5601ce32b50be118db3d2e8bd1491bf2bc33";

  @TempDir Path dir;

  private HttpServer server;
  private URI baseUrl;
  private final List<Optional<String>> authorizations = new CopyOnWriteArrayList<>();
  private final List<String> paths = new CopyOnWriteArrayList<>();
  private volatile int status = 200;
  private volatile String requiredToken;

  @BeforeEach
  void startKubelet() throws IOException {
    byte[] podList;
    try (InputStream in = getClass().getResourceAsStream(KubeletPodsTest.FIXTURE)) {
      podList = in.readAllBytes();
    }
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/pods", exchange -> serve(exchange, podList));
    server.start();
    baseUrl = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stopKubelet() {
    server.stop(0);
  }

  @Test
  void fetchesPodsFromTheReadOnlyPortWithoutCredentials() throws Exception {
    KubeletPods pods = KubeletClient.builder().url(baseUrl).build().fetchPods();

    assertThat(pods.podOfContainer(CHECKOUT_CONTAINER)).contains(KubeletPodsTest.CHECKOUT);
    assertThat(paths).containsExactly("/pods");
    assertThat(authorizations).containsExactly(Optional.empty());
  }

  @Test
  void sendsTheBearerToken() throws Exception {
    requiredToken = "eyJhbGciOiJSUzI1NiJ9.static";

    KubeletPods pods = KubeletClient.builder().url(baseUrl).bearerToken(requiredToken).build().fetchPods();

    assertThat(pods.podOfContainer(CHECKOUT_CONTAINER)).contains(KubeletPodsTest.CHECKOUT);
    assertThat(authorizations).containsExactly(Optional.of("Bearer eyJhbGciOiJSUzI1NiJ9.static"));
  }

  @Test
  void readsTheTokenFileAgainForEveryFetch() throws Exception {
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, "first-token\n");
    KubeletClient client = KubeletClient.builder().url(baseUrl).bearerTokenFile(tokenFile).build();
    client.fetchPods();

    // the kubelet rotates projected service account tokens in place
    Files.writeString(tokenFile, "rotated-token\n");
    client.fetchPods();

    assertThat(authorizations).containsExactly(Optional.of("Bearer first-token"), Optional.of("Bearer rotated-token"));
  }

  @Test
  void unauthorizedSaysWhatIsMissing() {
    requiredToken = "secret";

    assertThatThrownBy(() -> KubeletClient.builder().url(baseUrl).build().fetchPods())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("answered HTTP 401")
        .hasMessageContaining("needs a bearer token");
    assertThatThrownBy(() -> KubeletClient.builder().url(baseUrl).bearerToken("wrong").build().fetchPods())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("the bearer token was not accepted");
  }

  @Test
  void forbiddenSaysWhichPermissionToGrant() {
    status = 403;

    assertThatThrownBy(() -> KubeletClient.builder().url(baseUrl).bearerToken("t").build().fetchPods())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("answered HTTP 403")
        .hasMessageContaining("nodes/proxy");
  }

  @Test
  void emptyTokenFileIsAnError() throws IOException {
    Path tokenFile = Files.writeString(dir.resolve("token"), "\n");

    assertThatThrownBy(() -> KubeletClient.builder().url(baseUrl).bearerTokenFile(tokenFile).build().fetchPods())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is empty");
  }

  @Test
  void unreachableKubeletIsAnIOException() {
    URI closed = baseUrl;
    server.stop(0);

    assertThatThrownBy(() -> KubeletClient.builder().url(closed).build().fetchPods()).isInstanceOf(IOException.class);
  }

  @Test
  void appendsPodsToTheKubeletUrlOnce() {
    assertThat(KubeletClient.builder().url(URI.create("http://127.0.0.1:10255")).build().podsUri())
        .isEqualTo(URI.create("http://127.0.0.1:10255/pods"));
    assertThat(KubeletClient.builder().url(URI.create("https://10.0.4.23:10250/")).build().podsUri())
        .isEqualTo(URI.create("https://10.0.4.23:10250/pods"));
    assertThat(KubeletClient.builder().url(URI.create("https://10.0.4.23:10250/pods")).build().podsUri())
        .isEqualTo(URI.create("https://10.0.4.23:10250/pods"));
  }

  @Test
  void builderSaysHowToFixAMissingOrWrongSetting() {
    assertThatThrownBy(() -> KubeletClient.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no kubelet URL")
        .hasMessageContaining("10255");
    assertThatThrownBy(() -> KubeletClient.builder().url(URI.create("unix:///run/kubelet.sock")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("http or https");
    assertThatThrownBy(
            () -> KubeletClient.builder().url(baseUrl).bearerToken("a").bearerTokenFile(dir.resolve("t")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not both");
  }

  private void serve(HttpExchange exchange, byte[] podList) throws IOException {
    try (exchange) {
      paths.add(exchange.getRequestURI().getPath());
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      authorizations.add(Optional.ofNullable(authorization));
      int answer = status;
      if (requiredToken != null && !("Bearer " + requiredToken).equals(authorization)) {
        answer = 401;
      }
      byte[] body = answer == 200 ? podList : "Unauthorized".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", answer == 200 ? "application/json" : "text/plain");
      exchange.sendResponseHeaders(answer, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
