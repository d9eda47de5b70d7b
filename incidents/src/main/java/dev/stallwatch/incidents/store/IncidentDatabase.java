package dev.stallwatch.incidents.store;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The incident store's PostgreSQL, embedded or a server: the one place that decides which, from
 * {@link DatabaseOptions}. Opening it starts the embedded server when needed (or joins the one
 * another stallwatch process runs on the same directory), checks the connection and, for the
 * write side, applies the schema migrations. Connections are opened per use (no pool): the
 * store writes a batch per Kafka poll and the query side answers people.
 */
public final class IncidentDatabase implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(IncidentDatabase.class);

  private final DatabaseOptions options;
  private final EmbeddedPostgresServer embedded;
  private final PGSimpleDataSource dataSource;
  private final PGSimpleDataSource readOnlyDataSource;
  private final String schemaVersion;

  private IncidentDatabase(DatabaseOptions options, EmbeddedPostgresServer embedded, PGSimpleDataSource dataSource,
                           PGSimpleDataSource readOnlyDataSource, String schemaVersion) {
    this.options = options;
    this.embedded = embedded;
    this.dataSource = dataSource;
    this.readOnlyDataSource = readOnlyDataSource;
    this.schemaVersion = schemaVersion;
  }

  /**
   * Opens the store.
   *
   * @throws IncidentStoreException when the server cannot be started or reached, or a migration fails
   */
  public static IncidentDatabase open(DatabaseOptions options) {
    EmbeddedPostgresServer embedded = null;
    try {
      PGSimpleDataSource base;
      if (options.isEmbedded()) {
        embedded = EmbeddedPostgresServer.startOrAttach(options.postgresDir(), options.superuserPasswordFile(),
            options.embeddedPort());
        base = embedded.dataSource();
      } else {
        base = serverDataSource(options);
      }
      checkConnection(base, options);
      // an embedded server belongs to this process (or a sibling): always bring it up to date
      boolean migrate = options.isEmbedded() || options.access() == DatabaseOptions.Access.READ_WRITE;
      String version = migrate ? IncidentMigrations.apply(base, options.describe()) : null;
      PGSimpleDataSource readOnly = copy(base);
      readOnly.setReadOnly(true);
      // also statements outside a transaction: the query side runs with autocommit
      readOnly.setReadOnlyMode("always");
      PGSimpleDataSource writable = options.access() == DatabaseOptions.Access.READ_WRITE ? base : readOnly;
      LOG.info("incident store: {}{}", options.describe(), version == null ? "" : ", schema version " + version);
      return new IncidentDatabase(options, embedded, writable, readOnly, version);
    } catch (RuntimeException e) {
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
  }

  private static PGSimpleDataSource serverDataSource(DatabaseOptions options) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(options.jdbcUrl());
    if (options.user() != null) {
      ds.setUser(options.user());
    }
    if (options.password() != null) {
      ds.setPassword(options.password());
    }
    if (ds.getApplicationName() == null || ds.getApplicationName().equals("PostgreSQL JDBC Driver")) {
      ds.setApplicationName("stallwatch");
    }
    return ds;
  }

  private static PGSimpleDataSource copy(PGSimpleDataSource source) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(source.getURL());
    ds.setUser(source.getUser());
    ds.setPassword(source.getPassword());
    ds.setApplicationName(source.getApplicationName());
    return ds;
  }

  private static void checkConnection(DataSource ds, DatabaseOptions options) {
    try (Connection c = ds.getConnection()) {
      LOG.debug("connected to {} as {}", options.describe(), c.getMetaData().getUserName());
    } catch (SQLException e) {
      throw new IncidentStoreException("cannot connect to the incident store (" + options.describe() + "): "
          + e.getMessage(), e);
    }
  }

  /** Connections for the write side (read-only ones when opened with {@link DatabaseOptions.Access#READ_ONLY}). */
  public DataSource dataSource() {
    return dataSource;
  }

  /** Connections in read-only mode, for the query side: a bug there cannot write. */
  public DataSource readOnlyDataSource() {
    return readOnlyDataSource;
  }

  /** The writer of alerts into this store. */
  public IncidentStore store() {
    if (options.access() != DatabaseOptions.Access.READ_WRITE) {
      throw new IllegalStateException("the incident store was opened read-only; open it with Access.READ_WRITE to write");
    }
    return new IncidentStore(dataSource);
  }

  /** The schema version after the migrations, or null when this process did not migrate. */
  public String schemaVersion() {
    return schemaVersion;
  }

  public DatabaseOptions options() {
    return options;
  }

  /** Where the store is, for messages; never the password. */
  public String describe() {
    if (embedded == null) {
      return options.describe();
    }
    return options.describe() + " on port " + embedded.port()
        + (embedded.owned() ? "" : " (run by another stallwatch process)");
  }

  /**
   * The JDBC URL of the store without a password, e.g. for Grafana or psql (user postgres when
   * embedded, its password in {@link DatabaseOptions#superuserPasswordFile()}).
   */
  public String jdbcUrl() {
    return embedded != null ? "jdbc:postgresql://127.0.0.1:" + embedded.port() + "/" + EmbeddedPostgresServer.DATABASE
        : DatabaseOptions.redact(options.jdbcUrl());
  }

  /** Stops the embedded server when this process started it; a server at a URL stays up. */
  @Override
  public void close() {
    if (embedded != null) {
      embedded.close();
    }
  }
}
