package dev.stallwatch.app.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.Properties;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.prometheus.AbstractPrometheusReporter;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * Flink's Prometheus reporter on one address of our choosing. Flink's own
 * {@code PrometheusReporterFactory} binds every interface and has no host option; this one serves
 * the same series (the same {@link AbstractPrometheusReporter}) on {@code host} (default
 * 127.0.0.1) and {@code port}, and fails the reporter when the port cannot be bound.
 */
public final class LoopbackPrometheusReporterFactory implements MetricReporterFactory {
  public static final String ARG_HOST = "host";
  public static final String ARG_PORT = "port";
  public static final String DEFAULT_HOST = "127.0.0.1";

  @Override
  public MetricReporter createMetricReporter(Properties properties) {
    MetricConfig config = (MetricConfig) properties;
    String host = config.getString(ARG_HOST, DEFAULT_HOST);
    int port = config.getInteger(ARG_PORT, 9249);
    try {
      return new Reporter(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve Flink's metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** The series of Flink's reporter, served by the Prometheus client's HTTP server on one address. */
  static final class Reporter extends AbstractPrometheusReporter {
    private final io.prometheus.client.exporter.HTTPServer server;

    Reporter(InetSocketAddress address) throws IOException {
      server = new io.prometheus.client.exporter.HTTPServer(address, registry(this));
      log.info("serving Flink's metrics for Prometheus on {}", address);
    }

    /** The reporter's registry is package-private in Flink; reading it keeps the series identical to Flink's reporter. */
    private static io.prometheus.client.CollectorRegistry registry(AbstractPrometheusReporter reporter) {
      try {
        Field field = AbstractPrometheusReporter.class.getDeclaredField("registry");
        field.setAccessible(true);
        return (io.prometheus.client.CollectorRegistry) field.get(reporter);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("this Flink's AbstractPrometheusReporter has no registry field: "
            + "update LoopbackPrometheusReporterFactory", e);
      }
    }

    @Override
    public void close() {
      server.stop();
      super.close();
    }
  }
}
