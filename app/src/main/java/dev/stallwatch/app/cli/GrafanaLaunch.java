package dev.stallwatch.app.cli;

import java.nio.file.Path;
import java.time.Instant;

/** How to run Grafana against {@code demo --serve} with the provisioning in {@code deploy/grafana/}. */
final class GrafanaLaunch {
  /** The uids of dashboards/stallwatch-fleet.json and stallwatch-container.json. */
  static final String FLEET_DASHBOARD_UID = "stallwatch-fleet";
  static final String CONTAINER_DASHBOARD_UID = "stallwatch-container";
  static final String GRAFANA_URL = "http://127.0.0.1:3000";
  static final String IMAGE = "grafana/grafana:12.0.0";
  /** The variable of the password in deploy/grafana/provisioning/datasources/stallwatch.yaml. */
  static final String PASSWORD_VARIABLE = "STALLWATCH_POSTGRES_PASSWORD";

  private GrafanaLaunch() {}

  /**
   * A {@code docker run} line, as in deploy/grafana/README.md; {@code home} is the Stallwatch
   * checkout (deploy/ and dashboards/). The password comes from {@code passwordEnvFile} (a 0600
   * file of STALLWATCH_POSTGRES_PASSWORD=...), never on the command line; null: the user sets it.
   */
  static String command(String home, String prometheusUrl, String postgresHost, int postgresPort, String user,
                        Path passwordEnvFile) {
    return "docker run --rm --name stallwatch-grafana --network host"
        + " -v " + home + "/deploy/grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro"
        + " -v " + home + "/deploy/grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro"
        + " -v " + home + "/dashboards:/var/lib/grafana/dashboards/stallwatch:ro"
        + " -e STALLWATCH_PROMETHEUS_URL=" + prometheusUrl
        + " -e STALLWATCH_POSTGRES_HOST=" + postgresHost
        + " -e STALLWATCH_POSTGRES_PORT=" + postgresPort
        + " -e STALLWATCH_POSTGRES_USER=" + user
        + (passwordEnvFile != null ? " --env-file " + passwordEnvFile.toAbsolutePath()
            : " -e STALLWATCH_POSTGRES_PASSWORD=YOUR_READER_PASSWORD")
        + " -e GF_AUTH_ANONYMOUS_ENABLED=true -e GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer"
        + " " + IMAGE;
  }

  /** The fleet over an incident's time range. */
  static String fleetDashboard(Instant from, Instant to) {
    return GRAFANA_URL + "/d/" + FLEET_DASHBOARD_UID + "?from=" + from.toEpochMilli() + "&to=" + to.toEpochMilli();
  }

  /** The container drill-down for one container over an incident's time range. */
  static String containerDashboard(String containerId, Instant from, Instant to) {
    return GRAFANA_URL + "/d/" + CONTAINER_DASHBOARD_UID + "?var-container=" + containerId
        + "&from=" + from.toEpochMilli() + "&to=" + to.toEpochMilli();
  }
}
