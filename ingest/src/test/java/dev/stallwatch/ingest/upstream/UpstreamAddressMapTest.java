package dev.stallwatch.ingest.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpstreamAddressMapTest {
  private static final String ORDERS = "3f9c2b7d81e4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
  private static final String INVENTORY = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

  @TempDir
  Path dir;

  private final UpstreamMetrics metrics = new UpstreamMetrics(new PrometheusRegistry());

  private Path fixture() throws Exception {
    Path file = dir.resolve("upstreams.csv");
    try (InputStream in = getClass().getResourceAsStream("/upstream/upstreams.csv")) {
      Files.copy(in, file);
    }
    return file;
  }

  @Test
  void looksUpAddressesThenHostsWithoutPort() throws Exception {
    UpstreamAddressMap map = UpstreamAddressMap.load(fixture(), metrics);

    assertThat(map.containerFor("10.0.0.7:8080")).contains(ORDERS);
    assertThat(map.containerFor("orders")).contains(ORDERS);
    assertThat(map.containerFor("10.0.1.9:9001")).contains(INVENTORY);
    assertThat(map.containerFor("10.0.1.9")).contains(INVENTORY);
    assertThat(map.containerFor("10.0.0.7:9090")).isEmpty();
    assertThat(map.containerFor("10.0.2.50:8080")).isEmpty();
    assertThat(map.size()).isEqualTo(5);
    // the line without a comma
    assertThat(metrics.addressMapMalformedLines()).isEqualTo(1);
  }

  @Test
  void aRewrittenFileIsReadAgain() throws Exception {
    Path file = dir.resolve("upstreams.csv");
    Files.writeString(file, "10.0.0.7:8080,old-container\n");
    UpstreamAddressMap map = UpstreamAddressMap.load(file, metrics);
    assertThat(map.reloadIfChanged()).isFalse();

    Files.writeString(file, "10.0.0.7:8080,new-container-id\n");
    assertThat(map.reloadIfChanged()).isTrue();
    assertThat(map.containerFor("10.0.0.7:8080")).contains("new-container-id");
  }

  @Test
  void aFileReplacedByRenameIsReadAgain() throws Exception {
    Path file = dir.resolve("upstreams.csv");
    Files.writeString(file, "10.0.0.7:8080,aaaa\n");
    UpstreamAddressMap map = UpstreamAddressMap.load(file, metrics);

    // how deployment tools write: a temp file renamed over the old one (same size here)
    Path tmp = dir.resolve("upstreams.csv.tmp");
    Files.writeString(tmp, "10.0.0.7:8080,bbbb\n");
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

    assertThat(map.reloadIfChanged()).isTrue();
    assertThat(map.containerFor("10.0.0.7:8080")).contains("bbbb");
  }

  @Test
  void aFileThatDisappearsKeepsThePreviousMap() throws Exception {
    Path file = dir.resolve("upstreams.csv");
    Files.writeString(file, "10.0.0.7:8080,aaaa\n");
    UpstreamAddressMap map = UpstreamAddressMap.load(file, metrics);
    Files.delete(file);

    assertThat(map.reloadIfChanged()).isFalse();
    assertThat(map.containerFor("10.0.0.7:8080")).contains("aaaa");
  }

  @Test
  void repeatedAddressesKeepTheFirstAndAreCounted() throws Exception {
    Path file = dir.resolve("upstreams.csv");
    Files.writeString(file, "10.0.0.7:8080,aaaa\n10.0.0.7:8080,bbbb\n,cccc\n10.0.0.9:80,dddd,extra\n");
    UpstreamAddressMap map = UpstreamAddressMap.load(file, metrics);

    assertThat(map.containerFor("10.0.0.7:8080")).contains("aaaa");
    assertThat(map.size()).isEqualTo(1);
    assertThat(metrics.addressMapMalformedLines()).isEqualTo(3);
  }

  @Test
  void aMissingFileAtStartIsAConfigurationError() {
    assertThatThrownBy(() -> UpstreamAddressMap.load(dir.resolve("absent.csv"), metrics))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("absent.csv: no such file");
  }

  @Test
  void hostOfUnderstandsPortsAndIpv6() {
    assertThat(UpstreamAddressMap.hostOf("10.0.0.7:8080")).isEqualTo("10.0.0.7");
    assertThat(UpstreamAddressMap.hostOf("[fd00::7]:8080")).isEqualTo("[fd00::7]");
    assertThat(UpstreamAddressMap.hostOf("fd00::7")).isNull();
    assertThat(UpstreamAddressMap.hostOf("unix:/run/app.sock")).isNull();
    assertThat(UpstreamAddressMap.hostOf("orders")).isNull();
  }
}
