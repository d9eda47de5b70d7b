package dev.stallwatch.incidents.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the incident store lives: an embedded PostgreSQL on a data directory (the default), or a
 * PostgreSQL server at a JDBC URL. {@link IncidentDatabase#open} turns it into a database.
 */
public final class DatabaseOptions {
  /** How the caller uses the store: the write side migrates the schema, the read side may not. */
  public enum Access {
    /** Applies pending migrations at open; connections may write. */
    READ_WRITE,
    /**
     * Connections are read-only. A server at a JDBC URL is not migrated (the query side may use
     * the {@code stallwatch_reader} role, which can create nothing); an embedded server is, since
     * this process owns it.
     */
    READ_ONLY
  }

  private final Path dataDir;
  private final int embeddedPort;
  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final Access access;

  private DatabaseOptions(Path dataDir, int embeddedPort, String jdbcUrl, String user, String password,
                          Access access) {
    this.dataDir = dataDir;
    this.embeddedPort = embeddedPort;
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.access = access;
  }

  /** The default data directory: {@code ~/.stallwatch}. */
  public static Path defaultDataDir() {
    return Path.of(System.getProperty("user.home"), ".stallwatch");
  }

  /**
   * An embedded PostgreSQL whose files live in {@code dataDir/postgres}; created on first use,
   * reused afterwards, shared with another stallwatch process that has it running.
   */
  public static DatabaseOptions embedded(Path dataDir) {
    return new DatabaseOptions(Objects.requireNonNull(dataDir, "dataDir"), 0, null, null, null, Access.READ_WRITE);
  }

  /**
   * A PostgreSQL server.
   *
   * @param jdbcUrl {@code jdbc:postgresql://host:port/database}
   * @param user null to take the user of the URL or the driver's default
   * @param password null when the URL, {@code .pgpass} or trust authentication provide it
   */
  public static DatabaseOptions server(String jdbcUrl, String user, String password) {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("expected a PostgreSQL JDBC URL like jdbc:postgresql://HOST:5432/stallwatch, "
          + "got '" + jdbcUrl + "'");
    }
    return new DatabaseOptions(null, 0, jdbcUrl, user, password, Access.READ_WRITE);
  }

  public DatabaseOptions withAccess(Access access) {
    return new DatabaseOptions(dataDir, embeddedPort, jdbcUrl, user, password, Objects.requireNonNull(access));
  }

  /** A fixed port for the embedded server (0: any free port); tests restart it on the same one. */
  public DatabaseOptions withEmbeddedPort(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range");
    }
    return new DatabaseOptions(dataDir, port, jdbcUrl, user, password, access);
  }

  public boolean isEmbedded() {
    return jdbcUrl == null;
  }

  /** The stallwatch data directory (embedded only); PostgreSQL's files are in its {@code postgres} folder. */
  public Path dataDir() {
    return dataDir;
  }

  public Path postgresDir() {
    return dataDir.resolve("postgres");
  }

  /** The directory (0700) of the embedded store's passwords, each in a 0600 file. */
  public Path secretsDir() {
    return dataDir.resolve("secrets");
  }

  /** The embedded server's superuser password: generated on the first start. */
  public Path superuserPasswordFile() {
    return secretsDir().resolve("postgres-superuser.password");
  }

  public int embeddedPort() {
    return embeddedPort;
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  public String user() {
    return user;
  }

  String password() {
    return password;
  }

  public Access access() {
    return access;
  }

  /** Where the store is, for messages: the URL without a password. */
  public String describe() {
    return isEmbedded() ? "embedded PostgreSQL in " + postgresDir() : redact(jdbcUrl);
  }

  static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&]*", "$1***");
  }

  @Override
  public String toString() {
    return describe() + " (" + access + ")";
  }
}
