package dev.stallwatch.app.demo;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the demo's replay bundle: the night of the Go 1.14.1 timer livelock, replayed.
 *
 * <p>Six containers on two hosts, 5 minutes at 99 Hz. {@code orders} (go1.14.1) wedges: upstream
 * timeouts spike, traffic is drained, and one thread keeps spinning in
 * {@code morestack → newstack → … → adjusttimers → osyield} with no traffic at all. Two decoys
 * must stay silent: {@code checkout} times out on a slow database, is drained and goes idle;
 * {@code indexer} is drained but stays busy rebuilding its index in user code. Three neighbours
 * serve normally. Everything is derived from one seed, so the bundle is the same on every run.
 */
public final class DemoBundle {
  /** 2021-12-29 20:50 China Standard Time, the evening of the post-mortem. */
  public static final long START_MS = Instant.parse("2021-12-29T12:50:00Z").toEpochMilli();
  static final long WINDOW_MS = 10_000;
  static final int WINDOWS = 30; // 5 minutes
  static final double HZ = 99;
  static final long PERIOD_NS = 10_101_010; // perf's cpu-clock period at 99 Hz
  static final int THREADS = 6; // threads per process besides the main one

  public static final String WEDGED = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  public static final String CHECKOUT = "8a1d4e7b2c5f8a1d4e7b2c5f8a1d4e7b2c5f8a1d4e7b2c5f8a1d4e7b2c5f8a1d";
  public static final String INDEXER = "5e2b9c6f3a0d7e4b1c8f5a2d9e6b3c0f7a4d1e8b5c2f9a6d3e0b7c4f1a8d5e2b";

  // spike → drain timeline, in windows from the start
  static final int SPIKE = 12;       // 2:00
  static final int DRAIN = 15;       // 2:30, after three spike windows
  // the recovery (writeRecovery): the on-call restarts orders and restores its traffic at 5:00
  static final int RESTART = WINDOWS;
  static final int RECOVERY_WINDOWS = 12; // 2 minutes

  private static final String ORDERS_BIN = "/app/orders-svc";

  private final SplittableRandom random = new SplittableRandom(38023);
  private final List<Service> services = new ArrayList<>();

  private record Service(String name, String containerId, String host, int pid, String pod, String namespace,
                         String runtime, String binary) {}

  /** CPU and stacks of one container in one window. */
  private record Load(double cores, List<Weighted> stacks) {}

  private record Weighted(double weight, String[] leafFirst) {}

  public DemoBundle() {
    this(0);
  }

  /**
   * The demo with {@code extraNeighbours} more healthy containers, for benchmarks: each adds about
   * 6,000 samples (0.2 cores for 5 minutes at 99 Hz).
   */
  public DemoBundle(int extraNeighbours) {
    services.add(new Service("orders-svc", WEDGED, "node-a", 4242, "orders-7f9c6d5b8-x2k4q", "shop", "go1.14.1", ORDERS_BIN));
    services.add(new Service("checkout", CHECKOUT, "node-a", 5310, "checkout-5d8f7c9b6-p7r2m", "shop", "go1.19.3", "/app/checkout"));
    services.add(new Service("indexer", INDEXER, "node-b", 6120, "indexer-6c9d8b7f5-q4w8e", "search", "go1.14.1", "/app/indexer"));
    services.add(new Service("cart", "c4a7e1b8d5f2c9a6e3b0d7f4a1c8e5b2d9f6a3c0e7b4d1f8a5c2e9b6d3f0a7c4", "node-a", 7001,
        "cart-7b6c5d4e3-h8j9k", "shop", "go1.20.7", "/app/cart"));
    services.add(new Service("payments", "d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2", "node-b", 7102,
        "payments-8c7d6e5f4-m3n4p", "shop", "go1.14.1", "/app/payments"));
    services.add(new Service("search-api", "e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6", "node-b", 7203,
        "search-api-9d8e7f6a5-r5s6t", "search", "go1.21.4", "/app/search-api"));
    for (int i = 0; i < extraNeighbours; i++) {
      SplittableRandom idBits = new SplittableRandom(i);
      String id = String.format(Locale.ROOT, "%016x%016x%016x%016x",
          idBits.nextLong(), idBits.nextLong(), idBits.nextLong(), idBits.nextLong());
      services.add(new Service("svc-" + i, id, i % 2 == 0 ? "node-a" : "node-b", 10_000 + i * 10,
          "svc-" + i + "-0", "fleet", "go1.21.4", "/app/svc-" + i));
    }
  }

  /** Writes a demo bundle: {@code DemoBundle DIR [EXTRA_NEIGHBOURS]}. Used by bench/replay.sh. */
  public static void main(String[] args) {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: DemoBundle DIR [EXTRA_NEIGHBOURS]");
      System.exit(2);
    }
    new DemoBundle(args.length == 2 ? Integer.parseInt(args[1]) : 0).write(Path.of(args[0]));
  }

  public int containerCount() {
    return services.size();
  }

  /** Writes the bundle into {@code dir} (created if needed). */
  public void write(Path dir) {
    write(dir, 0, WINDOWS, (START_MS + DRAIN * WINDOW_MS + 2_000) + "," + CHECKOUT + ",DRAINED\n");
  }

  /**
   * Writes what follows the bundle of {@link #write}: the on-call restarts the wedged container
   * at 5:00 and restores its traffic; it serves normally for two minutes, so its incident
   * resolves. {@code stallwatch demo --serve} replays it after the alert.
   */
  public void writeRecovery(Path dir) {
    write(dir, RESTART, RESTART + RECOVERY_WINDOWS, (START_MS + RESTART * WINDOW_MS + 2_000) + "," + WEDGED
        + ",RESTORED\n");
  }

  private void write(Path dir, int from, int to, String trafficRows) {
    try {
      Files.createDirectories(dir.resolve("perf/node-a"));
      Files.createDirectories(dir.resolve("perf/node-b"));
      writeContainers(dir.resolve("containers.csv"));
      writeUpstream(dir.resolve("upstream.csv"), from, to);
      Files.writeString(dir.resolve("traffic.csv"), "timestamp_ms,container_id,event\n" + trafficRows);
      writeCpu(dir.resolve("cpu.csv"), from, to);
      Files.writeString(dir.resolve("meta.json"), "{\"sample_frequency_hz\": 99}\n");
      // node-a: default perf script header with period, rotated into two files, the older one gzipped.
      try (Writer first = gzipWriter(dir.resolve("perf/node-a/perf-2021122920.txt.gz"));
           Writer second = writer(dir.resolve("perf/node-a/perf-2021122921.txt"))) {
        for (int w = from; w < to; w++) {
          for (Service s : services) {
            if (s.host().equals("node-a")) {
              writeSamples(w < from + (to - from) / 2 ? first : second, s, w, true);
            }
          }
        }
      }
      // node-b: `perf script -F comm,tid,time,event,ip,sym,dso`: no pid, no cpu, no period.
      try (Writer out = writer(dir.resolve("perf/node-b/perf.txt"))) {
        for (int w = from; w < to; w++) {
          for (Service s : services) {
            if (s.host().equals("node-b")) {
              writeSamples(out, s, w, false);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the demo bundle to " + dir, e);
    }
  }

  private void writeContainers(Path file) throws IOException {
    StringBuilder csv = new StringBuilder("pid,container_id,host,pod,namespace,runtime\n");
    for (Service s : services) {
      // node-b's perf text has thread ids only, so every thread of its processes is listed
      int threads = s.host().equals("node-b") ? THREADS : 0;
      for (int tid = s.pid(); tid <= s.pid() + threads; tid++) {
        csv.append(tid).append(',').append(s.containerId()).append(',').append(s.host()).append(',')
            .append(s.pod()).append(',').append(s.namespace()).append(',').append(s.runtime()).append('\n');
      }
    }
    Files.writeString(file, csv);
  }

  private void writeUpstream(Path file, int from, int to) throws IOException {
    StringBuilder csv = new StringBuilder("window_start_ms,window_end_ms,container_id,requests,timeouts\n");
    for (int w = from; w < to; w++) {
      long start = START_MS + w * WINDOW_MS;
      for (Service s : services) {
        long requests = 900 + random.nextInt(200);
        long timeouts = random.nextInt(3);
        boolean spiking = w >= SPIKE && w < DRAIN;
        // orders serves again after its restart; the indexer stays drained
        boolean drained = w >= DRAIN && !(s.containerId().equals(WEDGED) && w >= RESTART);
        if (s.containerId().equals(WEDGED) || s.containerId().equals(INDEXER)) {
          if (spiking) {
            timeouts = requests * 6 / 10;
          } else if (drained) {
            requests = 0;
            timeouts = 0;
          }
        } else if (s.containerId().equals(CHECKOUT)) {
          if (spiking) {
            timeouts = requests * 3 / 10;
          } else if (drained) {
            continue; // the balancer stopped reporting it: no rows at all after the drain
          }
        }
        csv.append(start).append(',').append(start + WINDOW_MS).append(',').append(s.containerId()).append(',')
            .append(requests).append(',').append(timeouts).append('\n');
      }
    }
    Files.writeString(file, csv);
  }

  /** cgroup CPU for the two containers whose collector could read it. */
  private void writeCpu(Path file, int from, int to) throws IOException {
    StringBuilder csv = new StringBuilder("window_start_ms,window_end_ms,container_id,cpu_seconds\n");
    for (int w = from; w < to; w++) {
      long start = START_MS + w * WINDOW_MS;
      for (String id : List.of(WEDGED, CHECKOUT)) {
        Service s = services.stream().filter(x -> x.containerId().equals(id)).findFirst().orElseThrow();
        csv.append(start).append(',').append(start + WINDOW_MS).append(',').append(id).append(',')
            .append(String.format(Locale.ROOT, "%.3f", load(s, w).cores() * 10 * (0.97 + 0.06 * noise(s, w))))
            .append('\n');
      }
    }
    Files.writeString(file, csv);
  }

  /** A deterministic number in [0, 1) for a container and window, independent of write order. */
  private static double noise(Service s, int w) {
    return new SplittableRandom(s.pid() * 1_000_003L + w).nextDouble();
  }

  private void writeSamples(Writer out, Service s, int w, boolean defaultHeader) throws IOException {
    Load load = load(s, w);
    SplittableRandom rnd = new SplittableRandom(s.pid() * 7919L + w);
    int samples = (int) Math.round(load.cores() * WINDOW_MS / 1000.0 * HZ * (0.95 + 0.1 * rnd.nextDouble()));
    long windowStartUs = (START_MS + w * WINDOW_MS) * 1000;
    double total = load.stacks().stream().mapToDouble(Weighted::weight).sum();
    StringBuilder text = new StringBuilder(samples * 600);
    for (int i = 0; i < samples; i++) {
      long us = windowStartUs + (long) ((i + rnd.nextDouble()) * WINDOW_MS * 1000 / samples);
      us = Math.min(us, windowStartUs + WINDOW_MS * 1000 - 1);
      String[] stack = pick(load.stacks(), total, rnd.nextDouble() * total);
      int tid = s.pid() + 1 + (stack == load.stacks().get(0).leafFirst() ? 0 : rnd.nextInt(THREADS));
      String time = String.format(Locale.ROOT, "%d.%06d", us / 1_000_000, us % 1_000_000);
      if (defaultHeader) {
        text.append(s.name()).append(' ').append(s.pid()).append('/').append(tid)
            .append(String.format(Locale.ROOT, " [%03d] ", rnd.nextInt(2)))
            .append(time).append(": ").append(PERIOD_NS).append(" cpu-clock: \n");
      } else {
        text.append(s.name()).append(' ').append(tid).append(' ').append(time).append(": cpu-clock: \n");
      }
      long addr = 0x401000 + rnd.nextInt(0x80000);
      for (String frame : stack) {
        boolean kernel = frame.startsWith("k:");
        String sym = kernel ? frame.substring(2) : frame;
        String dso = kernel ? "[kernel.kallsyms]" : s.binary();
        String ip = kernel ? "ffffffff81" + Long.toHexString(0x100000 + (addr & 0xeffff)) : Long.toHexString(addr);
        text.append('\t').append(" ".repeat(16 - ip.length())).append(ip).append(' ')
            .append(sym).append("+0x").append(Integer.toHexString(1 + (sym.length() * 7) % 0x1f0))
            .append(" (").append(dso).append(")\n");
        addr += 0x1a3;
      }
      text.append('\n');
    }
    out.write(text.toString());
  }

  private static String[] pick(List<Weighted> stacks, double total, double at) {
    double acc = 0;
    for (Weighted stack : stacks) {
      acc += stack.weight();
      if (at < acc) {
        return stack.leafFirst();
      }
    }
    return stacks.get(stacks.size() - 1).leafFirst();
  }

  private Load load(Service s, int w) {
    boolean afterDrain = w >= DRAIN;
    boolean wedged = w >= SPIKE && w < RESTART;
    return switch (s.name()) {
      case "orders-svc" -> wedged
          ? new Load(1.0, List.of(new Weighted(0.55, OSYIELD_KERNEL), new Weighted(0.30, OSYIELD_USER),
              new Weighted(0.10, ADJUSTTIMERS_LOOP), new Weighted(0.05, GC_STW)))
          : new Load(0.45, GO_SERVING);
      case "checkout" -> afterDrain ? new Load(0.03, List.of(new Weighted(1, GO_IDLE))) : new Load(0.40, GO_SERVING);
      case "indexer" -> afterDrain ? new Load(0.90, INDEX_REBUILD) : new Load(0.50, GO_SERVING);
      default -> new Load(0.20, GO_SERVING);
    };
  }

  // Stacks, leaf first as perf prints them; "k:" marks a kernel frame.
  // The wedged thread, as in the post-mortem: on g0 after morestack, spinning in adjusttimers.
  private static final String[] OSYIELD_KERNEL = {
      "k:__schedule", "k:schedule", "k:__x64_sys_sched_yield", "k:do_syscall_64", "k:entry_SYSCALL_64_after_hwframe",
      "runtime.osyield", "runtime.adjusttimers", "runtime.checkTimers", "runtime.schedule", "runtime.goschedImpl",
      "runtime.gopreempt_m", "runtime.newstack", "runtime.morestack"};
  private static final String[] OSYIELD_USER = {
      "runtime.osyield", "runtime.adjusttimers", "runtime.checkTimers", "runtime.schedule", "runtime.goschedImpl",
      "runtime.gopreempt_m", "runtime.newstack", "runtime.morestack"};
  private static final String[] ADJUSTTIMERS_LOOP = {
      "runtime.adjusttimers", "runtime.checkTimers", "runtime.schedule", "runtime.goschedImpl",
      "runtime.gopreempt_m", "runtime.newstack", "runtime.morestack"};
  // The GC waiting for a stop-the-world that never completes.
  private static final String[] GC_STW = {
      "k:futex_wait", "k:do_futex", "k:__x64_sys_futex", "k:do_syscall_64", "k:entry_SYSCALL_64_after_hwframe",
      "runtime.futex", "runtime.futexsleep", "runtime.notetsleep_internal", "runtime.notetsleep",
      "runtime.stopTheWorldWithSema", "runtime.gcStart.func2", "runtime.systemstack", "runtime.mallocgc",
      "runtime.newobject", "main.(*OrderHandler).ServeHTTP", "net/http.serverHandler.ServeHTTP",
      "net/http.(*conn).serve", "runtime.goexit"};

  private static final List<Weighted> GO_SERVING = List.of(
      new Weighted(0.30, new String[] {"encoding/json.(*encodeState).marshal", "encoding/json.Marshal",
          "main.writeJSON", "main.(*Handler).ServeHTTP", "net/http.serverHandler.ServeHTTP",
          "net/http.(*conn).serve", "runtime.goexit"}),
      new Weighted(0.25, new String[] {"runtime.mallocgc", "runtime.newobject", "main.(*Store).Get",
          "main.(*Handler).ServeHTTP", "net/http.serverHandler.ServeHTTP", "net/http.(*conn).serve",
          "runtime.goexit"}),
      new Weighted(0.20, new String[] {"k:tcp_sendmsg", "k:sock_sendmsg", "k:__sys_sendto", "k:do_syscall_64",
          "k:entry_SYSCALL_64_after_hwframe", "syscall.Syscall", "internal/poll.(*FD).Write", "net.(*conn).Write",
          "bufio.(*Writer).Flush", "net/http.(*response).finishRequest", "net/http.(*conn).serve",
          "runtime.goexit"}),
      new Weighted(0.15, new String[] {"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2",
          "runtime.systemstack", "runtime.gcBgMarkWorker", "runtime.goexit"}),
      // a healthy scheduler yields now and then too: osyield without morestack is not the bug
      new Weighted(0.10, new String[] {"runtime.osyield", "runtime.runqgrab", "runtime.runqsteal",
          "runtime.findrunnable", "runtime.schedule", "runtime.park_m", "runtime.mcall"}));
  private static final List<Weighted> INDEX_REBUILD = List.of(
      new Weighted(0.45, new String[] {"sort.quickSort", "sort.Sort", "main.(*Index).rebuildShard",
          "main.(*Index).Rebuild", "main.main.func3", "runtime.goexit"}),
      new Weighted(0.35, new String[] {"compress/flate.(*compressor).deflate", "compress/flate.(*Writer).Write",
          "main.(*Index).writeSegment", "main.(*Index).Rebuild", "main.main.func3", "runtime.goexit"}),
      new Weighted(0.20, new String[] {"runtime.mallocgc", "runtime.growslice", "main.(*Index).rebuildShard",
          "main.(*Index).Rebuild", "main.main.func3", "runtime.goexit"}));
  private static final String[] GO_IDLE = {"k:do_epoll_wait", "k:__x64_sys_epoll_wait", "k:do_syscall_64",
      "k:entry_SYSCALL_64_after_hwframe", "runtime.epollwait", "runtime.netpoll", "runtime.findrunnable",
      "runtime.schedule", "runtime.park_m", "runtime.mcall"};

  private static Writer writer(Path file) throws IOException {
    return Files.newBufferedWriter(file, StandardCharsets.UTF_8);
  }

  private static Writer gzipWriter(Path file) throws IOException {
    return new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(file), 1 << 16),
        StandardCharsets.UTF_8));
  }
}
