package dev.stallwatch.incidents.store;

import java.nio.file.Path;

/**
 * A stallwatch-like process for {@link EmbeddedPostgresServerTest}: opens the embedded store on a
 * directory, writes one incident, says "ready" on stdout and waits to be killed.
 */
public final class EmbeddedStoreHolder {
  private EmbeddedStoreHolder() {}

  public static void main(String[] args) throws Exception {
    IncidentDatabase database = IncidentDatabase.open(DatabaseOptions.embedded(Path.of(args[0])));
    database.store().write(TestAlerts.open(args[1]));
    System.out.println("ready");
    System.out.flush();
    // wait for SIGKILL: stdin stays open until the test ends the process
    System.in.read();
  }
}
