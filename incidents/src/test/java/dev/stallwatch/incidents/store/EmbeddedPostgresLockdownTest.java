package dev.stallwatch.incidents.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, finding 1: the embedded PostgreSQL let every local user in as superuser (pg_hba.conf
 * "trust"), and COPY ... TO PROGRAM then ran commands as the store's owner. Here an unprivileged
 * user ({@code nobody}, through runuser) tries exactly that with the real psql.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedPostgresLockdownTest {
  @TempDir
  Path dir;

  private record Result(int exit, String output) {}

  @Test
  void aLocalUserWithoutThePasswordCannotLogInNorRunPrograms() throws Exception {
    Path marker = dir.resolve("copy-to-program-ran");
    try (IncidentDatabase database = IncidentDatabase.open(DatabaseOptions.embedded(dir.resolve("data")))) {
      int port = port(database);
      String copy = "COPY (SELECT 1) TO PROGRAM 'touch " + marker + "'";
      for (String host : List.of("127.0.0.1", "localhost")) {
        Result refused = psqlAsNobody(host, port, Map.of(), copy);
        assertThat(refused.exit()).as("psql as nobody on %s: %s", host, refused.output()).isNotZero();
        assertThat(refused.output()).containsAnyOf("password authentication failed", "no password supplied");
      }
      assertThat(marker).as("COPY ... TO PROGRAM without the password").doesNotExist();
      // the socket is in the 0700 data directory, not in /tmp where anyone reaches it
      assertThat(Path.of("/tmp/.s.PGSQL." + port)).doesNotExist();
      Result socket = psqlAsNobody(dir.resolve("data/postgres").toString(), port, Map.of(), "SELECT 1");
      assertThat(socket.exit()).as(socket.output()).isNotZero();

      // the same client with the password gets in: the refusal above is the password's doing
      String password = Files.readString(database.options().superuserPasswordFile()).strip();
      Result allowed = psqlAsNobody("127.0.0.1", port, Map.of("PGPASSWORD", password), "SELECT current_user");
      assertThat(allowed.exit()).as(allowed.output()).isZero();
      assertThat(allowed.output()).contains("postgres");
    }
  }

  @Test
  void theSuperusersPasswordIsInAFileOnlyItsOwnerReads() throws Exception {
    DatabaseOptions options = DatabaseOptions.embedded(dir.resolve("data"));
    try (IncidentDatabase database = IncidentDatabase.open(options)) {
      Path file = options.superuserPasswordFile();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(options.secretsDir())))
          .isEqualTo("rwx------");
      assertThat(Files.readString(file).strip()).hasSizeGreaterThanOrEqualTo(40);
      assertThat(file.getParent()).isEqualTo(options.dataDir().resolve("secrets"));
      assertThat(database.describe()).doesNotContain(Files.readString(file).strip());
    }
    // a second start uses the same password (the server has it since initdb)
    try (IncidentDatabase again = IncidentDatabase.open(options)) {
      assertThat(again.schemaVersion()).isEqualTo("4");
    }
  }

  @Test
  void aDataDirectoryThatTrustedEveryoneIsUpgradedAndKeepsItsRows() throws Exception {
    DatabaseOptions options = DatabaseOptions.embedded(dir.resolve("data"));
    try (IncidentDatabase database = IncidentDatabase.open(options)) {
      database.store().write(TestAlerts.open("from-the-trust-days"));
    }
    // as initdb -A trust wrote it for older stallwatch versions, and no password file
    Files.writeString(options.postgresDir().resolve("pg_hba.conf"), String.join("\n",
        "local   all             all                                     trust",
        "host    all             all             127.0.0.1/32            trust",
        "host    all             all             ::1/128                 trust", ""), StandardCharsets.UTF_8);
    Files.delete(options.superuserPasswordFile());
    assertThat(EmbeddedPostgresServer.trustsSomeone(options.postgresDir())).isTrue();

    try (IncidentDatabase upgraded = IncidentDatabase.open(options)) {
      assertThat(EmbeddedPostgresServer.trustsSomeone(options.postgresDir())).isFalse();
      assertThat(new dev.stallwatch.incidents.query.IncidentQuery(upgraded.readOnlyDataSource())
          .findById("from-the-trust-days")).isPresent();
      Result refused = psqlAsNobody("127.0.0.1", port(upgraded), Map.of(), "SELECT 1");
      assertThat(refused.exit()).as(refused.output()).isNotZero();
      assertThat(refused.output()).containsAnyOf("password authentication failed", "no password supplied");
    }
  }

  private static int port(IncidentDatabase database) {
    return URI.create(database.jdbcUrl().substring("jdbc:".length())).getPort();
  }

  /** psql as the unprivileged user nobody, never prompting for a password (-w). */
  private static Result psqlAsNobody(String host, int port, Map<String, String> env, String sql) throws Exception {
    List<String> command = new ArrayList<>(List.of(tool("runuser"), "-u", "nobody", "--", tool("psql"),
        "-X", "-w", "-h", host, "-p", Integer.toString(port), "-U", "postgres", "-d", EmbeddedPostgresServer.DATABASE,
        "-At", "-c", sql));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(Path.of("/").toFile());
    builder.environment().remove("PGPASSWORD");
    builder.environment().putAll(env);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("psql did not end within 30 s: " + output);
    }
    return new Result(process.exitValue(), output);
  }

  private static String tool(String name) throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/usr/sbin").split(":")) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
      if (Files.isExecutable(Path.of(dir, name))) {
        return Path.of(dir, name).toString();
      }
    }
    return fail(name + " not found on PATH: this test runs psql as the user nobody through runuser; install "
        + "postgresql-client and util-linux (apt-get install -y --no-install-recommends postgresql-client util-linux)");
  }
}
