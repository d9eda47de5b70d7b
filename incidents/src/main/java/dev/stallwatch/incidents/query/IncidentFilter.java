package dev.stallwatch.incidents.query;

import java.time.Instant;

/**
 * Which incidents to list. Every criterion is optional (null); the given ones must all hold.
 *
 * @param since detected at or after (inclusive)
 * @param until detected before (exclusive)
 * @param container the container ID or a prefix of it (docker shows 12 characters)
 * @param host exact host name
 * @param namespace exact Kubernetes namespace
 * @param signature exact signature ID, e.g. {@code go-timer-livelock}
 * @param status OPEN or RESOLVED
 */
public record IncidentFilter(Instant since, Instant until, String container, String host, String namespace,
                             String signature, IncidentStatus status) {
  public static final IncidentFilter ALL = new IncidentFilter(null, null, null, null, null, null, null);

  public IncidentFilter {
    if (since != null && until != null && !since.isBefore(until)) {
      throw new IllegalArgumentException("since (" + since + ") must be before until (" + until + ")");
    }
    container = blankToNull(container);
    host = blankToNull(host);
    namespace = blankToNull(namespace);
    signature = blankToNull(signature);
  }

  public static Builder builder() {
    return new Builder();
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  /** Builds a filter; {@link #build()} checks that since is before until. */
  public static final class Builder {
    private Instant since;
    private Instant until;
    private String container;
    private String host;
    private String namespace;
    private String signature;
    private IncidentStatus status;

    private Builder() {}

    public Builder since(Instant since) {
      this.since = since;
      return this;
    }

    public Builder until(Instant until) {
      this.until = until;
      return this;
    }

    public Builder container(String container) {
      this.container = container;
      return this;
    }

    public Builder host(String host) {
      this.host = host;
      return this;
    }

    public Builder namespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    public Builder signature(String signature) {
      this.signature = signature;
      return this;
    }

    public Builder status(IncidentStatus status) {
      this.status = status;
      return this;
    }

    public IncidentFilter build() {
      return new IncidentFilter(since, until, container, host, namespace, signature, status);
    }
  }
}
