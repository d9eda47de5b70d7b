package dev.stallwatch.ingest.upstream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which container an upstream address belongs to, read from a CSV file and read again whenever
 * the file changes (inode, modification time or size), so a deployment hook can rewrite it while
 * the collector runs.
 *
 * <pre>
 * # address,container_id     ('#' starts a comment; blank lines are ignored; this header is optional)
 * 10.0.0.7:8080,3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0
 * 10.0.0.8,9a1b...           (no port: every port of that host)
 * orders,3f9c2b7d81e4...     (any name a source reports, e.g. an Envoy cluster)
 * </pre>
 *
 * An address is looked up as given, then without its port. A line that does not parse, or that
 * repeats an address, is logged with its line number, counted and skipped.
 */
public final class UpstreamAddressMap {
  private static final Logger LOG = LoggerFactory.getLogger(UpstreamAddressMap.class);
  private static final String HEADER = "address,container_id";

  private final Path file;
  private final UpstreamMetrics metrics;
  private volatile Map<String, String> containers;
  private FileVersion loadedVersion;

  private UpstreamAddressMap(Path file, UpstreamMetrics metrics, Map<String, String> containers) {
    this.file = file;
    this.metrics = metrics;
    this.containers = containers;
  }

  /** Reads {@code file}; a missing or unreadable file is a configuration error. */
  public static UpstreamAddressMap load(Path file, UpstreamMetrics metrics) {
    Objects.requireNonNull(file, "file");
    UpstreamAddressMap map = new UpstreamAddressMap(file, Objects.requireNonNull(metrics, "metrics"), Map.of());
    try {
      map.read();
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("upstream address map " + file + ": no such file", e);
    } catch (IOException e) {
      throw new UncheckedIOException("upstream address map " + file + ": " + e.getMessage(), e);
    }
    return map;
  }

  /** A fixed map that never reloads, for collectors without a file (push with container IDs, tests). */
  public static UpstreamAddressMap of(Map<String, String> containers) {
    return new UpstreamAddressMap(null, null, Map.copyOf(containers));
  }

  public Optional<String> containerFor(String address) {
    Map<String, String> current = containers;
    String container = current.get(address);
    if (container == null) {
      String host = hostOf(address);
      if (host != null) {
        container = current.get(host);
      }
    }
    return Optional.ofNullable(container);
  }

  public int size() {
    return containers.size();
  }

  /**
   * Reads the file again if it changed since the last read. When it cannot be read (e.g. it is
   * being replaced), the previous map stays in use and the failure is logged and counted.
   *
   * @return whether the map was reloaded
   */
  public synchronized boolean reloadIfChanged() {
    if (file == null) {
      return false;
    }
    try {
      if (FileVersion.of(file).equals(loadedVersion)) {
        return false;
      }
      read();
      metrics.mapReloads.labelValues("ok").inc();
      LOG.info("upstream address map {} reloaded: {} addresses", file, containers.size());
      return true;
    } catch (IOException e) {
      metrics.mapReloads.labelValues("failed").inc();
      LOG.warn("upstream address map {} could not be read, keeping the previous {} addresses: {}",
          file, containers.size(), e.toString());
      return false;
    }
  }

  private void read() throws IOException {
    // the version is taken before reading: a write during the read makes the next check read again
    FileVersion version = FileVersion.of(file);
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, String> parsed = new HashMap<>();
    Map<String, Integer> firstLine = new HashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      int lineNumber = i + 1;
      String line = lines.get(i);
      int hash = line.indexOf('#');
      String content = (hash >= 0 ? line.substring(0, hash) : line).strip();
      if (content.isEmpty() || content.equals(HEADER)) {
        continue;
      }
      String[] columns = content.split(",", -1);
      if (columns.length != 2 || columns[0].isBlank() || columns[1].isBlank()) {
        skip(lineNumber, "expected " + HEADER);
        continue;
      }
      String address = columns[0].strip();
      Integer earlier = firstLine.putIfAbsent(address, lineNumber);
      if (earlier != null) {
        skip(lineNumber, "address " + address + " was already given on line " + earlier);
        continue;
      }
      parsed.put(address, columns[1].strip());
    }
    containers = Map.copyOf(parsed);
    loadedVersion = version;
    metrics.mapEntries.set(parsed.size());
  }

  private void skip(int lineNumber, String problem) {
    metrics.mapMalformedLines.inc();
    LOG.warn("upstream address map {} line {}: {}; line skipped", file, lineNumber, problem);
  }

  /** The host part of {@code host:port} or {@code [v6]:port}; null when there is no port. */
  static String hostOf(String address) {
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      return close > 0 && address.startsWith("]:", close) ? address.substring(0, close + 1) : null;
    }
    int colon = address.lastIndexOf(':');
    if (colon <= 0 || address.indexOf(':') != colon) {
      return null;
    }
    String port = address.substring(colon + 1);
    return !port.isEmpty() && port.chars().allMatch(Character::isDigit) ? address.substring(0, colon) : null;
  }

  /** What tells one version of the file from another: a rewrite changes time or size, a replace the inode. */
  private record FileVersion(Object fileKey, long modifiedNanos, long size) {
    static FileVersion of(Path file) throws IOException {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return new FileVersion(attributes.fileKey(),
          attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS), attributes.size());
    }
  }
}
