package dev.stallwatch.incidents.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.incidents.query.IncidentQuery;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded default: history in a directory that outlives the process. The tests share one
 * directory (initdb once); each starts and stops the server itself.
 */
class EmbeddedPostgresServerTest {
  @TempDir
  static Path dataDir;

  private static boolean stored(IncidentDatabase database, String id) {
    return new IncidentQuery(database.readOnlyDataSource()).findById(id).isPresent();
  }

  @Test
  void aRestartOnTheSameDirectoryKeepsTheRows() {
    try (IncidentDatabase first = IncidentDatabase.open(DatabaseOptions.embedded(dataDir))) {
      first.store().write(TestAlerts.open("kept"));
    }
    assertThat(dataDir.resolve("postgres/postgresql.conf")).exists();
    try (IncidentDatabase second = IncidentDatabase.open(DatabaseOptions.embedded(dataDir))) {
      assertThat(stored(second, "kept")).isTrue();
      assertThat(second.schemaVersion()).isEqualTo("4");
    }
  }

  @Test
  void aSecondOpenUsesTheServerAlreadyRunningThere() {
    try (IncidentDatabase owner = IncidentDatabase.open(DatabaseOptions.embedded(dataDir))) {
      owner.store().write(TestAlerts.open("shared"));
      try (IncidentDatabase guest = IncidentDatabase.open(
          DatabaseOptions.embedded(dataDir).withAccess(DatabaseOptions.Access.READ_ONLY))) {
        assertThat(guest.describe()).contains("run by another stallwatch process");
        assertThat(guest.jdbcUrl()).isEqualTo(owner.jdbcUrl());
        assertThat(stored(guest, "shared")).isTrue();
      }
      // closing the guest left the owner's server running
      assertThat(stored(owner, "shared")).isTrue();
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aServerLeftRunningByAKilledProcessIsStoppedAndItsDataKept() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
        EmbeddedStoreHolder.class.getName(), dataDir.toString(), "before-the-kill")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(),
        StandardCharsets.UTF_8))) {
      assertThat(out.readLine()).isEqualTo("ready");
    }
    holder.destroyForcibly().waitFor();
    List<String> pidFile = Files.readAllLines(dataDir.resolve("postgres/postmaster.pid"));
    long orphan = Long.parseLong(pidFile.get(0).trim());
    assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive)).as("postgres outlives its JVM").contains(true);

    try (IncidentDatabase next = IncidentDatabase.open(DatabaseOptions.embedded(dataDir))) {
      assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      assertThat(stored(next, "before-the-kill")).isTrue();
    }
  }
}
