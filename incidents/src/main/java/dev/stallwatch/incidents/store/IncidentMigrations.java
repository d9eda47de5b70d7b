package dev.stallwatch.incidents.store;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The schema of the incident store: versioned SQL files in {@code db/migration} on the classpath
 * ({@code V1__incidents.sql}, {@code V2__reader_role.sql}, ...), applied in order by Flyway.
 *
 * <p>Flyway rather than our own runner: it records each applied version with a checksum (an edited
 * migration fails loudly instead of drifting), takes a database lock so that two processes
 * starting at once do not both migrate, and is what operators of a real server already know.
 */
public final class IncidentMigrations {
  public static final String LOCATION = "classpath:db/migration";
  /** The role the query side reads with; created (or only granted to) by V2. */
  public static final String READER_ROLE = "stallwatch_reader";

  private IncidentMigrations() {}

  /** Applies the pending migrations; returns the schema version now in place. */
  public static String apply(DataSource dataSource, String where) {
    try {
      MigrateResult result = flyway(dataSource).migrate();
      return result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion;
    } catch (FlywayException e) {
      throw new IncidentStoreException("could not migrate the incident store (" + where + "): " + e.getMessage(), e);
    }
  }

  static Flyway flyway(DataSource dataSource) {
    return Flyway.configure(IncidentMigrations.class.getClassLoader())
        .dataSource(dataSource)
        .locations(LOCATION)
        // a misnamed file in db/migration fails instead of being skipped
        .validateMigrationNaming(true)
        .load();
  }
}
