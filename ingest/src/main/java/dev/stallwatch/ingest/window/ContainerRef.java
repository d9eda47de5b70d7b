package dev.stallwatch.ingest.window;

import java.util.Objects;

/**
 * A container as the collector knows it. {@code pod}, {@code namespace} and {@code runtimeVersion}
 * are empty strings when unknown.
 */
public record ContainerRef(String containerId, String host, String pod, String namespace, String runtimeVersion) {
  public ContainerRef {
    Objects.requireNonNull(containerId, "containerId");
    host = Objects.requireNonNullElse(host, "");
    pod = Objects.requireNonNullElse(pod, "");
    namespace = Objects.requireNonNullElse(namespace, "");
    runtimeVersion = Objects.requireNonNullElse(runtimeVersion, "");
  }
}
