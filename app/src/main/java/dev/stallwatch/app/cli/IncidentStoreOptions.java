package dev.stallwatch.app.cli;

import dev.stallwatch.incidents.store.DatabaseOptions;
import dev.stallwatch.incidents.store.IncidentDatabase;
import dev.stallwatch.incidents.store.IncidentStoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Where the incident store is, for every command that uses it: the embedded PostgreSQL in the
 * data directory (default), or a server at {@code --jdbc-url}.
 */
public final class IncidentStoreOptions {
  public static final String PASSWORD_ENV = "STALLWATCH_DB_PASSWORD";

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Stallwatch's data directory; the embedded PostgreSQL keeps the incident history in DIR/postgres "
          + "(default: ~/.stallwatch).")
  Path dataDir;

  @Option(names = "--jdbc-url", paramLabel = "URL",
      description = "Use this PostgreSQL server instead of the embedded one, e.g. jdbc:postgresql://db:5432/stallwatch.")
  String jdbcUrl;

  @Option(names = "--db-user", paramLabel = "USER", description = "Database user for --jdbc-url.")
  String dbUser;

  @Option(names = "--db-password-file", paramLabel = "FILE",
      description = "File holding the password for --jdbc-url (default: the " + PASSWORD_ENV
          + " environment variable).")
  Path passwordFile;

  /** The store these options name; {@link UserError} for contradictory or unreadable options. */
  public DatabaseOptions databaseOptions() {
    return databaseOptions(System.getenv());
  }

  DatabaseOptions databaseOptions(Map<String, String> env) {
    if (jdbcUrl == null) {
      if (dbUser != null || passwordFile != null) {
        throw new UserError("--db-user and --db-password-file go with --jdbc-url; the embedded store needs neither");
      }
      return DatabaseOptions.embedded(DataDirectory.checked(dataDir, DatabaseOptions.defaultDataDir()));
    }
    if (dataDir != null) {
      throw new UserError("give --data-dir (the embedded store) or --jdbc-url (a server), not both");
    }
    try {
      return DatabaseOptions.server(jdbcUrl, dbUser, password(env));
    } catch (IllegalArgumentException e) {
      throw new UserError("--jdbc-url: " + e.getMessage(), e);
    }
  }

  private String password(Map<String, String> env) {
    if (passwordFile == null) {
      return env.get(PASSWORD_ENV);
    }
    if (!Files.isRegularFile(passwordFile)) {
      throw new UserError("--db-password-file " + passwordFile + ": no such file");
    }
    try {
      // the first line, so that a trailing line feed from 'echo' is no part of the password
      return Files.readString(passwordFile, StandardCharsets.UTF_8).lines().findFirst().orElse("");
    } catch (IOException e) {
      throw new UserError("--db-password-file " + passwordFile + ": " + e.getMessage(), e);
    }
  }

  /**
   * Opens the store. A server that cannot be reached is a user error (the URL, user or password
   * is wrong); an embedded server that cannot start is an internal failure.
   */
  public IncidentDatabase open(DatabaseOptions.Access access) {
    DatabaseOptions options = databaseOptions().withAccess(access);
    try {
      return IncidentDatabase.open(options);
    } catch (IncidentStoreException e) {
      if (options.isEmbedded() && !(e.getCause() instanceof FileSystemException)) {
        throw e;
      }
      // a server's URL, user or password, or a data directory this user cannot use
      throw new UserError(e.getMessage(), e);
    }
  }
}
