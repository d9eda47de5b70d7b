package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KubeletPodsTest {
  static final String FIXTURE = "/host/kubelet-pods.json";
  static final PodRef CHECKOUT = new PodRef("checkout-7d9f8b6c5d-x2x9q", "shop", "0ad0c515-62b4-4d8d-adac-b5cf5bcb6683");
  static final PodRef KUBE_PROXY = new PodRef("kube-proxy-8vwx2", "kube-system", "022cabcc-5556-4b64-b014-5e1e02947460");
  static final PodRef ETCD = new PodRef("etcd-worker-3", "kube-system", "8e1824dc70590b9f526d198e1fc1ba71");

  static KubeletPods recorded() throws IOException {
    try (InputStream json = KubeletPodsTest.class.getResourceAsStream(FIXTURE)) {
      return KubeletPods.parse(json);
    }
  }

  @Test
  void mapsRunningContainersToTheirPods() throws IOException {
    KubeletPods pods = recorded();

    assertThat(pods.podOfContainer("0a650af6f9e74ab6748ff19c5c1c5601ce32b50be118db3d2e8bd1491bf2bc33")).contains(CHECKOUT);
    assertThat(pods.podOfContainer("59f24873933faa8e572b1fac37c62db13248aee1940af66dcf0ee5710f7fbd99")).contains(CHECKOUT);
    assertThat(pods.podOfContainer("99ec2ed5439769083f4f862fb0a52d112fa987f57e451bd96b3740d338770dd9")).contains(KUBE_PROXY);
    assertThat(pods.podOfContainer("4f36df33befd863e2f28737d7b04ea8439e9e0c2baeec29cdae7acbe671845a4")).contains(ETCD);
  }

  @Test
  void mapsInitEphemeralAndPreviousInstances() throws IOException {
    KubeletPods pods = recorded();

    assertThat(pods.podOfContainer("73f6e4e7fd1c67e03334c946763410b64561f518b20d13835cb0075a1e55155d"))
        .as("init container")
        .contains(CHECKOUT);
    assertThat(pods.podOfContainer("d3f456f4d2a8cddb31f7848ac0e9a40623306506da1d516c3476883d0943b807"))
        .as("ephemeral debug container")
        .contains(CHECKOUT);
    assertThat(pods.podOfContainer("d8896ec3b8eab50d7e948ff37b24f55dd6c8c91af702fccf1969ff205c673b38"))
        .as("the instance before the OOM kill")
        .contains(CHECKOUT);
  }

  @Test
  void listsEveryStartedContainerAndNoPendingOne() throws IOException {
    assertThat(recorded().podsByContainerId()).hasSize(7).doesNotContainValue(
        new PodRef("payments-worker-0", "payments", "ad28845a-5a70-4223-8a2a-b64b3445868a"));
  }

  @Test
  void findsPodsByUidIncludingPendingAndStaticPods() throws IOException {
    KubeletPods pods = recorded();

    assertThat(pods.podByUid("ad28845a-5a70-4223-8a2a-b64b3445868a"))
        .contains(new PodRef("payments-worker-0", "payments", "ad28845a-5a70-4223-8a2a-b64b3445868a"));
    assertThat(pods.podByUid("8e1824dc70590b9f526d198e1fc1ba71")).contains(ETCD);
    assertThat(pods.podByUid("00000000-0000-0000-0000-000000000000")).isEmpty();
  }

  @Test
  void theContainerIdsAreTheOnesTheResolverFindsInCgroupPaths() throws IOException {
    KubeletPods pods = recorded();
    ContainerIdentity fromCgroup = new ContainerIdentity(
        "0a650af6f9e74ab6748ff19c5c1c5601ce32b50be118db3d2e8bd1491bf2bc33",
        ContainerRuntime.CONTAINERD,
        "0ad0c515-62b4-4d8d-adac-b5cf5bcb6683",
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0ad0c515_62b4_4d8d_adac_b5cf5bcb6683.slice"
            + "/cri-containerd-0a650af6f9e74ab6748ff19c5c1c5601ce32b50be118db3d2e8bd1491bf2bc33.scope");

    assertThat(pods.podOfContainer(fromCgroup.containerId())).isEqualTo(pods.podByUid(fromCgroup.podUid()));
  }

  @Test
  void stripsDockerAndCriOSchemes() throws IOException {
    String json =
        """
        {"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
          {"metadata":{"name":"legacy-0","namespace":"old","uid":"c35d31da-6292-402c-835e-a1d96a415909"},
           "status":{"containerStatuses":[
             {"name":"app","containerID":"docker://401e8ae394f1683cdd174cd79d0473b9a0af76126fddc89b0812e28fb888f77d"}]}},
          {"metadata":{"name":"ocp-0","namespace":"openshift","uid":"b237bc4d-68a8-4167-9a74-662600b716a2"},
           "status":{"containerStatuses":[
             {"name":"app","containerID":"cri-o://3ed08caabef44ad260dabb20851c611b71417d0509496ae58c09e397f1c7a613"}]}}
        ]}
        """;

    KubeletPods pods = KubeletPods.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));

    assertThat(pods.podOfContainer("401e8ae394f1683cdd174cd79d0473b9a0af76126fddc89b0812e28fb888f77d"))
        .map(PodRef::name)
        .contains("legacy-0");
    assertThat(pods.podOfContainer("3ed08caabef44ad260dabb20851c611b71417d0509496ae58c09e397f1c7a613"))
        .map(PodRef::name)
        .contains("ocp-0");
  }

  @Test
  void emptyListHasNoPods() throws IOException {
    KubeletPods pods = KubeletPods.parse(stream("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}"));

    assertThat(pods.podsByContainerId()).isEmpty();
  }

  @Test
  void somethingElseThanAPodListIsAnError() {
    assertThatThrownBy(() -> KubeletPods.parse(stream("{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":403}")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a kubelet PodList");
    assertThatThrownBy(() -> KubeletPods.parse(stream("<html>Unauthorized</html>"))).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> KubeletPods.parse(stream(""))).isInstanceOf(IOException.class);
  }

  private static InputStream stream(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }
}
