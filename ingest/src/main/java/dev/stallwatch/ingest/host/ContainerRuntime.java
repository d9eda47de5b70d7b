package dev.stallwatch.ingest.host;

/** Which runtime created a container, as far as its cgroup path tells. */
public enum ContainerRuntime {
  DOCKER,
  /** containerd, directly or through its CRI plugin (Kubernetes), or nerdctl. */
  CONTAINERD,
  CRIO,
  PODMAN,
  /** A 64-hex container id in a path that does not name its runtime, e.g. {@code /kubepods/burstable/pod.../<id>}. */
  UNKNOWN,
  /** Not a container: a host process attributed to a pseudo-container named after its cgroup. */
  HOST
}
