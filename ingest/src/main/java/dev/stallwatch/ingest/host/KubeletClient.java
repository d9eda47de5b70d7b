package dev.stallwatch.ingest.host;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the node's pods from the kubelet: {@code GET <url>/pods} on the read-only port
 * (http, 10255, often disabled) or the authenticated port (https, 10250) with a bearer token whose
 * service account may {@code get} {@code nodes/proxy}.
 */
public final class KubeletClient {
  private static final Logger LOG = LoggerFactory.getLogger(KubeletClient.class);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final URI podsUri;
  private final Optional<String> bearerToken;
  private final Optional<Path> bearerTokenFile;
  private final Duration timeout;
  private final HttpClient http;

  private KubeletClient(Builder builder) {
    this.podsUri = podsUri(builder.url);
    this.bearerToken = Optional.ofNullable(builder.bearerToken);
    this.bearerTokenFile = Optional.ofNullable(builder.bearerTokenFile);
    this.timeout = builder.timeout;
    HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(timeout);
    if (builder.sslContext != null) {
      http.sslContext(builder.sslContext);
    }
    this.http = http.build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The URI fetched: the kubelet URL with {@code /pods} appended unless it already ends so. */
  public URI podsUri() {
    return podsUri;
  }

  /**
   * @throws IOException when the kubelet cannot be reached, answers other than 200 (the message
   *     says what to grant for 401 and 403), or answers something other than a pod list
   */
  public KubeletPods fetchPods() throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(podsUri).timeout(timeout).header("Accept", "application/json").GET();
    Optional<String> token = currentToken();
    token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
    HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = response.body()) {
      if (response.statusCode() != 200) {
        throw new IOException(failureMessage(response.statusCode(), token.isPresent()));
      }
      return KubeletPods.parse(body);
    }
  }

  /** Re-read on every fetch: projected service account tokens are rotated on disk. */
  private Optional<String> currentToken() throws IOException {
    if (bearerTokenFile.isPresent()) {
      String token = Files.readString(bearerTokenFile.get(), StandardCharsets.UTF_8).trim();
      if (token.isEmpty()) {
        throw new IOException("kubelet bearer token file " + bearerTokenFile.get() + " is empty");
      }
      return Optional.of(token);
    }
    return bearerToken;
  }

  private String failureMessage(int status, boolean withToken) {
    String prefix = "kubelet " + podsUri + " answered HTTP " + status;
    return switch (status) {
      case 401 -> prefix + (withToken
          ? ": the bearer token was not accepted"
          : ": it needs a bearer token (a service account token) or the read-only port");
      case 403 -> prefix + ": the token's account may not get nodes/proxy; grant it in a ClusterRole";
      default -> prefix;
    };
  }

  private static URI podsUri(URI url) {
    String path = url.getPath() == null ? "" : url.getPath();
    if (path.endsWith("/pods")) {
      return url;
    }
    String base = url.toString();
    return URI.create((base.endsWith("/") ? base : base + "/") + "pods");
  }

  /** Options of {@link KubeletClient}; {@link #url} is required. */
  public static final class Builder {
    private URI url;
    private String bearerToken;
    private Path bearerTokenFile;
    private SSLContext sslContext;
    private Duration timeout = DEFAULT_TIMEOUT;

    private Builder() {}

    /** {@code http://127.0.0.1:10255} or {@code https://$NODE_IP:10250}. */
    public Builder url(URI url) {
      this.url = Objects.requireNonNull(url, "url");
      return this;
    }

    public Builder bearerToken(String bearerToken) {
      this.bearerToken = Objects.requireNonNull(bearerToken, "bearerToken");
      return this;
    }

    /** E.g. {@code /var/run/secrets/kubernetes.io/serviceaccount/token}; read before each fetch. */
    public Builder bearerTokenFile(Path bearerTokenFile) {
      this.bearerTokenFile = Objects.requireNonNull(bearerTokenFile, "bearerTokenFile");
      return this;
    }

    /** Trust for the kubelet's serving certificate, which is often signed by the node itself. */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isZero() || timeout.isNegative()) {
        throw new IllegalArgumentException("timeout must be positive, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    public KubeletClient build() {
      if (url == null) {
        throw new IllegalStateException(
            "no kubelet URL: set it, e.g. http://127.0.0.1:10255 (read-only port) or https://$NODE_IP:10250 with a bearer token");
      }
      if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
        throw new IllegalStateException("kubelet URL must be http or https: " + url);
      }
      if (bearerToken != null && bearerTokenFile != null) {
        throw new IllegalStateException("give the kubelet bearer token or a token file, not both");
      }
      if ((bearerToken != null || bearerTokenFile != null) && "http".equals(url.getScheme())) {
        LOG.warn("sending the kubelet bearer token over plain http to {}: use https (port 10250)", url);
      }
      return new KubeletClient(this);
    }
  }
}
