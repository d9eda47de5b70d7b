package dev.stallwatch.incidents.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generated password in a file only its owner can read (0600), in a directory only its owner
 * can enter (0700): how the embedded store keeps the passwords of its roles.
 */
public final class SecretFile {
  private static final Logger LOG = LoggerFactory.getLogger(SecretFile.class);
  static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
  private static final SecureRandom RANDOM = new SecureRandom();

  private SecretFile() {}

  /**
   * The secret in {@code file} (its first line), created with 32 random bytes when there is none.
   * Looser permissions on the file or its directory are tightened, with a warning.
   *
   * @throws IOException when the file cannot be read or created
   */
  public static String readOrCreate(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
    }
    tighten(dir, OWNER_DIR);
    if (!Files.exists(file)) {
      byte[] random = new byte[32];
      RANDOM.nextBytes(random);
      String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      Path temp = Files.createTempFile(dir, file.getFileName().toString(), ".new",
          PosixFilePermissions.asFileAttribute(OWNER_FILE));
      try {
        Files.writeString(temp, secret + "\n", StandardCharsets.UTF_8);
        // a link, unlike a rename, never replaces a file another process created meanwhile
        Files.createLink(file, temp);
      } catch (FileAlreadyExistsException raced) {
        LOG.debug("{} was created meanwhile; using that one", file);
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    tighten(file, OWNER_FILE);
    String secret = Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
    if (secret.isEmpty()) {
      throw new IOException(file + " is empty: delete it and a new password is generated only for a new store");
    }
    return secret;
  }

  /** Writes {@code content} to {@code file} readable by its owner only (0600), replacing it atomically. */
  public static void writeOwnerOnly(Path file, String content) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
    }
    tighten(dir, OWNER_DIR);
    Path temp = Files.createTempFile(dir, file.getFileName().toString(), ".new",
        PosixFilePermissions.asFileAttribute(OWNER_FILE));
    try {
      Files.writeString(temp, content, StandardCharsets.UTF_8);
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static void tighten(Path path, Set<PosixFilePermission> wanted) throws IOException {
    Set<PosixFilePermission> actual = Files.getPosixFilePermissions(path);
    if (!actual.equals(wanted)) {
      LOG.warn("{} had permissions {}; setting {}", path, PosixFilePermissions.toString(actual),
          PosixFilePermissions.toString(wanted));
      Files.setPosixFilePermissions(path, wanted);
    }
  }
}
