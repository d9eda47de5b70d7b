package dev.stallwatch.app.cli;

import dev.stallwatch.ingest.collector.CollectorHttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where {@code stallwatch demo --serve} listens; the defaults are the ports the Grafana README uses. */
public final class DemoServeOptions {
  static final String NAMES = "--listen, --collector-listen, --flink-metrics-port and --prometheus-config";
  static final String DEFAULT_LISTEN = "127.0.0.1:8080";
  static final int DEFAULT_FLINK_METRICS_PORT = 9249;

  @Option(names = "--listen", paramLabel = "HOST:PORT",
      description = "With --serve: the incident pages, API and /metrics (default: " + DEFAULT_LISTEN + ").")
  String listen;

  @Option(names = "--collector-listen", paramLabel = "HOST:PORT",
      description = "With --serve: the collector's /metrics for the bundle it publishes (default: "
          + CollectorHttpServer.DEFAULT_ADDRESS + ").")
  String collectorListen;

  @Option(names = "--flink-metrics-port", paramLabel = "PORT",
      description = "With --serve: the port of Flink's Prometheus reporter, on every interface (default: "
          + DEFAULT_FLINK_METRICS_PORT + ").")
  String flinkMetricsPort;

  @Option(names = "--prometheus-config", paramLabel = "FILE",
      description = "With --serve: write a Prometheus configuration that scrapes the demo here "
          + "(default: DATA_DIR/demo/prometheus.yml).")
  Path prometheusConfig;

  boolean anyGiven() {
    return listen != null || collectorListen != null || flinkMetricsPort != null || prometheusConfig != null;
  }

  InetSocketAddress listen() {
    return ListenAddress.parse("--listen", listen != null ? listen : DEFAULT_LISTEN);
  }

  InetSocketAddress collectorListen() {
    return ListenAddress.parse("--collector-listen",
        collectorListen != null ? collectorListen : CollectorHttpServer.DEFAULT_ADDRESS);
  }

  int flinkMetricsPort() {
    return flinkMetricsPort == null ? DEFAULT_FLINK_METRICS_PORT
        : ListenAddress.port("--flink-metrics-port", flinkMetricsPort);
  }

  Path prometheusConfig(Path dataDir) {
    return prometheusConfig != null ? prometheusConfig : dataDir.resolve("demo").resolve("prometheus.yml");
  }
}
