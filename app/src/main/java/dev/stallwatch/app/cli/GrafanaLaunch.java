package dev.stallwatch.app.cli;

import java.time.Instant;

/** How to run Grafana against {@code demo --serve} with the provisioning in {@code deploy/grafana/}. */
final class GrafanaLaunch {
  /** The uid of dashboards/stallwatch-container.json. */
  static final String CONTAINER_DASHBOARD_UID = "stallwatch-container";
  static final String GRAFANA_URL = "http://127.0.0.1:3000";

  private GrafanaLaunch() {}

  /** A {@code docker run} line; {@code home} is the Stallwatch checkout (deploy/ and dashboards/). */
  static String command(String home, String prometheusUrl, String postgresHost, int postgresPort, String user) {
    return "docker run --rm --network host"
        + " -e STALLWATCH_PROMETHEUS_URL=" + prometheusUrl
        + " -e STALLWATCH_POSTGRES_HOST=" + postgresHost
        + " -e STALLWATCH_POSTGRES_PORT=" + postgresPort
        + " -e STALLWATCH_POSTGRES_USER=" + user
        + " -v " + home + "/deploy/grafana/provisioning:/etc/grafana/provisioning:ro"
        + " -v " + home + "/dashboards:/var/lib/grafana/dashboards/stallwatch:ro"
        + " grafana/grafana";
  }

  /** The container drill-down for one container over an incident's time range. */
  static String containerDashboard(String containerId, Instant from, Instant to) {
    return GRAFANA_URL + "/d/" + CONTAINER_DASHBOARD_UID + "?var-container=" + containerId
        + "&from=" + from.toEpochMilli() + "&to=" + to.toEpochMilli();
  }
}
