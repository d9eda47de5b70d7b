package dev.stallwatch.incidents.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every writing transaction of the store does, whichever table it writes. */
public final class Transactions {
  private static final Logger LOG = LoggerFactory.getLogger(Transactions.class);

  private Transactions() {}

  /**
   * With {@code synchronous_commit = off} a commit returns before its WAL is flushed, and a
   * server crash could lose a row whose Kafka offset is already committed. Turn it on for this
   * transaction only; every stronger setting (local, remote_write, on, remote_apply) stays.
   */
  public static void ensureDurableCommit(Connection c) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(
        "SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') = 'off'");
         ResultSet rs = s.executeQuery()) {
      if (rs.next()) {
        LOG.warn("the incident store's connection had synchronous_commit = off; using 'on' for its writes so that "
            + "a committed row survives a server crash");
      }
    }
  }

  /** Rolls back after {@code cause}; a failed rollback is added to it (the connection is likely gone). */
  public static void rollbackAfter(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      // the transaction dies with the connection. Keep the first error.
      cause.addSuppressed(e);
    }
  }
}
