package dev.stallwatch.ingest.collector;

import dev.stallwatch.ingest.host.ContainerIdentity;
import dev.stallwatch.ingest.host.KubeletClient;
import dev.stallwatch.ingest.host.KubeletPods;
import dev.stallwatch.ingest.host.PodRef;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's pods as last fetched from the kubelet. Fetched on a background thread; the sampling
 * path reads the last good list and never waits for the kubelet.
 */
final class KubeletPodCache {
  private static final Logger LOG = LoggerFactory.getLogger(KubeletPodCache.class);

  private final KubeletClient client;
  private volatile KubeletPods pods;
  private String lastFailure; // only the refresh thread touches it

  KubeletPodCache(KubeletClient client) {
    this.client = client;
  }

  /** The pod of a container: by container id, else by the pod UID in its cgroup path. */
  Optional<PodRef> podOf(ContainerIdentity container) {
    KubeletPods current = pods;
    if (current == null || container.isHostProcess()) {
      return Optional.empty();
    }
    Optional<PodRef> pod = current.podOfContainer(container.containerId());
    if (pod.isEmpty() && !container.podUid().isEmpty()) {
      pod = current.podByUid(container.podUid());
    }
    return pod;
  }

  /** Fetches the pod list once; a failure keeps the last good list and is logged when it changes. */
  void refresh() {
    try {
      pods = client.fetchPods();
      if (lastFailure != null) {
        LOG.info("kubelet {} answers again; pods are named again", client.podsUri());
        lastFailure = null;
      }
    } catch (IOException e) {
      failed(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void failed(String message) {
    if (!message.equals(lastFailure)) {
      LOG.warn("cannot list pods from the kubelet ({}); windows keep the pod names fetched before, if any: {}",
          client.podsUri(), message);
    }
    lastFailure = message;
  }
}
