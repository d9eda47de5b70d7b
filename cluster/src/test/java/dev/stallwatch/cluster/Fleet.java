package dev.stallwatch.cluster;

import dev.stallwatch.schemas.Topics;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.RuntimeInfo;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.TrafficAction;
import dev.stallwatch.schemas.v1.TrafficEvent;
import dev.stallwatch.schemas.v1.UpstreamWindow;
import dev.stallwatch.schemas.v1.WeightUnit;
import dev.stallwatch.schemas.v1.WindowManifest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Containers on one real-time timeline of aligned 10 s windows, as collectors publish them: healthy
 * neighbours, wedged Go 1.14.1 containers (the seed incident: a timeout spike, a drain, then CPU
 * stuck in {@code runtime.osyield} + {@code runtime.morestack} until a restart), and the demo's two
 * decoys (drained and idle; drained and busy in ordinary code). Each container's host sends its
 * {@link WindowManifest} on the completeness topic after the window's records, as a collector's
 * {@code WindowManifests} does, so the job judges a window early instead of waiting for the
 * watermark.
 */
final class Fleet {
  static final long WINDOW_MS = 10_000;
  /** Windows from the drain to the restart: the 60 s sustain plus room. */
  static final int STUCK_WINDOWS = 9;

  enum Role { HEALTHY, WEDGED, DRAINED_IDLE, DRAINED_BUSY }

  record Member(String name, String containerId, Role role, int spikeWindow) {
    int drainWindow() {
      return spikeWindow + 1;
    }

    int restartWindow() {
      return drainWindow() + STUCK_WINDOWS;
    }
  }

  private static final String UPSTREAM_SOURCE = "envoy";

  /** What a window publishes: the records of the window, then the hosts' manifests listing them. */
  record Window(List<ProducerRecord<byte[], byte[]>> records, List<ProducerRecord<byte[], byte[]>> manifests) {}

  private static final String DEADLOCK_STACK = "orders-svc;runtime.morestack;runtime.newstack;runtime.gopreempt_m;"
      + "runtime.goschedImpl;runtime.schedule;runtime.checkTimers;runtime.adjusttimers;runtime.osyield";
  private static final String WORK_STACK = "orders-svc;main.main;main.handle;net/http.(*conn).serve";

  private final long t0;
  private final List<Member> members = new ArrayList<>();

  /** {@code t0}: the start of window 0, on a 10 s boundary. */
  Fleet(long t0) {
    this.t0 = t0;
  }

  Member add(String name, Role role, int spikeWindow) {
    String id;
    try {
      id = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest((name + "-" + t0).getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Member m = new Member(name, id, role, spikeWindow);
    members.add(m);
    return m;
  }

  List<Member> members() {
    return List.copyOf(members);
  }

  long windowStart(int w) {
    return t0 + w * WINDOW_MS;
  }

  /**
   * Every record of window {@code w}, to be published once it has ended, and the manifests each
   * container's host sends after them (what it published for the container: its profile window and
   * the proxy's upstream window).
   */
  Window window(int w, Topics topics) {
    List<ProducerRecord<byte[], byte[]>> all = new ArrayList<>();
    List<ProducerRecord<byte[], byte[]>> manifests = new ArrayList<>();
    long start = windowStart(w);
    for (Member m : members) {
      List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
      records(m, w, start, topics, out);
      all.addAll(out);
      WindowManifest.Builder manifest = WindowManifest.newBuilder().setHost(host(m)).setContainerId(m.containerId())
          .setWindowStartMs(start).setWindowEndMs(start + WINDOW_MS);
      for (ProducerRecord<byte[], byte[]> r : out) {
        if (r.topic().equals(topics.profiles())) {
          manifest.setProfile(true);
        } else if (r.topic().equals(topics.upstream())) {
          manifest.addUpstreamSources(UPSTREAM_SOURCE);
        }
      }
      manifests.add(record(topics.completeness(), m.containerId(), manifest.build().toByteArray()));
    }
    return new Window(all, manifests);
  }

  private static String host(Member m) {
    return "node-" + (Math.abs(m.name().hashCode()) % 3);
  }

  private static void records(Member m, int w, long start, Topics topics, List<ProducerRecord<byte[], byte[]>> out) {
    String c = m.containerId();
    if (m.role() == Role.HEALTHY || w < m.spikeWindow() || w > m.restartWindow()) {
      out.add(profile(topics, m, start, 1.0, 0.0));
      out.add(upstream(topics, c, start, 1000, 0));
      return;
    }
    if (w == m.spikeWindow()) {
      out.add(profile(topics, m, start, 2.0, m.role() == Role.WEDGED ? 0.6 : 0.0));
      out.add(upstream(topics, c, start, 1000, 300));
      return;
    }
    if (w == m.drainWindow()) {
      out.add(traffic(topics, c, start, TrafficAction.TRAFFIC_ACTION_DRAINED));
    }
    if (w == m.restartWindow()) {
      out.add(traffic(topics, c, start, TrafficAction.TRAFFIC_ACTION_RESTORED));
      out.add(profile(topics, m, start, 1.0, 0.0));
      out.add(upstream(topics, c, start, 1000, 0));
      return;
    }
    switch (m.role()) {
      case WEDGED -> out.add(profile(topics, m, start, 1.9, 0.9));
      case DRAINED_IDLE -> out.add(profile(topics, m, start, 0.05, 0.0));
      case DRAINED_BUSY -> out.add(profile(topics, m, start, 1.5, 0.0));
      default -> throw new IllegalStateException(m.role().toString());
    }
    out.add(upstream(topics, c, start, w == m.drainWindow() ? 5 : 0, 0));
  }

  private static ProducerRecord<byte[], byte[]> profile(Topics topics, Member m, long start, double cores,
      double share) {
    long total = Math.round(cores * WINDOW_MS * 1_000_000);
    long deadlock = Math.round(total * share);
    ProfileWindow.Builder pw = ProfileWindow.newBuilder()
        .setHost(host(m))
        .setContainerId(m.containerId())
        .setPod("shop/" + m.name() + "-7f9c6d5b8-x2k4q")
        .setNamespace("shop")
        .setWindowStartMs(start)
        .setWindowEndMs(start + WINDOW_MS)
        .addStrings("")
        .setTotalWeight(total)
        .setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS)
        .setSampleFrequencyHz(99)
        .setSampleCount(total / 10_101_010L)
        .setRuntime(RuntimeInfo.newBuilder().setName("go").setVersion("go1.14.1").setSource("/proc/1/exe buildinfo"));
    if (deadlock > 0) {
      pw.addStacks(stack(pw, DEADLOCK_STACK, deadlock));
    }
    if (total - deadlock > 0) {
      pw.addStacks(stack(pw, WORK_STACK, total - deadlock));
    }
    return record(topics.profiles(), m.containerId(), pw.build().toByteArray());
  }

  private static Stack stack(ProfileWindow.Builder pw, String folded, long weight) {
    Stack.Builder stack = Stack.newBuilder().setWeight(weight).setSamples(Math.max(1, weight / 10_101_010L));
    for (String frame : folded.split(";")) {
      int index = pw.getStringsList().indexOf(frame);
      if (index < 0) {
        pw.addStrings(frame);
        index = pw.getStringsCount() - 1;
      }
      stack.addFrames(index);
    }
    return stack.build();
  }

  private static ProducerRecord<byte[], byte[]> upstream(Topics topics, String c, long start, long requests,
      long timeouts) {
    return record(topics.upstream(), c, UpstreamWindow.newBuilder()
        .setSource(UPSTREAM_SOURCE).setContainerId(c).setWindowStartMs(start).setWindowEndMs(start + WINDOW_MS)
        .setRequests(requests).setTimeouts(timeouts).build().toByteArray());
  }

  private static ProducerRecord<byte[], byte[]> traffic(Topics topics, String c, long t, TrafficAction action) {
    return record(topics.traffic(), c, TrafficEvent.newBuilder()
        .setContainerId(c).setTimestampMs(t).setAction(action).setActor("lb-hook:haproxy-1").build().toByteArray());
  }

  private static ProducerRecord<byte[], byte[]> record(String topic, String container, byte[] value) {
    return new ProducerRecord<>(topic, container.getBytes(StandardCharsets.UTF_8), value);
  }
}
