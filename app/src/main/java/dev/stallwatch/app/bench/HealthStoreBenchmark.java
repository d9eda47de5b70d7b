package dev.stallwatch.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stallwatch.app.Directories;
import dev.stallwatch.app.dashboards.Dashboards;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stallwatch.incidents.health.HealthStore;
import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.schemas.v1.ContainerHealth;
import dev.stallwatch.schemas.v1.DetectorState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import javax.sql.DataSource;

/**
 * How fast {@link HealthStore#write} stores {@code container_health} rows and how big they are on
 * disk, on a fresh embedded PostgreSQL (fsync on, as {@code stallwatch serve} runs it), and how
 * long the dashboards' queries take on that data.
 *
 * <p>Generates {@code containers × windows} {@link ContainerHealth} rows in code, window by window
 * (as the job emits them), and writes them in batches of {@code batch} through {@code HealthStore}
 * as {@code HealthIngestor} does with each Kafka poll (one transaction and one connection per
 * batch; Kafka's default {@code max.poll.records} is 500). About 98% of the windows are plain
 * HEALTHY (no signature, no timeouts); a few percent of the containers go through an episode
 * (SPIKING, DRAINED, STUCK, ALERTING with a signature, an incident and timeouts), and a few healthy
 * windows have some timeouts. The first tenth of the windows is a warm-up (partition creation, JIT,
 * caches) and is left out of the sustained rate.
 *
 * <p>Then: bytes per row (the partitions with their indexes, the table alone, each index, the WAL
 * written), and every {@code container_health} query of {@code dashboards/stallwatch-fleet.json}
 * and {@code stallwatch-container.json} with {@code $__timeFilter} over the last hour of the data,
 * {@code $container} one container that had an episode, {@code $namespace} All: the median time of
 * 5 runs, and the scans of its {@code EXPLAIN (ANALYZE, BUFFERS)} plan, which tell whether it reads
 * {@code container_health_notable_idx}. The dashboards are read from
 * {@code ${stallwatch.home}/dashboards} (default: the working directory).
 *
 * <p>Usage: {@code HealthStoreBenchmark [containers (10000)] [windows (60)] [batch (500)] [writers (1)]};
 * with more than one writer, batches are written concurrently, each on its own connection, as
 * several ingestors of one consumer group would. Results go to stdout, logs to stderr.
 */
public final class HealthStoreBenchmark {
  private static final long WINDOW_MS = 10_000;
  /** $__interval of the expanded queries: the windows are 10 s. */
  private static final Duration WINDOW = Duration.ofMillis(WINDOW_MS);
  /** A fixed, arbitrary day: all rows land in one daily partition. */
  private static final long START_MS = Instant.parse("2026-01-15T12:00:00Z").toEpochMilli();
  private static final String SIGNATURE = "go-timer-livelock";
  /** Share of the containers that go through an episode; it starts at a random window. */
  private static final double TROUBLED = 0.03;
  /** Share of the healthy windows with a few timeouts (notable, yet HEALTHY). */
  private static final double HEALTHY_TIMEOUTS = 0.005;
  private static final int QUERY_RUNS = 5;
  private static final String NOTABLE_INDEX = "container_health_notable_idx";

  private HealthStoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    int containers = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int windows = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    int batchSize = args.length > 2 ? Integer.parseInt(args[2]) : 500;
    int writers = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    if (containers < 1 || windows < 2 || batchSize < 1 || writers < 1 || args.length > 4) {
      throw new IllegalArgumentException("usage: HealthStoreBenchmark [containers] [windows >= 2] [batch] [writers]");
    }
    Path home = Path.of(System.getProperty("stallwatch.home", ".")).toAbsolutePath().normalize();
    List<Dashboards.Query> queries = loadQueries(home.resolve("dashboards"));
    Fleet fleet = new Fleet(containers, windows, 42);

    Path dir = Files.createTempDirectory("stallwatch-health-bench");
    try {
      try (IncidentDatabase database = IncidentDatabase.open(DatabaseOptions.embedded(dir))) {
        run(database.dataSource(), fleet, windows, batchSize, writers, queries);
      }
    } finally {
      Directories.deleteRecursively(dir);
    }
  }

  private static void run(DataSource ds, Fleet fleet, int windows, int batchSize, int writers, List<Dashboards.Query> queries)
      throws Exception {
    long rows = (long) fleet.size() * windows;
    out("container_health ingest: %,d containers x %,d windows = %,d rows, batches of %,d, %d writer(s), %d cores",
        fleet.size(), windows, rows, batchSize, writers, Runtime.getRuntime().availableProcessors());
    out("postgres: %s", settings(ds));
    out("connection setup (HealthStore opens one per batch): %.2f ms", connectMillis(ds));

    HealthStore store = new HealthStore(ds);
    int warmupWindows = Math.max(1, windows / 10);
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      Phase warmup = writePhase(store, pool, writers, fleet, 0, warmupWindows, batchSize);
      out("warm-up: windows 1-%d, %,d rows in %.1f s (%,.0f rows/s; includes creating the day's partition)",
          warmupWindows, warmup.rows, warmup.seconds(), warmup.rows / warmup.seconds());
      long walBefore = walLsn(ds);
      Phase measured = writePhase(store, pool, writers, fleet, warmupWindows, windows, batchSize);
      long walBytes = walLsn(ds) - walBefore;
      out("sustained: windows %d-%d, %,d rows in %.1f s: %,.0f rows/s; batch write p50 %.1f ms, p99 %.1f ms, max %.1f ms",
          warmupWindows + 1, windows, measured.rows, measured.seconds(), measured.rows / measured.seconds(),
          measured.percentileMillis(0.50), measured.percentileMillis(0.99), measured.percentileMillis(1.0));
      for (String chunk : measured.chunks()) {
        out("  %s", chunk);
      }
      out("WAL written while sustained: %,d bytes/row (%.1f MB)", walBytes / measured.rows, walBytes / 1e6);
      out("protobuf ContainerHealth on Kafka: %.0f bytes/record on average", fleet.averageSerializedSize());
    } finally {
      pool.shutdown();
    }

    sizes(ds, rows);
    dashboardQueries(ds, fleet, windows, queries);
  }

  // ---------------------------------------------------------------- writing

  private static Phase writePhase(HealthStore store, ExecutorService pool, int writers, Fleet fleet,
                                  int fromWindow, int toWindow, int batchSize) throws Exception {
    Semaphore inFlight = new Semaphore(writers * 2);
    List<Future<long[]>> done = new ArrayList<>();
    List<Integer> batchWindows = new ArrayList<>();
    long start = System.nanoTime();
    for (int w = fromWindow; w < toWindow; w++) {
      for (int from = 0; from < fleet.size(); from += batchSize) {
        List<ContainerHealth> batch = fleet.batch(w, from, Math.min(fleet.size(), from + batchSize));
        inFlight.acquire();
        done.add(pool.submit(() -> {
          try {
            long t0 = System.nanoTime();
            store.write(batch);
            long t1 = System.nanoTime();
            return new long[] {t1 - t0, t1, batch.size()};
          } finally {
            inFlight.release();
          }
        }));
        batchWindows.add(w);
      }
    }
    long[] latencies = new long[done.size()];
    long[] finished = new long[done.size()];
    long rows = 0;
    long end = start;
    for (int i = 0; i < done.size(); i++) {
      long[] r = done.get(i).get();
      latencies[i] = r[0];
      finished[i] = r[1];
      rows += r[2];
      end = Math.max(end, r[1]);
    }
    int[] windowOf = batchWindows.stream().mapToInt(Integer::intValue).toArray();
    return new Phase(rows, start, end, latencies, finished, windowOf, fleet.size(), fromWindow, toWindow);
  }

  private record Phase(long rows, long startNanos, long endNanos, long[] latencies, long[] finished, int[] windowOf,
                       int rowsPerWindow, int fromWindow, int toWindow) {
    double seconds() {
      return (endNanos - startNanos) / 1e9;
    }

    double percentileMillis(double p) {
      long[] sorted = latencies.clone();
      Arrays.sort(sorted);
      int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
      return sorted[Math.max(0, i)] / 1e6;
    }

    /** The rate over each fifth of the windows, by when the last batch of each fifth finished: is it steady? */
    List<String> chunks() {
      int windows = toWindow - fromWindow;
      int parts = Math.min(5, windows);
      List<String> lines = new ArrayList<>();
      long previous = startNanos;
      for (int part = 0; part < parts; part++) {
        int first = fromWindow + windows * part / parts;
        int last = fromWindow + windows * (part + 1) / parts - 1;
        long lastDone = previous;
        for (int i = 0; i < windowOf.length; i++) {
          if (windowOf[i] >= first && windowOf[i] <= last) {
            lastDone = Math.max(lastDone, finished[i]);
          }
        }
        long chunkRows = (long) (last - first + 1) * rowsPerWindow;
        lines.add(String.format(Locale.ROOT, "windows %d-%d: %,.0f rows/s", first + 1, last + 1,
            chunkRows / ((lastDone - previous) / 1e9)));
        previous = lastDone;
      }
      return lines;
    }
  }

  /**
   * The containers: 64-hex IDs, about 50 per host (2,000 hosts for 100k), pods of deployments in a
   * few dozen namespaces, and for a few percent an episode starting at a random window.
   */
  private static final class Fleet {
    private static final String[] NAMESPACES = {"payments", "checkout", "orders", "search", "catalog", "identity",
        "notifications", "shipping", "inventory", "pricing", "recommendations", "ads", "analytics", "billing",
        "fraud-detection", "customer-support", "media", "reviews", "loyalty", "gateway", "kube-system",
        "monitoring", "logging", "ingress-nginx", "cert-manager", "data-platform", "ml-serving", "batch-jobs",
        "internal-tools", "platform"};
    private static final String[] ROLES = {"api", "worker", "consumer", "grpc", "frontend", "scheduler", "sync",
        "indexer", "cache-warmer", "gateway"};
    private static final String POD_CHARS = "bcdfghjklmnpqrstvwxz2456789";

    private final String[] ids;
    private final String[] hosts;
    private final String[] pods;
    private final String[] namespaces;
    private final double[] cpu;
    private final long[] requests;
    private final int[] troubleStart;
    private final SplittableRandom random;
    private long serializedBytes;
    private long serializedRecords;

    Fleet(int size, int windows, long seed) {
      SplittableRandom r = new SplittableRandom(seed);
      ids = new String[size];
      hosts = new String[size];
      pods = new String[size];
      namespaces = new String[size];
      cpu = new double[size];
      requests = new long[size];
      troubleStart = new int[size];
      int hostCount = Math.max(1, size / 50);
      String[] hostNames = new String[hostCount];
      for (int h = 0; h < hostCount; h++) {
        hostNames[h] = String.format(Locale.ROOT, "ip-10-%d-%d-%d.eu-west-1.compute.internal",
            r.nextInt(256), r.nextInt(256), 1 + r.nextInt(254));
      }
      for (int c = 0; c < size; c++) {
        StringBuilder id = new StringBuilder(64);
        for (int i = 0; i < 4; i++) {
          id.append(String.format(Locale.ROOT, "%016x", r.nextLong()));
        }
        ids[c] = id.toString();
        hosts[c] = hostNames[r.nextInt(hostCount)];
        namespaces[c] = NAMESPACES[r.nextInt(NAMESPACES.length)];
        pods[c] = namespaces[c] + "-" + ROLES[r.nextInt(ROLES.length)] + "-" + token(r, 10) + "-" + token(r, 5);
        cpu[c] = Math.exp(-1.5 + r.nextGaussian()); // median 0.22 cores, a long tail
        requests[c] = 10 + (long) Math.exp(5 + 1.5 * r.nextGaussian()); // per 10 s; median ~150
        troubleStart[c] = r.nextDouble() < TROUBLED ? r.nextInt(windows) : -1;
      }
      random = r;
    }

    private static String token(SplittableRandom r, int length) {
      StringBuilder s = new StringBuilder(length);
      for (int i = 0; i < length; i++) {
        s.append(POD_CHARS.charAt(r.nextInt(POD_CHARS.length())));
      }
      return s.toString();
    }

    int size() {
      return ids.length;
    }

    String id(int c) {
      return ids[c];
    }

    /** The first container with an episode: the one the drill-down queries look at. */
    int troubled() {
      for (int c = 0; c < size(); c++) {
        if (troubleStart[c] >= 0) {
          return c;
        }
      }
      return 0;
    }

    synchronized List<ContainerHealth> batch(int window, int from, int to) {
      List<ContainerHealth> batch = new ArrayList<>(to - from);
      for (int c = from; c < to; c++) {
        ContainerHealth h = row(c, window);
        if ((c & 63) == 0) {
          serializedBytes += h.getSerializedSize();
          serializedRecords++;
        }
        batch.add(h);
      }
      return batch;
    }

    double averageSerializedSize() {
      return (double) serializedBytes / serializedRecords;
    }

    private ContainerHealth row(int c, int window) {
      long start = START_MS + window * WINDOW_MS;
      ContainerHealth.Builder h = ContainerHealth.newBuilder()
          .setContainerId(ids[c]).setHost(hosts[c]).setPod(pods[c]).setNamespace(namespaces[c])
          .setWindowStartMs(start).setWindowEndMs(start + WINDOW_MS);
      SplittableRandom r = random;
      long baseRequests = Math.max(1, Math.round(requests[c] * (0.85 + 0.3 * r.nextDouble())));
      double baseCpu = cpu[c] * (0.8 + 0.4 * r.nextDouble());
      int phase = troubleStart[c] < 0 ? -1 : window - troubleStart[c];
      if (phase < 0) {
        long timeouts = r.nextDouble() < HEALTHY_TIMEOUTS ? 1 + r.nextInt(Math.max(1, (int) (baseRequests / 50))) : 0;
        return h.setCpuCores(baseCpu).setRequests(baseRequests).setTimeouts(timeouts)
            .setDetectorState(DetectorState.HEALTHY).build();
      }
      double share = 0.6 + 0.35 * r.nextDouble();
      h.setSignatureId(SIGNATURE).setCpuCores(1.0 + r.nextDouble());
      if (phase == 0) {
        // timeouts spike; the wedged thread already spins
        return h.setRequests(baseRequests).setTimeouts(Math.max(1, baseRequests / 3)).setSignatureShare(share / 2)
            .setDetectorState(DetectorState.SPIKING).build();
      }
      // drained: a trickle of requests, most of them timing out
      long trickle = r.nextInt(5);
      h.setRequests(trickle).setTimeouts(trickle == 0 ? 0 : r.nextInt((int) trickle + 1)).setSignatureShare(share);
      if (phase == 1) {
        return h.setDetectorState(DetectorState.DRAINED).build();
      }
      if (phase < 7) {
        return h.setDetectorState(DetectorState.STUCK).build();
      }
      String incident = UUID.nameUUIDFromBytes(("stallwatch/deadlock/v1|" + ids[c] + "|"
          + (START_MS + (troubleStart[c] + 1) * WINDOW_MS) + "|" + SIGNATURE).getBytes(StandardCharsets.UTF_8))
          .toString();
      return h.setDetectorState(DetectorState.ALERTING).setIncidentId(incident).build();
    }
  }

  // ---------------------------------------------------------------- sizes

  private static void sizes(DataSource ds, long expectedRows) throws SQLException {
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      long rows = single(s, "SELECT count(*) FROM container_health");
      long notable = single(s, "SELECT count(*) FROM container_health"
          + " WHERE detector_state <> 'HEALTHY' OR signature_id IS NOT NULL OR timeouts > 0");
      if (rows != expectedRows) {
        throw new IllegalStateException("expected " + expectedRows + " rows, found " + rows);
      }
      String partitions = "(SELECT inhrelid FROM pg_inherits WHERE inhparent = 'container_health'::regclass)";
      long total = single(s, "SELECT sum(pg_total_relation_size(oid)) FROM pg_class WHERE oid IN " + partitions);
      long table = single(s, "SELECT sum(pg_table_size(oid)) FROM pg_class WHERE oid IN " + partitions);
      long heap = single(s, "SELECT sum(pg_relation_size(oid)) FROM pg_class WHERE oid IN " + partitions);
      long partitionCount = single(s, "SELECT count(*) FROM " + partitions + " p");
      out("rows: %,d in %d partition(s); notable (in %s): %,d = %.2f%%", rows, partitionCount, NOTABLE_INDEX,
          notable, 100.0 * notable / rows);
      out("size: %,d bytes/row total (%.1f MB: partitions with indexes, pg_total_relation_size)", total / rows,
          total / 1e6);
      out("size: %,d bytes/row table only (%.1f MB, pg_table_size; heap alone %,d bytes/row)", table / rows,
          table / 1e6, heap / rows);
      try (ResultSet rs = s.executeQuery("SELECT p.relname, sum(pg_relation_size(i.inhrelid))"
          + " FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
          + " WHERE i.inhparent IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'container_health'::regclass)"
          + " GROUP BY p.relname ORDER BY 1")) {
        while (rs.next()) {
          String index = rs.getString(1);
          long bytes = rs.getLong(2);
          String perNotable = index.equals(NOTABLE_INDEX) && notable > 0
              ? String.format(Locale.ROOT, ", %,d bytes per notable row", bytes / notable) : "";
          out("size: index %s: %,d bytes/row (%.1f MB%s)", index, bytes / rows, bytes / 1e6, perNotable);
        }
      }
    }
  }

  // ---------------------------------------------------------------- dashboard queries

  private static void dashboardQueries(DataSource ds, Fleet fleet, int windows, List<Dashboards.Query> queries)
      throws SQLException, IOException {
    Instant to = Instant.ofEpochMilli(START_MS + windows * WINDOW_MS);
    Instant from = to.minusSeconds(3600);
    String container = fleet.id(fleet.troubled());
    Map<String, String> vars = Map.of("container", container, "namespace", "*");
    ObjectMapper json = new ObjectMapper();
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      Map<String, String> parentIndex = new LinkedHashMap<>();
      try (ResultSet rs = s.executeQuery("SELECT ci.relname, p.relname FROM pg_inherits i"
          + " JOIN pg_class ci ON ci.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relkind = 'I'")) {
        while (rs.next()) {
          parentIndex.put(rs.getString(1), rs.getString(2));
        }
      }
      long analyzeStart = System.nanoTime();
      s.execute("ANALYZE container_health");
      out("ANALYZE container_health: %.1f s (autovacuum would; the plans depend on it)",
          (System.nanoTime() - analyzeStart) / 1e9);
      out("dashboard queries: $__timeFilter(window_end) = %s .. %s (1 h; the data spans the last %d min),"
          + " $__interval 10s, $container %s (had an episode), $namespace All; median of %d runs",
          from, to, windows * WINDOW_MS / 60_000, container.substring(0, 12), QUERY_RUNS);
      int fleetQueries = 0;
      int fleetOnNotable = 0;
      for (Dashboards.Query q : queries) {
        String sql = Dashboards.expandSql(q.text(), from, to, WINDOW, vars);
        JsonNode plan;
        try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)) {
          rs.next();
          plan = json.readTree(rs.getString(1)).get(0);
        }
        double[] millis = new double[QUERY_RUNS];
        long resultRows = 0;
        for (int run = 0; run < QUERY_RUNS; run++) {
          long t0 = System.nanoTime();
          resultRows = 0;
          try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
              resultRows++;
            }
          }
          millis[run] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(millis);
        Set<String> scans = new LinkedHashSet<>();
        collectScans(plan.get("Plan"), parentIndex, scans);
        JsonNode top = plan.get("Plan");
        boolean notable = scans.stream().anyMatch(scan -> scan.contains(NOTABLE_INDEX));
        boolean perContainer = sql.contains("container_id = '");
        if (!perContainer) {
          fleetQueries++;
          fleetOnNotable += notable ? 1 : 0;
        }
        out("query %s / %s: %.1f ms (%d row(s)); executor %.1f ms, buffers hit %,d read %,d; %s; %s",
            q.dashboardUid(), q.where(), millis[QUERY_RUNS / 2], resultRows, plan.get("Execution Time").asDouble(),
            top.path("Shared Hit Blocks").asLong(), top.path("Shared Read Blocks").asLong(),
            notable ? "uses " + NOTABLE_INDEX : "does not use " + NOTABLE_INDEX, String.join(", ", scans));
      }
      out("%s used by %d of %d fleet-wide queries", NOTABLE_INDEX, fleetOnNotable, fleetQueries);
    }
  }

  /** "Bitmap Index Scan on container_health_p20260115_window_end_idx (container_health_notable_idx)", ... */
  private static void collectScans(JsonNode node, Map<String, String> parentIndex, Set<String> scans) {
    if (node == null) {
      return;
    }
    String type = node.path("Node Type").asText();
    if (node.has("Index Name")) {
      String index = node.get("Index Name").asText();
      scans.add(type + " on " + index + " (" + parentIndex.getOrDefault(index, index) + ")");
    } else if (type.endsWith("Scan") && node.has("Relation Name")) {
      scans.add(type + " on " + node.get("Relation Name").asText());
    }
    for (JsonNode child : node.path("Plans")) {
      collectScans(child, parentIndex, scans);
    }
  }

  /** Every SQL of the dashboards that reads container_health: panel targets and query variables. */
  private static List<Dashboards.Query> loadQueries(Path dir) {
    return Dashboards.load(dir).stream()
        .flatMap(dashboard -> dashboard.queries().stream())
        .filter(query -> query.kind() == Dashboards.Kind.SQL && query.text().contains("container_health"))
        .toList();
  }

  // ---------------------------------------------------------------- helpers

  private static String settings(DataSource ds) throws SQLException {
    List<String> parts = new ArrayList<>();
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      for (String name : List.of("server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level",
          "shared_buffers", "max_wal_size", "checkpoint_timeout")) {
        try (ResultSet rs = s.executeQuery("SHOW " + name)) {
          rs.next();
          parts.add(name + "=" + rs.getString(1));
        }
      }
    }
    return String.join(", ", parts);
  }

  private static double connectMillis(DataSource ds) throws SQLException {
    int n = 20;
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      try (Connection c = ds.getConnection()) {
        c.isValid(1);
      }
    }
    return (System.nanoTime() - start) / 1e6 / n;
  }

  private static long walLsn(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      return single(s, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
    }
  }

  private static long single(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void out(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
    System.out.flush();
  }
}
