package dev.stallwatch.ingest.host;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pods of one node, from the kubelet's {@code /pods} (a {@code PodList}), indexed by container
 * id so that a container found in a cgroup path gets its pod name and namespace.
 */
public final class KubeletPods {
  private static final ObjectMapper JSON = new ObjectMapper();
  // every kind of container a pod status lists: sidecars are init containers that keep running,
  // ephemeral containers are kubectl debug sessions
  private static final List<String> STATUS_LISTS =
      List.of("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses");

  private final Map<String, PodRef> podsByContainerId;
  private final Map<String, PodRef> podsByUid;

  private KubeletPods(Map<String, PodRef> podsByContainerId, Map<String, PodRef> podsByUid) {
    this.podsByContainerId = Map.copyOf(podsByContainerId);
    this.podsByUid = Map.copyOf(podsByUid);
  }

  /**
   * Parses a {@code PodList}. Pods without a name, namespace or UID, and containers not yet
   * started (no {@code containerID}), are left out.
   *
   * @throws IOException when the input is not JSON or not a list of pods
   */
  public static KubeletPods parse(InputStream podListJson) throws IOException {
    JsonNode root = JSON.readTree(podListJson);
    if (root == null || !root.path("items").isArray()) {
      throw new IOException("not a kubelet PodList: no \"items\" array");
    }
    Map<String, PodRef> byContainerId = new HashMap<>();
    Map<String, PodRef> byUid = new HashMap<>();
    for (JsonNode item : root.path("items")) {
      JsonNode metadata = item.path("metadata");
      String name = metadata.path("name").asText("");
      String namespace = metadata.path("namespace").asText("");
      String uid = metadata.path("uid").asText("");
      if (name.isEmpty() || namespace.isEmpty() || uid.isEmpty()) {
        continue;
      }
      PodRef pod = new PodRef(name, namespace, uid);
      byUid.put(uid, pod);
      for (String list : STATUS_LISTS) {
        for (JsonNode status : item.path("status").path(list)) {
          containerId(status.path("containerID")).ifPresent(id -> byContainerId.put(id, pod));
          // a restarted container's previous instance may still have samples in flight
          containerId(status.path("lastState").path("terminated").path("containerID"))
              .ifPresent(id -> byContainerId.put(id, pod));
        }
      }
    }
    return new KubeletPods(byContainerId, byUid);
  }

  /** The pod of a container, by the runtime's container id (without {@code containerd://} etc.). */
  public Optional<PodRef> podOfContainer(String containerId) {
    return Optional.ofNullable(podsByContainerId.get(containerId));
  }

  /**
   * The pod with this UID, as found in a {@code kubepods} cgroup path: covers containers the
   * kubelet has not reported yet and the pod sandbox ("pause") container, which it never reports.
   */
  public Optional<PodRef> podByUid(String podUid) {
    return Optional.ofNullable(podsByUid.get(podUid));
  }

  /** Container id → pod, for every container listed. */
  public Map<String, PodRef> podsByContainerId() {
    return podsByContainerId;
  }

  /** {@code containerd://<id>}, {@code docker://<id>}, {@code cri-o://<id>} → {@code <id>}. */
  private static Optional<String> containerId(JsonNode node) {
    String value = node.asText("");
    int scheme = value.indexOf("://");
    String id = scheme >= 0 ? value.substring(scheme + 3) : value;
    return id.isEmpty() ? Optional.empty() : Optional.of(id);
  }
}
