package dev.stallwatch.ingest.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Attribution from real {@code /proc/PID/cgroup} contents, laid out in fixture trees. */
class ContainerResolverTest {
  private static final String DOCKER_ID = "401e8ae394f1683cdd174cd79d0473b9a0af76126fddc89b0812e28fb888f77d";
  private static final String CONTAINERD_ID = "0a650af6f9e74ab6748ff19c5c1c5601ce32b50be118db3d2e8bd1491bf2bc33";
  private static final String CRIO_ID = "3ed08caabef44ad260dabb20851c611b71417d0509496ae58c09e397f1c7a613";
  private static final String PODMAN_ID = "2a295fc264b19b01bc7f18038ef097dd1e6558e462d90d2ead6e198685679ed4";
  private static final String KIND_NODE_ID = "99439f5a262e757b6b54931774457fe36bbfbeabce402997599de3c5473f9291";
  private static final String POD_UID = "0ad0c515-62b4-4d8d-adac-b5cf5bcb6683";
  private static final String POD_UID_SYSTEMD = POD_UID.replace('-', '_');
  private static final String STATIC_POD_UID = "8e1824dc70590b9f526d198e1fc1ba71";

  @TempDir Path dir;

  /** One real cgroup file and what it must resolve to. */
  record Case(
      String name,
      CgroupVersion version,
      String cgroupFile,
      String containerId,
      ContainerRuntime runtime,
      String podUid,
      String cgroupPath) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> containers() {
    return Stream.of(
        new Case(
            "Docker, cgroup v1, cgroupfs driver (Ubuntu 20.04 hybrid)",
            CgroupVersion.V1,
            """
            12:cpuset:/docker/%1$s
            11:hugetlb:/docker/%1$s
            10:net_cls,net_prio:/docker/%1$s
            9:blkio:/docker/%1$s
            8:freezer:/docker/%1$s
            7:rdma:/
            6:memory:/docker/%1$s
            5:devices:/docker/%1$s
            4:perf_event:/docker/%1$s
            3:pids:/docker/%1$s
            2:cpu,cpuacct:/docker/%1$s
            1:name=systemd:/docker/%1$s
            0::/system.slice/containerd.service
            """
                .formatted(DOCKER_ID),
            DOCKER_ID,
            ContainerRuntime.DOCKER,
            "",
            "/docker/" + DOCKER_ID),
        new Case(
            "Docker, cgroup v1, systemd driver (CentOS 7, cpuacct,cpu order)",
            CgroupVersion.V1,
            """
            11:cpuset:/system.slice/docker-%1$s.scope
            10:hugetlb:/system.slice/docker-%1$s.scope
            9:memory:/system.slice/docker-%1$s.scope
            8:pids:/system.slice/docker-%1$s.scope
            7:cpuacct,cpu:/system.slice/docker-%1$s.scope
            6:perf_event:/system.slice/docker-%1$s.scope
            5:net_prio,net_cls:/system.slice/docker-%1$s.scope
            4:freezer:/system.slice/docker-%1$s.scope
            3:devices:/system.slice/docker-%1$s.scope
            2:blkio:/system.slice/docker-%1$s.scope
            1:name=systemd:/system.slice/docker-%1$s.scope
            """
                .formatted(DOCKER_ID),
            DOCKER_ID,
            ContainerRuntime.DOCKER,
            "",
            "/system.slice/docker-" + DOCKER_ID + ".scope"),
        new Case(
            "Docker, cgroup v2, systemd driver (Debian 12)",
            CgroupVersion.V2,
            "0::/system.slice/docker-" + DOCKER_ID + ".scope\n",
            DOCKER_ID,
            ContainerRuntime.DOCKER,
            "",
            "/system.slice/docker-" + DOCKER_ID + ".scope"),
        new Case(
            "Docker, cgroup v2, cgroupfs driver (Alpine, no systemd)",
            CgroupVersion.V2,
            "0::/docker/" + DOCKER_ID + "\n",
            DOCKER_ID,
            ContainerRuntime.DOCKER,
            "",
            "/docker/" + DOCKER_ID),
        new Case(
            "Docker in Docker, cgroup v1 (moby parent)",
            CgroupVersion.V1,
            v1Lines("/docker/" + KIND_NODE_ID + "/moby/" + DOCKER_ID),
            DOCKER_ID,
            ContainerRuntime.DOCKER,
            "",
            "/docker/" + KIND_NODE_ID + "/moby/" + DOCKER_ID),
        new Case(
            "containerd with ctr -n k8s.io, cgroup v1 cgroupfs",
            CgroupVersion.V1,
            v1Lines("/k8s.io/" + CONTAINERD_ID),
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            "",
            "/k8s.io/" + CONTAINERD_ID),
        new Case(
            "containerd with ctr -n k8s.io, cgroup v2 cgroupfs",
            CgroupVersion.V2,
            "0::/k8s.io/" + CONTAINERD_ID + "\n",
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            "",
            "/k8s.io/" + CONTAINERD_ID),
        new Case(
            "nerdctl, cgroup v2 systemd",
            CgroupVersion.V2,
            "0::/system.slice/nerdctl-" + CONTAINERD_ID + ".scope\n",
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            "",
            "/system.slice/nerdctl-" + CONTAINERD_ID + ".scope"),
        new Case(
            "Kubernetes + containerd, cgroup v2 systemd, burstable",
            CgroupVersion.V2,
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope\n",
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            POD_UID,
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope"),
        new Case(
            "Kubernetes + containerd, cgroup v2 systemd, guaranteed (no QoS slice)",
            CgroupVersion.V2,
            "0::/kubepods.slice/kubepods-pod" + POD_UID_SYSTEMD + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope\n",
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            POD_UID,
            "/kubepods.slice/kubepods-pod" + POD_UID_SYSTEMD + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope"),
        new Case(
            "Kubernetes + containerd, cgroup v1 systemd, besteffort (RHEL 8)",
            CgroupVersion.V1,
            v1Lines("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD_UID_SYSTEMD
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope"),
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            POD_UID,
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD_UID_SYSTEMD
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope"),
        new Case(
            "Kubernetes, cgroup v1 cgroupfs, besteffort (runtime not in the path)",
            CgroupVersion.V1,
            v1Lines("/kubepods/besteffort/pod" + POD_UID + "/" + CONTAINERD_ID),
            CONTAINERD_ID,
            ContainerRuntime.UNKNOWN,
            POD_UID,
            "/kubepods/besteffort/pod" + POD_UID + "/" + CONTAINERD_ID),
        new Case(
            "Kubernetes + Docker, cgroup v1 cgroupfs, guaranteed",
            CgroupVersion.V1,
            v1Lines("/kubepods/pod" + POD_UID + "/" + DOCKER_ID),
            DOCKER_ID,
            ContainerRuntime.UNKNOWN,
            POD_UID,
            "/kubepods/pod" + POD_UID + "/" + DOCKER_ID),
        new Case(
            "Kubernetes + Docker (dockershim), cgroup v1 systemd, burstable",
            CgroupVersion.V1,
            v1Lines("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/docker-" + DOCKER_ID + ".scope"),
            DOCKER_ID,
            ContainerRuntime.DOCKER,
            POD_UID,
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/docker-" + DOCKER_ID + ".scope"),
        new Case(
            "Kubernetes static pod (32-hex UID), cgroup v2 systemd",
            CgroupVersion.V2,
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + STATIC_POD_UID
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope\n",
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            STATIC_POD_UID,
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + STATIC_POD_UID
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope"),
        new Case(
            "Kubernetes + CRI-O, cgroup v2 systemd, burstable (OpenShift 4)",
            CgroupVersion.V2,
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/crio-" + CRIO_ID + ".scope\n",
            CRIO_ID,
            ContainerRuntime.CRIO,
            POD_UID,
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/crio-" + CRIO_ID + ".scope"),
        new Case(
            "Kubernetes + CRI-O, cgroup v1 systemd, besteffort",
            CgroupVersion.V1,
            v1Lines("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD_UID_SYSTEMD
                + ".slice/crio-" + CRIO_ID + ".scope"),
            CRIO_ID,
            ContainerRuntime.CRIO,
            POD_UID,
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD_UID_SYSTEMD
                + ".slice/crio-" + CRIO_ID + ".scope"),
        new Case(
            "Podman rootful, cgroup v2 (crun's container sub-cgroup)",
            CgroupVersion.V2,
            "0::/machine.slice/libpod-" + PODMAN_ID + ".scope/container\n",
            PODMAN_ID,
            ContainerRuntime.PODMAN,
            "",
            "/machine.slice/libpod-" + PODMAN_ID + ".scope/container"),
        new Case(
            "Podman rootless, cgroup v2",
            CgroupVersion.V2,
            "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + PODMAN_ID + ".scope\n",
            PODMAN_ID,
            ContainerRuntime.PODMAN,
            "",
            "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + PODMAN_ID + ".scope"),
        new Case(
            "Podman, cgroup v1 cgroupfs",
            CgroupVersion.V1,
            v1Lines("/libpod_parent/libpod-" + PODMAN_ID),
            PODMAN_ID,
            ContainerRuntime.PODMAN,
            "",
            "/libpod_parent/libpod-" + PODMAN_ID),
        new Case(
            "kind: containerd in a Docker container, cgroup v2: the innermost container wins",
            CgroupVersion.V2,
            "0::/system.slice/docker-" + KIND_NODE_ID + ".scope/kubelet.slice/kubelet-kubepods.slice"
                + "/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + POD_UID_SYSTEMD
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope\n",
            CONTAINERD_ID,
            ContainerRuntime.CONTAINERD,
            POD_UID,
            "/system.slice/docker-" + KIND_NODE_ID + ".scope/kubelet.slice/kubelet-kubepods.slice"
                + "/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + POD_UID_SYSTEMD
                + ".slice/cri-containerd-" + CONTAINERD_ID + ".scope"));
  }

  /** Processes that are not in a container, with the pseudo-container path they get when included. */
  static Stream<Case> hostProcesses() {
    return Stream.of(
        hostCase("nginx, cgroup v2", CgroupVersion.V2, "0::/system.slice/nginx.service\n", "/system.slice/nginx.service"),
        hostCase(
            "nginx, cgroup v1 with CPU accounting (Ubuntu 20.04 hybrid)",
            CgroupVersion.V1,
            v1Lines("/system.slice/nginx.service"),
            "/system.slice/nginx.service"),
        hostCase("kernel thread, cgroup v2", CgroupVersion.V2, "0::/\n", "/"),
        hostCase("dockerd itself", CgroupVersion.V2, "0::/system.slice/docker.service\n", "/system.slice/docker.service"),
        hostCase(
            "CRI-O's conmon beside a container",
            CgroupVersion.V2,
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/crio-conmon-" + CRIO_ID + ".scope\n",
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_UID_SYSTEMD
                + ".slice/crio-conmon-" + CRIO_ID + ".scope"),
        hostCase(
            "Podman's conmon beside a container",
            CgroupVersion.V2,
            "0::/machine.slice/libpod-conmon-" + PODMAN_ID + ".scope\n",
            "/machine.slice/libpod-conmon-" + PODMAN_ID + ".scope"),
        hostCase(
            "a user session",
            CgroupVersion.V2,
            "0::/user.slice/user-1000.slice/session-3.scope\n",
            "/user.slice/user-1000.slice/session-3.scope"),
        hostCase(
            "an id one hex digit short is no container id",
            CgroupVersion.V2,
            "0::/docker/" + DOCKER_ID.substring(1) + "\n",
            "/docker/" + DOCKER_ID.substring(1)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("containers")
  void resolvesContainer(Case c) throws IOException {
    ProcFixture fixture = fixture(c.version()).process(1234, c.cgroupFile());

    Optional<ContainerIdentity> container = new ContainerResolver(fixture.procRoot, fixture.cgroupRoot).resolve(1234);

    assertThat(container).contains(new ContainerIdentity(c.containerId(), c.runtime(), c.podUid(), c.cgroupPath()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostProcesses")
  void leavesHostProcessesOutByDefault(Case c) throws IOException {
    ProcFixture fixture = fixture(c.version()).process(1234, c.cgroupFile());

    assertThat(new ContainerResolver(fixture.procRoot, fixture.cgroupRoot).resolve(1234)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostProcesses")
  void namesHostProcessesAfterTheirCgroupWhenIncluded(Case c) throws IOException {
    ProcFixture fixture = fixture(c.version()).process(1234, c.cgroupFile());
    ContainerResolver resolver =
        ContainerResolver.builder()
            .procRoot(fixture.procRoot)
            .cgroupRoot(fixture.cgroupRoot)
            .includeHostProcesses(true)
            .build();

    assertThat(resolver.resolve(1234))
        .contains(new ContainerIdentity("cgroup:" + c.cgroupPath(), ContainerRuntime.HOST, "", c.cgroupPath()));
  }

  @Test
  void includingHostProcessesDoesNotChangeContainers() throws IOException {
    ProcFixture fixture =
        ProcFixture.cgroupV2(dir).process(7, "0::/system.slice/docker-" + DOCKER_ID + ".scope\n");
    ContainerResolver resolver =
        ContainerResolver.builder()
            .procRoot(fixture.procRoot)
            .cgroupRoot(fixture.cgroupRoot)
            .includeHostProcesses(true)
            .build();

    assertThat(resolver.resolve(7)).hasValueSatisfying(c -> {
      assertThat(c.containerId()).isEqualTo(DOCKER_ID);
      assertThat(c.isHostProcess()).isFalse();
    });
  }

  @Test
  void takesTheCpuAccountingPathOfTheDetectedVersion() throws IOException {
    // a hybrid host: v1 controllers say the container, the unified hierarchy says the shim's service
    String hybrid = v1Lines("/docker/" + DOCKER_ID).replace("0::/docker/" + DOCKER_ID, "0::/system.slice/containerd.service");
    ProcFixture v1 = ProcFixture.cgroupV1(dir.resolve("v1")).process(9, hybrid);
    ProcFixture v2 = ProcFixture.cgroupV2(dir.resolve("v2")).process(9, hybrid);
    ContainerResolver onV2 =
        ContainerResolver.builder().procRoot(v2.procRoot).cgroupRoot(v2.cgroupRoot).includeHostProcesses(true).build();

    assertThat(new ContainerResolver(v1.procRoot, v1.cgroupRoot).resolve(9))
        .map(ContainerIdentity::cgroupPath)
        .contains("/docker/" + DOCKER_ID);
    assertThat(onV2.resolve(9)).map(ContainerIdentity::cgroupPath).contains("/system.slice/containerd.service");
  }

  @Test
  void exitedProcessResolvesToNothing() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir);

    assertThat(new ContainerResolver(fixture.procRoot, fixture.cgroupRoot).resolve(31337)).isEmpty();
  }

  @Test
  void idleAndUnknownPidsOfPerfResolveToNothing() throws IOException {
    // perf reports the idle task as pid 0 and an unknown pid as -1; neither has a /proc entry
    ProcFixture fixture = ProcFixture.cgroupV2(dir);
    ContainerResolver resolver =
        ContainerResolver.builder().procRoot(fixture.procRoot).cgroupRoot(fixture.cgroupRoot).includeHostProcesses(true).build();

    assertThat(resolver.resolve(0)).isEmpty();
    assertThat(resolver.resolve(-1)).isEmpty();
  }

  @Test
  void cachesPerProcessAndKeepsTheFirstAnswer() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir).process(100, "app", 5000, "0::/docker/" + DOCKER_ID + "\n");
    ContainerResolver resolver = new ContainerResolver(fixture.procRoot, fixture.cgroupRoot);
    resolver.resolve(100);

    // same process (same start time): the cgroup file is not read again
    fixture.write(fixture.procRoot.resolve("100/cgroup"), "0::/k8s.io/" + CONTAINERD_ID + "\n");

    assertThat(resolver.resolve(100)).map(ContainerIdentity::containerId).contains(DOCKER_ID);
  }

  @Test
  void reusedPidIsResolvedAgain() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir).process(100, "app", 5000, "0::/docker/" + DOCKER_ID + "\n");
    // the start time is read again once the recheck interval is over: none here
    ContainerResolver resolver = ContainerResolver.builder().procRoot(fixture.procRoot).cgroupRoot(fixture.cgroupRoot)
        .recheckInterval(Duration.ZERO).build();
    resolver.resolve(100);

    fixture.process(100, "other", 9000, "0::/k8s.io/" + CONTAINERD_ID + "\n");

    assertThat(resolver.resolve(100)).map(ContainerIdentity::containerId).contains(CONTAINERD_ID);
  }

  @Test
  void reusedPidOutsideContainersIsResolvedAgain() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir).process(100, "sshd", 5000, "0::/system.slice/ssh.service\n");
    // the start time is read again once the recheck interval is over: none here
    ContainerResolver resolver = ContainerResolver.builder().procRoot(fixture.procRoot).cgroupRoot(fixture.cgroupRoot)
        .recheckInterval(Duration.ZERO).build();
    assertThat(resolver.resolve(100)).isEmpty();

    fixture.process(100, "app", 9000, "0::/docker/" + DOCKER_ID + "\n");

    assertThat(resolver.resolve(100)).map(ContainerIdentity::containerId).contains(DOCKER_ID);
  }

  @Test
  void aResolvedPidIsTrustedUntilTheRecheckIntervalEnds() throws IOException {
    ProcFixture fixture = ProcFixture.cgroupV2(dir).process(100, "app", 5000, "0::/docker/" + DOCKER_ID + "\n");
    ContainerResolver resolver = new ContainerResolver(fixture.procRoot, fixture.cgroupRoot);
    resolver.resolve(100);

    // reused within the interval: not read again per sample, so the first process's container stands
    fixture.process(100, "other", 9000, "0::/k8s.io/" + CONTAINERD_ID + "\n");

    assertThat(resolver.resolve(100)).map(ContainerIdentity::containerId).contains(DOCKER_ID);
  }

  @Test
  void cacheKeepsOnlyTheMostRecentlyUsedProcesses() throws IOException {
    ProcFixture fixture =
        ProcFixture.cgroupV2(dir)
            .process(1, "0::/docker/" + DOCKER_ID + "\n")
            .process(2, "0::/k8s.io/" + CONTAINERD_ID + "\n");
    ContainerResolver resolver =
        ContainerResolver.builder().procRoot(fixture.procRoot).cgroupRoot(fixture.cgroupRoot).cacheCapacity(1).build();
    resolver.resolve(1);
    resolver.resolve(2);

    // pid 1 was evicted by pid 2, so its file is read again
    fixture.write(fixture.procRoot.resolve("1/cgroup"), "0::/machine.slice/libpod-" + PODMAN_ID + ".scope\n");

    assertThat(resolver.resolve(1)).map(ContainerIdentity::containerId).contains(PODMAN_ID);
  }

  @Test
  void commWithSpacesAndParenthesesDoesNotShiftTheStartTime() throws IOException {
    ProcFixture fixture =
        ProcFixture.cgroupV2(dir).process(100, ") (a) b (", 5000, "0::/docker/" + DOCKER_ID + "\n");
    // the start time is read again once the recheck interval is over: none here
    ContainerResolver resolver = ContainerResolver.builder().procRoot(fixture.procRoot).cgroupRoot(fixture.cgroupRoot)
        .recheckInterval(Duration.ZERO).build();
    resolver.resolve(100);

    fixture.process(100, ") (a) b (", 5001, "0::/k8s.io/" + CONTAINERD_ID + "\n");

    assertThat(resolver.resolve(100)).map(ContainerIdentity::containerId).contains(CONTAINERD_ID);
  }

  @Test
  void malformedStatIsAnError() {
    ProcFixture fixture = ProcFixture.cgroupV2(dir).process(100, "0::/docker/" + DOCKER_ID + "\n");
    fixture.write(fixture.procRoot.resolve("100/stat"), "100 (app) S 1 2 3\n");

    assertThatThrownBy(() -> new ContainerResolver(fixture.procRoot, fixture.cgroupRoot).resolve(100))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("100/stat")
        .hasMessageContaining("field 22");
  }

  @Test
  void rejectsAnEmptyCache() {
    assertThatThrownBy(() -> ContainerResolver.builder().cacheCapacity(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cacheCapacity");
  }

  private ProcFixture fixture(CgroupVersion version) {
    return version == CgroupVersion.V2 ? ProcFixture.cgroupV2(dir) : ProcFixture.cgroupV1(dir);
  }

  private static Case hostCase(String name, CgroupVersion version, String cgroupFile, String cgroupPath) {
    return new Case(name, version, cgroupFile, "", ContainerRuntime.HOST, "", cgroupPath);
  }

  /**
   * A v1 hybrid file as Ubuntu 20.04 writes it for a process in {@code path} (rdma is not
   * delegated, so it stays at the root).
   */
  private static String v1Lines(String path) {
    return """
        12:hugetlb:%1$s
        11:perf_event:%1$s
        10:devices:%1$s
        9:cpuset:%1$s
        8:pids:%1$s
        7:rdma:/
        6:net_cls,net_prio:%1$s
        5:freezer:%1$s
        4:cpu,cpuacct:%1$s
        3:memory:%1$s
        2:blkio:%1$s
        1:name=systemd:%1$s
        0::%1$s
        """
        .formatted(path);
  }
}
