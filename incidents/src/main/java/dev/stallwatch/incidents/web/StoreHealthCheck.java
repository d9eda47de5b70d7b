package dev.stallwatch.incidents.web;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the incident store answers: a connection and a round trip. {@code /healthz} is not
 * authenticated, so the answer says only "unreachable"; the reason goes to the log, once per
 * change, not once per probe.
 */
public final class StoreHealthCheck implements HealthCheck {
  private static final Logger LOG = LoggerFactory.getLogger(StoreHealthCheck.class);
  private static final int VALID_TIMEOUT_SECONDS = 2;

  private final DataSource dataSource;
  private final AtomicBoolean lastOk = new AtomicBoolean(true);

  public StoreHealthCheck(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  @Override
  public Health check() {
    try (Connection c = dataSource.getConnection()) {
      if (!c.isValid(VALID_TIMEOUT_SECONDS)) {
        return failed("the connection did not answer within " + VALID_TIMEOUT_SECONDS + " s");
      }
      if (!lastOk.getAndSet(true)) {
        LOG.warn("the incident store is reachable again");
      }
      return Health.ok("reachable");
    } catch (SQLException e) {
      return failed(e.getMessage());
    }
  }

  private Health failed(String reason) {
    if (lastOk.getAndSet(false)) {
      LOG.warn("the incident store is unreachable: {}", reason);
    }
    return Health.failing("unreachable (see the server log)");
  }
}
