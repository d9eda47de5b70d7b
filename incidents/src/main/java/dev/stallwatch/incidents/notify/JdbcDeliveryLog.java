package dev.stallwatch.incidents.notify;

import dev.stallwatch.incidents.store.Transactions;
import dev.stallwatch.schemas.alerts.v1.AlertEventType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The delivery log in the incident store's {@code notifier_deliveries} table (migration V4), so
 * that a restarted notifier, or a second one of the group, still knows what went out. Errors are
 * thrown; the notifier then pages anyway (see {@link ReceiverWorker}).
 */
public final class JdbcDeliveryLog implements DeliveryLog {
  private final DataSource dataSource;

  public JdbcDeliveryLog(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  @Override
  public boolean delivered(String incidentId, String receiver, AlertEventType eventType) {
    try (Connection c = dataSource.getConnection();
         PreparedStatement s = c.prepareStatement(
             "SELECT 1 FROM notifier_deliveries WHERE incident_id = ? AND receiver = ? AND event_type = ?")) {
      s.setString(1, incidentId);
      s.setString(2, receiver);
      s.setString(3, eventType.name());
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the notifier's deliveries: " + e.getMessage(), e);
    }
  }

  @Override
  public void record(String incidentId, String receiver, AlertEventType eventType) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement s = c.prepareStatement(
          "INSERT INTO notifier_deliveries (incident_id, receiver, event_type) VALUES (?, ?, ?)"
              + " ON CONFLICT DO NOTHING")) {
        Transactions.ensureDurableCommit(c);
        s.setString(1, incidentId);
        s.setString(2, receiver);
        s.setString(3, eventType.name());
        s.executeUpdate();
        c.commit();
      } catch (SQLException e) {
        Transactions.rollbackAfter(c, e);
        throw e;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot record the notifier's delivery: " + e.getMessage(), e);
    }
  }
}
