package dev.stallwatch.app.notify;

import dev.stallwatch.app.testing.ExternalProcess;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A real Alertmanager (Debian's prometheus-alertmanager) as a child process on a free loopback
 * port, with no cluster port, its own storage and the config the test gives.
 */
final class AlertmanagerProcess implements AutoCloseable {
  static final ExternalProcess.Binary BINARY = new ExternalProcess.Binary("Alertmanager", "stallwatch.alertmanager",
      List.of("prometheus-alertmanager", "alertmanager"), "prometheus-alertmanager");

  private final ExternalProcess process;

  private AlertmanagerProcess(ExternalProcess process) {
    this.process = process;
  }

  /** Starts Alertmanager with {@code config} (YAML) and waits until it is ready; fails the test without the binary. */
  static AlertmanagerProcess start(Path dir, String config) throws IOException {
    Path configFile = Files.writeString(dir.resolve("alertmanager.yml"), config);
    Path storage = Files.createDirectories(dir.resolve("data"));
    int port = ExternalProcess.freePort();
    return new AlertmanagerProcess(ExternalProcess.start(BINARY, dir, port, List.of(
        "--config.file=" + configFile,
        "--storage.path=" + storage,
        "--web.listen-address=127.0.0.1:" + port,
        // no cluster port: this Alertmanager gossips with nobody
        "--cluster.listen-address=",
        "--log.level=info")));
  }

  URI url() {
    return process.url();
  }

  /** GET on its API, e.g. {@code /api/v2/alerts}. */
  String get(String path) throws IOException, InterruptedException {
    return process.get(path);
  }

  @Override
  public void close() {
    process.close();
  }
}
