package dev.stallwatch.ingest.host;

import java.util.Objects;

/** A Kubernetes pod as the kubelet lists it. */
public record PodRef(String name, String namespace, String uid) {
  public PodRef {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(uid, "uid");
  }
}
