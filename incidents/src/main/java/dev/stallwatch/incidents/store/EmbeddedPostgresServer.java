package dev.stallwatch.incidents.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.ArchUtils;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL (zonky's binaries from Maven Central) on a data directory that outlives the
 * process: the first start runs initdb, later starts reuse the files. When another process (or
 * another open in this one) already runs the server on the directory, this one connects to it
 * instead, so {@code stallwatch incidents list} works beside a running {@code stallwatch serve}.
 */
final class EmbeddedPostgresServer implements AutoCloseable {
  static final String DATABASE = "stallwatch";
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);
  /** zonky's lock file: held for as long as a process runs the server on the directory. */
  private static final String LOCK_FILE = "epg-lock";
  private static final String PID_FILE = "postmaster.pid";
  private static final String SUPERUSER = "postgres";
  private static final Duration ATTACH_WAIT = Duration.ofSeconds(30);
  private static final Duration ORPHAN_STOP_WAIT = Duration.ofSeconds(30);
  private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);

  private final Path dir;
  private final int port;
  private final EmbeddedPostgres owned;

  private EmbeddedPostgresServer(Path dir, int port, EmbeddedPostgres owned) {
    this.dir = dir;
    this.port = port;
    this.owned = owned;
  }

  /** Starts the server on {@code dir}, or connects to the one already running there. */
  static EmbeddedPostgresServer startOrAttach(Path dir, int port) {
    try {
      Files.createDirectories(dir);
      if (ownedElsewhere(dir)) {
        return attach(dir);
      }
      stopOrphan(dir);
      EmbeddedPostgres postgres;
      try {
        postgres = start(dir, port);
      } catch (IllegalStateException e) {
        if (ownedElsewhere(dir)) {
          // another process started it between our check and zonky's lock
          return attach(dir);
        }
        throw new IncidentStoreException("could not start the embedded PostgreSQL in " + dir + ": "
            + e.getMessage(), e);
      }
      EmbeddedPostgresServer server = new EmbeddedPostgresServer(dir, postgres.getPort(), postgres);
      try {
        server.createDatabase();
      } catch (SQLException e) {
        server.close();
        throw e;
      }
      return server;
    } catch (IOException | SQLException e) {
      throw new IncidentStoreException("could not start the embedded PostgreSQL in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static EmbeddedPostgres start(Path dir, int port) throws IOException {
    boolean fresh = !Files.exists(dir.resolve("postgresql.conf"));
    LOG.info("{} the embedded PostgreSQL in {}", fresh ? "creating" : "starting", dir);
    return EmbeddedPostgres.builder()
        .setDataDirectory(dir)
        .setCleanDataDirectory(false)
        .setPort(port)
        .setPGStartupWait(STARTUP_WAIT)
        .setPgBinaryResolver(BundledBinaries.INSTANCE)
        // zonky turns both off for throw-away test databases; this one keeps history, and the
        // ingestor commits a Kafka offset only once its row is on disk
        .setServerConfig("fsync", "on")
        .setServerConfig("synchronous_commit", "on")
        .start();
  }

  /** Whether zonky's lock on the directory is held, by another process or another open here. */
  private static boolean ownedElsewhere(Path dir) throws IOException {
    Path lockFile = dir.resolve(LOCK_FILE);
    if (!Files.exists(lockFile)) {
      return false; // never started (initdb needs the directory empty: do not create the file)
    }
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        return true;
      }
      lock.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true;
    }
  }

  /** Uses the server another process runs on {@code dir}; its port is in postmaster.pid. */
  private static EmbeddedPostgresServer attach(Path dir) throws IOException {
    long deadline = System.nanoTime() + ATTACH_WAIT.toNanos();
    while (true) {
      Optional<Integer> port = runningPort(dir);
      if (port.isPresent() && accepts(port.get())) {
        LOG.info("using the embedded PostgreSQL that another process runs in {} on port {}", dir, port.get());
        return new EmbeddedPostgresServer(dir, port.get(), null);
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("another process holds " + dir.resolve(LOCK_FILE)
            + " but no PostgreSQL answers there after " + ATTACH_WAIT.toSeconds() + " s");
      }
      try {
        // the owner is still starting the server: postmaster.pid appears once it listens
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for the PostgreSQL in " + dir, e);
      }
    }
  }

  /**
   * A stallwatch process killed with SIGKILL leaves its postgres running, holding the directory.
   * Nothing else uses it (the lock is free), so shut it down: SIGTERM is a clean shutdown.
   */
  private static void stopOrphan(Path dir) throws IOException {
    Optional<Long> pid = pidLine(dir, 0).map(Long::parseLong);
    if (pid.isEmpty()) {
      return;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid.get());
    if (process.isEmpty() || !isPostgresOf(process.get(), dir)) {
      return; // a stale pid file: postgres itself handles that
    }
    LOG.warn("stopping PostgreSQL pid {} left running in {} by a stallwatch process that ended without stopping it",
        pid.get(), dir);
    process.get().destroy();
    try {
      process.get().onExit().get(ORPHAN_STOP_WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping PostgreSQL pid " + pid.get(), e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("PostgreSQL pid " + pid.get() + " in " + dir + " did not stop within "
          + ORPHAN_STOP_WAIT.toSeconds() + " s; stop it and try again", e);
    }
  }

  private static boolean isPostgresOf(ProcessHandle process, Path dir) {
    String command = process.info().commandLine().orElse("");
    return command.contains("postgres") && command.contains(dir.toString());
  }

  private static Optional<Integer> runningPort(Path dir) throws IOException {
    // postmaster.pid: pid, data directory, start time, port, ...
    return pidLine(dir, 3).map(Integer::parseInt);
  }

  private static Optional<String> pidLine(Path dir, int index) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(dir.resolve(PID_FILE), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    if (lines.size() <= index || lines.get(index).isBlank()) {
      return Optional.empty();
    }
    return Optional.of(lines.get(index).trim());
  }

  private static boolean accepts(int port) {
    try (Connection c = dataSource(port, "postgres").getConnection()) {
      return c.isValid(2);
    } catch (SQLException e) {
      LOG.debug("PostgreSQL on port {} does not answer yet: {}", port, e.getMessage());
      return false;
    }
  }

  private void createDatabase() throws SQLException {
    try (Connection c = dataSource(port, "postgres").getConnection();
         PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, DATABASE);
      try (ResultSet rs = exists.executeQuery()) {
        if (rs.next()) {
          return;
        }
      }
      try (Statement create = c.createStatement()) {
        create.execute("CREATE DATABASE " + DATABASE);
      }
    }
  }

  /** The stallwatch database, as the superuser (trust authentication on loopback). */
  PGSimpleDataSource dataSource() {
    return dataSource(port, DATABASE);
  }

  private static PGSimpleDataSource dataSource(int port, String database) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {"127.0.0.1"});
    ds.setPortNumbers(new int[] {port});
    ds.setDatabaseName(database);
    ds.setUser(SUPERUSER);
    ds.setApplicationName("stallwatch");
    return ds;
  }

  int port() {
    return port;
  }

  /** Whether this process runs the server (and stops it on close) rather than using another's. */
  boolean owned() {
    return owned != null;
  }

  Path dir() {
    return dir;
  }

  /**
   * PostgreSQL's binaries from the zonky jar on the class path. zonky's own resolver refuses to
   * start when the resource is found twice, which happens when the same jar is reached both
   * directly and through a jar manifest's Class-Path (the app's jar in integration tests): any
   * copy of the one jar will do. The instance is a singleton: zonky caches extractions per resolver.
   */
  private static final class BundledBinaries implements PgBinaryResolver {
    static final BundledBinaries INSTANCE = new BundledBinaries();

    @Override
    public InputStream getPgBinary(String system, String machineHardware) throws IOException {
      String name = ("postgres-" + system + "-" + ArchUtils.normalize(machineHardware) + ".txz").toLowerCase(Locale.ROOT);
      URL url = EmbeddedPostgresServer.class.getClassLoader().getResource(name);
      if (url == null) {
        throw new IOException("no embedded PostgreSQL for " + system + " " + machineHardware + " (" + name
            + " is not on the class path; stallwatch bundles Linux x86_64 only): use --jdbc-url with a server");
      }
      return url.openStream();
    }
  }

  @Override
  public void close() {
    if (owned == null) {
      return;
    }
    try {
      owned.close();
    } catch (IOException e) {
      throw new IncidentStoreException("could not stop the embedded PostgreSQL in " + dir + ": " + e.getMessage(), e);
    }
  }
}
