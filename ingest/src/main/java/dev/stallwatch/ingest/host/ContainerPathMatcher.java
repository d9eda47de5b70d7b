package dev.stallwatch.ingest.host;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the container id, runtime and pod UID in one cgroup path. Works on path segments, deepest
 * first, so that nested setups (a kind node is itself a Docker container) yield the innermost
 * container.
 *
 * <p>Recognised segments:
 *
 * <ul>
 *   <li>{@code docker-<id>.scope}, {@code cri-containerd-<id>.scope}, {@code crio-<id>.scope},
 *       {@code libpod-<id>.scope}, {@code nerdctl-<id>.scope} (systemd driver), and the same
 *       without {@code .scope} (cgroupfs driver, e.g. {@code /libpod_parent/libpod-<id>});
 *   <li>a bare 64-hex segment (cgroupfs driver: {@code /docker/<id>}, {@code /k8s.io/<id>},
 *       {@code /kubepods/burstable/pod<uid>/<id>}), its runtime taken from the parent segment.
 * </ul>
 *
 * <p>{@code crio-conmon-<id>.scope} and {@code libpod-conmon-<id>.scope} hold the runtime's monitor
 * process, not the container, and match nothing.
 */
final class ContainerPathMatcher {

  /** What a path tells about its container. {@code podUid} is empty outside Kubernetes. */
  record Match(String containerId, ContainerRuntime runtime, String podUid) {}

  private static final Pattern SCOPE =
      Pattern.compile("(docker|cri-containerd|crio|libpod|nerdctl)-([0-9a-f]{64})(?:\\.scope)?");
  private static final Pattern BARE_ID = Pattern.compile("[0-9a-f]{64}");
  // systemd driver: kubepods-burstable-pod<uid with _>.slice; cgroupfs driver: pod<uid with ->.
  // Static pods have a 32-hex UID (a hash of the manifest) instead of a UUID.
  private static final Pattern POD =
      Pattern.compile(
          "(?:.*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})(?:\\.slice)?");

  private static final Map<String, ContainerRuntime> SCOPE_RUNTIMES =
      Map.of(
          "docker", ContainerRuntime.DOCKER,
          "cri-containerd", ContainerRuntime.CONTAINERD,
          "crio", ContainerRuntime.CRIO,
          "libpod", ContainerRuntime.PODMAN,
          "nerdctl", ContainerRuntime.CONTAINERD);

  // the segment above a bare id: Docker's cgroupfs parent (also "moby" for Docker in Docker),
  // containerd's namespace for CRI
  private static final Map<String, ContainerRuntime> PARENT_RUNTIMES =
      Map.of(
          "docker", ContainerRuntime.DOCKER,
          "moby", ContainerRuntime.DOCKER,
          "k8s.io", ContainerRuntime.CONTAINERD);

  private ContainerPathMatcher() {}

  static Optional<Match> match(String cgroupPath) {
    String[] segments = cgroupPath.split("/");
    for (int i = segments.length - 1; i >= 0; i--) {
      Optional<ContainerRuntime> runtime = containerRuntime(segments, i);
      if (runtime.isPresent()) {
        String id = containerId(segments[i]);
        return Optional.of(new Match(id, runtime.get(), podUid(segments, i)));
      }
    }
    return Optional.empty();
  }

  private static Optional<ContainerRuntime> containerRuntime(String[] segments, int index) {
    Matcher scope = SCOPE.matcher(segments[index]);
    if (scope.matches()) {
      return Optional.of(SCOPE_RUNTIMES.get(scope.group(1)));
    }
    if (BARE_ID.matcher(segments[index]).matches()) {
      String parent = index > 0 ? segments[index - 1] : "";
      return Optional.of(PARENT_RUNTIMES.getOrDefault(parent, ContainerRuntime.UNKNOWN));
    }
    return Optional.empty();
  }

  private static String containerId(String segment) {
    Matcher scope = SCOPE.matcher(segment);
    return scope.matches() ? scope.group(2) : segment;
  }

  /** The deepest pod segment above the container, only inside a kubepods hierarchy. */
  private static String podUid(String[] segments, int containerIndex) {
    boolean kubepods = false;
    String uid = "";
    for (int i = 0; i < containerIndex; i++) {
      if (segments[i].contains("kubepods")) {
        kubepods = true;
      }
      Matcher pod = POD.matcher(segments[i]);
      if (kubepods && pod.matches()) {
        uid = pod.group(1).replace('_', '-');
      }
    }
    return uid;
  }
}
