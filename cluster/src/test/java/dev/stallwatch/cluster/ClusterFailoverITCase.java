package dev.stallwatch.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stallwatch.cluster.Fleet.Member;
import dev.stallwatch.cluster.Fleet.Role;
import dev.stallwatch.incidents.notify.AlertNotifier;
import dev.stallwatch.incidents.notify.IncidentLinks;
import dev.stallwatch.incidents.notify.PagerDutyNotifier;
import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import dev.stallwatch.schemas.v1.ContainerHealth;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar on a real cluster (3 Kafka brokers, a JobManager, 2 TaskManagers: six JVMs), with
 * windows published in real time (each followed by its hosts' window manifests on the completeness
 * topic, as collectors send them) for seed incidents among healthy neighbours and decoys, and one
 * failure during the 60 s sustain of each incident but the first (the control): TaskManagers,
 * the JobManager, the partition leaders of the alerts and profiles topics killed with
 * {@code kill -9}, and an upgrade through stop-with-savepoint. One cluster and one timeline for
 * all cases. Then: one incident ID per incident, with its OPEN and RESOLVED alerts (the alerts
 * sink is at least once, so a restart may write one again with the same ID), exactly
 * one PagerDuty trigger per incident at a real HTTP receiver (the incident service's notifier),
 * nothing for the others, and a container-health record for every window of every container.
 *
 * <p>{@code -Dstallwatch.cluster.tm-kills=N} (default 2) sets the TaskManager kills;
 * {@code -Dstallwatch.cluster.cases=tm} runs only those (bench/cluster-failover.sh);
 * {@code -Dstallwatch.cluster.neighbours=N} (default 3) healthy containers besides (bench/cluster-checkpoints.sh).
 */
class ClusterFailoverITCase {
  /** Windows between two incidents' spikes: a kill and its recovery fit in between. */
  private static final int SPACING = 5;
  /** The failure comes this many windows after the spike: the third window of the sustain. */
  private static final int KILL_AFTER_SPIKE = 3;
  private static final int FIRST_SPIKE = 6;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  enum Failure { NONE, KILL_TASK_MANAGER, KILL_JOB_MANAGER, KILL_ALERTS_LEADER, KILL_PROFILES_LEADER, SAVEPOINT_UPGRADE }

  record Case(Failure failure, Member incident) {}

  record Measured(Case c, long recoveryMs, String detail) {}

  @Test
  @Timeout(value = 20, unit = TimeUnit.MINUTES)
  void failuresDuringTheSustainLoseNothingAndPageOncePerIncident() throws Exception {
    int tmKills = Integer.getInteger("stallwatch.cluster.tm-kills", 2);
    boolean onlyTm = "tm".equals(System.getProperty("stallwatch.cluster.cases"));
    List<Failure> failures = new ArrayList<>(List.of(Failure.NONE));
    for (int i = 0; i < tmKills; i++) {
      failures.add(Failure.KILL_TASK_MANAGER);
    }
    if (!onlyTm) {
      failures.addAll(List.of(Failure.KILL_JOB_MANAGER, Failure.KILL_ALERTS_LEADER, Failure.KILL_PROFILES_LEADER,
          Failure.SAVEPOINT_UPGRADE));
    }

    Path upgradedRules = upgradedRules();
    try (StallwatchCluster cluster = StallwatchCluster.start(dir);
         PagerDutyReceiver pagerDuty = new PagerDutyReceiver()) {
      List<String> jobFlags = List.of("--checkpoint-interval", "2s",
          // collectors publish in order; a quiet traffic partition must not hold event time back for long
          "--set", "watermark.out-of-orderness=5s", "--set", "watermark.idleness=15s");
      // the first submission as the README's `flink run -d -p 2 -c ...`, through Flink's own client;
      // the JobManager restart and the upgrade below submit through `stallwatch job --flink-rest`
      String[] job = {cluster.submitWithFlinkRun(jobFlags)};
      awaitRunningAndCheckpointing(cluster, job[0], System.currentTimeMillis());
      assertThat(cluster.flink.jobs("RUNNING")).as("the job flink run printed is the one running").containsExactly(job[0]);
      assertThat(cluster.flink.taskManagersOf(job[0])).as("parallelism 2 over both TaskManagers").hasSize(2);
      assertThat(cluster.flink.rest().checkpointConfig(job[0]).path("state_backend").asText())
          .isEqualTo("EmbeddedRocksDBStateBackend");

      long t0 = (System.currentTimeMillis() / Fleet.WINDOW_MS + 1) * Fleet.WINDOW_MS;
      Fleet fleet = new Fleet(t0);
      List<Case> cases = new ArrayList<>();
      for (int i = 0; i < failures.size(); i++) {
        Member m = fleet.add("orders-" + i + "-" + failures.get(i).name().toLowerCase(), Role.WEDGED,
            FIRST_SPIKE + i * SPACING);
        cases.add(new Case(failures.get(i), m));
      }
      Set<String> silent = new HashSet<>();
      silent.add(fleet.add("checkout", Role.DRAINED_IDLE, FIRST_SPIKE + 2).containerId());
      silent.add(fleet.add("indexer", Role.DRAINED_BUSY, FIRST_SPIKE + SPACING + 2).containerId());
      for (int i = 0; i < Integer.getInteger("stallwatch.cluster.neighbours", 3); i++) {
        silent.add(fleet.add("neighbour-" + i, Role.HEALTHY, 0).containerId());
      }
      int lastWindow = cases.get(cases.size() - 1).incident().restartWindow() + 4;

      AlertNotifier notifier = AlertNotifier.builder()
          .bootstrapServers(cluster.kafka.bootstrapServers())
          .topics(cluster.topics)
          .groupId("cluster-test-notifier")
          .notifier(PagerDutyNotifier.builder().url(pagerDuty.url()).routingKey("R0UT1NGKEY0123456789abcdefABCDEF")
              .incidentLinks(IncidentLinks.of("http://127.0.0.1:8080")).build())
          .build();
      notifier.start();
      AtomicInteger published = new AtomicInteger(-1);
      List<Measured> measured = new ArrayList<>();
      try (TopicLog<DeadlockAlert> alerts = new TopicLog<>(cluster.kafka.bootstrapServers(), cluster.topics.alerts(),
               KafkaCluster.PARTITIONS, ClusterFailoverITCase::alertOf);
           TopicLog<ContainerHealth> health = new TopicLog<>(cluster.kafka.bootstrapServers(),
               cluster.topics.containerHealth(), KafkaCluster.PARTITIONS, ClusterFailoverITCase::healthOf);
           KafkaProducer<byte[], byte[]> producer = producer(cluster.kafka.bootstrapServers())) {
        ScheduledExecutorService collector = Executors.newSingleThreadScheduledExecutor();
        try {
          // a collector publishes each window just after it ends
          for (int w = 0; w <= lastWindow; w++) {
            int window = w;
            long due = fleet.windowStart(w + 1) + 200 - System.currentTimeMillis();
            collector.schedule(() -> {
              Fleet.Window out = fleet.window(window, cluster.topics);
              out.records().forEach(producer::send);
              producer.flush();
              // then the hosts' manifests, as collectors send them once through with the window
              out.manifests().forEach(producer::send);
              producer.flush();
              published.set(window);
            }, Math.max(0, due), TimeUnit.MILLISECONDS);
          }
          for (Case c : cases) {
            if (c.failure() == Failure.NONE) {
              continue;
            }
            int killWindow = c.incident().spikeWindow() + KILL_AFTER_SPIKE;
            await(c.failure() + " due").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(100))
                .until(() -> published.get() >= killWindow);
            measured.add(fail(cluster, job, c, jobFlags, upgradedRules));
          }
          await("the last window published").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
              .until(() -> published.get() >= lastWindow);
        } finally {
          collector.shutdownNow();
        }

        Set<String> incidents = cases.stream().map(c -> c.incident().containerId()).collect(Collectors.toSet());
        await("an OPEN and a RESOLVED alert for every incident").atMost(Duration.ofMinutes(3))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> alerts.values().stream().filter(a -> a.getEventType() == AlertEventType.RESOLVED)
                .map(a -> a.getContainerId().toString()).collect(Collectors.toSet()).containsAll(incidents));
        // two more checkpoints: a duplicate would have been committed by now
        awaitCheckpoints(cluster, job[0], 2);
        await("every alert paged").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
            .until(() -> pagerDuty.events().size() >= 2 * cases.size());

        List<TopicLog.Arrival<DeadlockAlert>> arrived = alerts.arrivals();
        for (Case c : cases) {
          String id = c.incident().containerId();
          List<DeadlockAlert> mine = arrived.stream().map(TopicLog.Arrival::value)
              .filter(a -> a.getContainerId().toString().equals(id)).toList();
          // the alerts sink is at least once: a restart may write an alert again, always with the
          // same incident ID, and never an incident that was not there before
          assertThat(mine).as(c.failure() + ": alerts of " + c.incident().name())
              .extracting(DeadlockAlert::getEventType)
              .containsOnly(AlertEventType.OPEN, AlertEventType.RESOLVED)
              .contains(AlertEventType.OPEN, AlertEventType.RESOLVED);
          assertThat(mine.stream().map(a -> a.getIncidentId().toString()).distinct())
              .as(c.failure() + ": incident IDs of " + c.incident().name()).hasSize(1);
          String incidentId = mine.get(0).getIncidentId().toString();
          List<String> actions = pagerDuty.events().stream()
              .filter(e -> e.path("dedup_key").asText().equals(incidentId))
              .map(e -> e.path("event_action").asText()).toList();
          assertThat(actions).as(c.failure() + ": pages of " + c.incident().name())
              .containsExactlyInAnyOrder("trigger", "resolve");
        }
        assertThat(arrived).extracting(a -> a.value().getContainerId().toString())
            .as("no alert for healthy neighbours and decoys").doesNotContainAnyElementsOf(silent);
        cases.stream().filter(c -> c.failure() == Failure.SAVEPOINT_UPGRADE).findFirst().ifPresent(c ->
            assertThat(arrived.stream().map(TopicLog.Arrival::value)
                .filter(a -> a.getContainerId().toString().equals(c.incident().containerId()))
                .filter(a -> a.getEventType() == AlertEventType.OPEN).findFirst().orElseThrow()
                .getSignatureTitle().toString()).as("the upgraded job's rules").endsWith("(rules v2)"));

        // nothing lost: every window of every container was evaluated (at least once: that sink is at-least-once)
        Map<String, Set<Long>> windows = new LinkedHashMap<>();
        for (ContainerHealth h : health.values()) {
          windows.computeIfAbsent(h.getContainerId(), k -> new HashSet<>()).add(h.getWindowStartMs());
        }
        for (Member m : fleet.members()) {
          for (int w = 0; w <= lastWindow - 2; w++) {
            assertThat(windows.getOrDefault(m.containerId(), Set.of()))
                .as(m.name() + " window " + w).contains(fleet.windowStart(w));
          }
        }

        report(cluster, job[0], cases, measured, arrived, fleet, pagerDuty.events());
      } finally {
        notifier.close();
      }
    } catch (Throwable t) {
      System.err.println("cluster logs under " + dir);
      throw t;
    }
  }

  /** Makes the failure of one case happen, waits until the job is RUNNING and checkpointing again. */
  private Measured fail(StallwatchCluster cluster, String[] job, Case c, List<String> jobFlags, Path upgradedRules)
      throws Exception {
    long killed = System.currentTimeMillis();
    String detail;
    switch (c.failure()) {
      case KILL_TASK_MANAGER -> {
        String victim = cluster.flink.taskManagersOf(job[0]).get(0);
        cluster.flink.taskManager(victim).kill9();
        detail = "killed " + victim;
        awaitRunningAndCheckpointing(cluster, job[0], killed);
        long recovered = System.currentTimeMillis() - killed;
        cluster.flink.addTaskManager(); // as Kubernetes or an operator would bring one back
        cluster.flink.awaitTaskManagers(2);
        return new Measured(c, recovered, detail);
      }
      case KILL_JOB_MANAGER -> {
        String old = job[0];
        cluster.flink.jobManager().kill9();
        Path checkpoint = cluster.latestCheckpoint(old);
        cluster.flink.jobManager().start(); // restarted as an operator would, then the job from its latest checkpoint
        cluster.flink.awaitTaskManagers(2);
        job[0] = cluster.submit(concat(jobFlags, List.of("--from-savepoint", checkpoint.toUri().toString())));
        detail = "restarted from " + checkpoint.getFileName();
      }
      case KILL_ALERTS_LEADER, KILL_PROFILES_LEADER -> {
        String topic = c.failure() == Failure.KILL_ALERTS_LEADER ? cluster.topics.alerts() : cluster.topics.profiles();
        int leader = cluster.kafka.leaderOf(topic, 0);
        cluster.kafka.broker(leader).kill9();
        detail = "killed broker " + leader + " leading " + topic + "-0";
        awaitRunningAndCheckpointing(cluster, job[0], killed);
        long recovered = System.currentTimeMillis() - killed;
        cluster.kafka.restart(leader, cluster.topics);
        return new Measured(c, recovered, detail);
      }
      case SAVEPOINT_UPGRADE -> {
        String savepoint = cluster.stopWithSavepoint(job[0]);
        job[0] = cluster.submit(concat(jobFlags, List.of("--from-savepoint", savepoint,
            "--rules", upgradedRules.toString())));
        detail = "upgraded from " + Path.of(savepoint).getFileName();
      }
      default -> throw new IllegalArgumentException(c.failure().toString());
    }
    awaitRunningAndCheckpointing(cluster, job[0], killed);
    return new Measured(c, System.currentTimeMillis() - killed, detail);
  }

  /** All tasks RUNNING and a checkpoint triggered after {@code sinceMs} completed. */
  private static void awaitRunningAndCheckpointing(StallwatchCluster cluster, String job, long sinceMs) {
    await("job " + job + " running and checkpointing").atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> {
          int[] tasks = cluster.flink.rest().runningTasks(job);
          JsonNode latest = cluster.flink.rest().checkpoints(job).path("latest").path("completed");
          return tasks[0] == tasks[1] && latest.path("trigger_timestamp").asLong(0) > sinceMs;
        });
  }

  private static void awaitCheckpoints(StallwatchCluster cluster, String job, int more) throws Exception {
    long completed = cluster.flink.rest().checkpoints(job).path("counts").path("completed").asLong();
    await("checkpoints").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> cluster.flink.rest().checkpoints(job).path("counts").path("completed").asLong()
            >= completed + more);
  }

  /** The figures of this run, for BENCHMARKS.md: recovery per failure and the alert's delay against the control. */
  private static void report(StallwatchCluster cluster, String job, List<Case> cases, List<Measured> measured,
      List<TopicLog.Arrival<DeadlockAlert>> arrived, Fleet fleet, List<JsonNode> pages) throws Exception {
    Map<String, Long> delay = new LinkedHashMap<>();
    Map<String, String> incident = new LinkedHashMap<>();
    for (TopicLog.Arrival<DeadlockAlert> a : arrived) {
      if (a.value().getEventType() == AlertEventType.OPEN) {
        delay.putIfAbsent(a.value().getContainerId().toString(),
            a.arrivedAtMs() - a.value().getDetectedAt().toEpochMilli());
        incident.putIfAbsent(a.value().getContainerId().toString(), a.value().getIncidentId().toString());
      }
    }
    java.util.function.Function<Case, String> idAndTriggers = c -> {
      String id = incident.get(c.incident().containerId());
      long triggers = pages.stream().filter(e -> e.path("dedup_key").asText().equals(id))
          .filter(e -> e.path("event_action").asText().equals("trigger")).count();
      return String.format("%s, %d trigger%s", id, triggers, triggers == 1 ? "" : "s");
    };
    long control = delay.get(cases.get(0).incident().containerId());
    StringBuilder out = new StringBuilder("cluster-failover figures\n");
    out.append(String.format("  %-22s %-40s %12s %16s  %s%n", "failure", "what", "running-again", "alert delay",
        "incident, PagerDuty triggers"));
    out.append(String.format("  %-22s %-40s %12s %13d ms  %s%n", "none (control)", "", "-", control,
        idAndTriggers.apply(cases.get(0))));
    for (Measured m : measured) {
      long d = delay.get(m.c().incident().containerId());
      out.append(String.format("  %-22s %-40s %9d ms %13d ms (%+d ms)  %s%n", m.c().failure(), m.detail(),
          m.recoveryMs(), d, d - control, idAndTriggers.apply(m.c())));
    }
    JsonNode checkpoints = cluster.flink.rest().checkpoints(job);
    JsonNode summary = checkpoints.path("summary");
    JsonNode latest = checkpoints.path("latest").path("completed");
    out.append(String.format("  checkpoints of the last job (%d containers): full state %d B (latest), p50 %d B, max %d B;"
            + " incremental upload p50 %d B, max %d B; duration p50 %d ms, max %d ms%n", fleet.members().size(),
        latest.path("state_size").asLong(), summary.path("state_size").path("p50").asLong(),
        summary.path("state_size").path("max").asLong(),
        summary.path("checkpointed_size").path("p50").asLong(), summary.path("checkpointed_size").path("max").asLong(),
        summary.path("end_to_end_duration").path("p50").asLong(),
        summary.path("end_to_end_duration").path("max").asLong()));
    out.append(String.format("  job jar %d bytes%n", Files.size(cluster.jobJar)));
    System.out.print(out);
    Files.writeString(Path.of(System.getProperty("java.io.tmpdir")).resolve("cluster-failover-figures.txt"), out);
  }

  private static Path upgradedRules() throws Exception {
    String rules;
    try (InputStream in = SignatureRules.class.getResourceAsStream(SignatureRules.DEFAULT_RESOURCE)) {
      rules = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String upgraded = rules.replaceFirst("(title: \"Go 1.14 timer self-deadlock[^\"]*)\"", "$1 (rules v2)\"");
    assertThat(upgraded).isNotEqualTo(rules);
    return Files.writeString(Files.createTempFile("rules-v2", ".yaml"), upgraded); // in target/ (java.io.tmpdir)
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4", ProducerConfig.LINGER_MS_CONFIG, 5),
        new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static DeadlockAlert alertOf(byte[] value) {
    try {
      return DeadlockAlert.fromByteBuffer(ByteBuffer.wrap(value));
    } catch (Exception e) {
      throw new AssertionError("not an Avro DeadlockAlert", e);
    }
  }

  private static ContainerHealth healthOf(byte[] value) {
    try {
      return ContainerHealth.parseFrom(value);
    } catch (Exception e) {
      throw new AssertionError("not a protobuf ContainerHealth", e);
    }
  }
}
