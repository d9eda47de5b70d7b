package dev.stallwatch.incidents.store;

import java.sql.SQLException;

/**
 * The incident database failed or cannot be reached; the message says which and why.
 * {@link #rejected()} tells a write the database will never accept (bad data) from one that may
 * succeed later (the server is down, a lock timed out, a privilege is missing).
 */
public class IncidentStoreException extends RuntimeException {
  private final boolean rejected;

  public IncidentStoreException(String message, Throwable cause) {
    super(message, cause);
    this.rejected = cause instanceof SQLException sql && isDataError(sql);
  }

  public IncidentStoreException(String message) {
    super(message);
    this.rejected = false;
  }

  /** True when the database refused the data itself (SQLSTATE class 22 or 23): retrying cannot help. */
  public boolean rejected() {
    return rejected;
  }

  private static boolean isDataError(SQLException e) {
    String state = e.getSQLState();
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }
}
