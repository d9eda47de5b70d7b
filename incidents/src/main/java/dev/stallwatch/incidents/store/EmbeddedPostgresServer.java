package dev.stallwatch.incidents.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import io.zonky.test.db.postgres.util.ArchUtils;
import io.zonky.test.db.postgres.util.LinuxUtils;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
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
 *
 * <p>Every role logs in with a password (scram-sha-256, also over the Unix socket, which lives in
 * the 0700 data directory); the superuser's is generated on the first start and kept in a 0600
 * file. The server listens on loopback only. A data directory of an older stallwatch, whose
 * pg_hba.conf trusted every local user, is upgraded before it starts.
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

  private static final String HBA_FILE = "pg_hba.conf";
  private static final String AUTH = "scram-sha-256";

  private final Path dir;
  private final int port;
  private final String password;
  private final EmbeddedPostgres owned;

  private EmbeddedPostgresServer(Path dir, int port, String password, EmbeddedPostgres owned) {
    this.dir = dir;
    this.port = port;
    this.password = password;
    this.owned = owned;
  }

  /**
   * Starts the server on {@code dir}, or connects to the one already running there.
   *
   * @param passwordFile the superuser's password (created on the first start, 0600)
   */
  static EmbeddedPostgresServer startOrAttach(Path dir, Path passwordFile, int port) {
    try {
      Files.createDirectories(dir);
      String password;
      try {
        password = SecretFile.readOrCreate(passwordFile);
      } catch (IOException e) {
        throw new IncidentStoreException("the password of the embedded PostgreSQL in " + passwordFile + ": "
            + e.getMessage(), e);
      }
      if (ownedElsewhere(dir)) {
        return attach(dir, password);
      }
      stopOrphan(dir);
      if (Files.exists(dir.resolve(HBA_FILE)) && trustsSomeone(dir)) {
        upgradeFromTrust(dir, password);
      }
      EmbeddedPostgres postgres;
      try {
        postgres = start(dir, port, passwordFile, password);
      } catch (IllegalStateException e) {
        if (ownedElsewhere(dir)) {
          // another process started it between our check and zonky's lock
          return attach(dir, password);
        }
        throw new IncidentStoreException("could not start the embedded PostgreSQL in " + dir + ": "
            + e.getMessage(), e);
      }
      EmbeddedPostgresServer server = new EmbeddedPostgresServer(dir, postgres.getPort(), password, postgres);
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

  private static EmbeddedPostgres start(Path dir, int port, Path passwordFile, String password) throws IOException {
    boolean fresh = !Files.exists(dir.resolve("postgresql.conf"));
    LOG.info("{} the embedded PostgreSQL in {}", fresh ? "creating" : "starting", dir);
    return EmbeddedPostgres.builder()
        .setDataDirectory(dir)
        .setCleanDataDirectory(false)
        .setPort(port)
        .setPGStartupWait(STARTUP_WAIT)
        .setPgBinaryResolver(BundledBinaries.INSTANCE)
        // initdb's options: these come after zonky's "-A trust" and win; pg_hba.conf asks every
        // role, local or over loopback, for its password, and the superuser's is the file's
        .setLocaleConfig("auth", AUTH)
        .setLocaleConfig("pwfile", passwordFile.toAbsolutePath().toString())
        // zonky's own readiness check logs in too
        .setConnectConfig("password", password)
        // zonky turns both off for throw-away test databases; this one keeps history, and the
        // ingestor commits a Kafka offset only once its row is on disk
        .setServerConfig("fsync", "on")
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("listen_addresses", "localhost")
        // the socket in the data directory (0700), not in the world-writable /tmp; relative to it
        .setServerConfig("unix_socket_directories", ".")
        .setServerConfig("password_encryption", AUTH)
        .start();
  }

  /** Whether pg_hba.conf lets anyone in without a password, as initdb's "-A trust" of older stallwatch versions did. */
  static boolean trustsSomeone(Path dir) throws IOException {
    for (String line : Files.readAllLines(dir.resolve(HBA_FILE), StandardCharsets.UTF_8)) {
      String rule = line.replaceFirst("#.*", "").trim();
      if (!rule.isEmpty() && List.of(rule.split("\\s+")).contains("trust")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Gives the superuser {@code password} and replaces pg_hba.conf with password rules, on a
   * stopped server: through PostgreSQL's single-user mode, so no login without a password is
   * ever possible on the way.
   */
  private static void upgradeFromTrust(Path dir, String password) throws IOException {
    LOG.warn("the embedded PostgreSQL in {} lets every local user in without a password (created by an older"
        + " stallwatch): setting a password and requiring it", dir);
    Path postgres = binaries().resolve("bin/postgres");
    List<String> command = new ArrayList<>();
    if (LinuxUtils.isUnshareAvailable()) {
      command.addAll(List.of("unshare", "-U")); // as zonky runs it: PostgreSQL refuses to run as root
    }
    command.addAll(List.of(postgres.toString(), "--single", "-D", dir.toString(), "postgres"));
    Process single = new ProcessBuilder(command).redirectErrorStream(true).start();
    single.getOutputStream().write(("ALTER ROLE " + SUPERUSER + " PASSWORD '" + password.replace("'", "''") + "'\n")
        .getBytes(StandardCharsets.UTF_8));
    single.getOutputStream().close();
    String output = new String(single.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!single.waitFor(ORPHAN_STOP_WAIT.toSeconds(), TimeUnit.SECONDS) || single.exitValue() != 0
          || output.contains("ERROR")) {
        single.destroyForcibly();
        throw new IOException("could not set the superuser's password in single-user mode: " + output.strip()
            + "; move " + dir + " away to start a new store");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while upgrading " + dir, e);
    }
    Path hba = dir.resolve(HBA_FILE);
    Path temp = Files.createTempFile(dir, HBA_FILE, ".new",
        PosixFilePermissions.asFileAttribute(SecretFile.OWNER_FILE));
    Files.writeString(temp, hbaRules(), StandardCharsets.UTF_8);
    Files.move(temp, hba, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    LOG.info("the embedded PostgreSQL in {} now asks every role for its password", dir);
  }

  /** What initdb --auth=scram-sha-256 writes, for the upgrade of a data directory that trusted everyone. */
  private static String hbaRules() {
    return "# written by stallwatch: every role logs in with its password, on loopback or the socket in this directory\n"
        + "# TYPE  DATABASE     USER  ADDRESS        METHOD\n"
        + "local   all          all                  " + AUTH + "\n"
        + "host    all          all   127.0.0.1/32   " + AUTH + "\n"
        + "host    all          all   ::1/128        " + AUTH + "\n"
        + "local   replication  all                  " + AUTH + "\n"
        + "host    replication  all   127.0.0.1/32   " + AUTH + "\n"
        + "host    replication  all   ::1/128        " + AUTH + "\n";
  }

  /**
   * Where zonky unpacked PostgreSQL's binaries (it does so once per resolver). zonky only runs
   * initdb, pg_ctl and postgres itself; single-user mode for the upgrade needs the path.
   */
  private static Path binaries() throws IOException {
    try {
      Method prepare = EmbeddedPostgres.class.getDeclaredMethod("prepareBinaries",
          PgBinaryResolver.class, File.class);
      prepare.setAccessible(true);
      return ((File) prepare.invoke(null, BundledBinaries.INSTANCE, null)).toPath();
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IOException("cannot find the PostgreSQL binaries to upgrade the store (" + e + ")", e);
    }
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
  private static EmbeddedPostgresServer attach(Path dir, String password) throws IOException {
    long deadline = System.nanoTime() + ATTACH_WAIT.toNanos();
    while (true) {
      Optional<Integer> port = runningPort(dir);
      if (port.isPresent() && accepts(port.get(), password)) {
        LOG.info("using the embedded PostgreSQL that another process runs in {} on port {}", dir, port.get());
        return new EmbeddedPostgresServer(dir, port.get(), password, null);
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

  private static boolean accepts(int port, String password) {
    try (Connection c = dataSource(port, "postgres", password).getConnection()) {
      return c.isValid(2);
    } catch (SQLException e) {
      LOG.debug("PostgreSQL on port {} does not answer yet: {}", port, e.getMessage());
      return false;
    }
  }

  private void createDatabase() throws SQLException {
    try (Connection c = dataSource(port, "postgres", password).getConnection();
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

  /** The stallwatch database, as the superuser, with its password. */
  PGSimpleDataSource dataSource() {
    return dataSource(port, DATABASE, password);
  }

  private static PGSimpleDataSource dataSource(int port, String database, String password) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {"127.0.0.1"});
    ds.setPortNumbers(new int[] {port});
    ds.setDatabaseName(database);
    ds.setUser(SUPERUSER);
    ds.setPassword(password);
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
