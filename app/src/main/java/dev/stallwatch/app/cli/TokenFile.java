package dev.stallwatch.app.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/** A bearer token kept in a file that only its owner may read (mode 0600 or 0400). */
final class TokenFile {
  private static final Set<PosixFilePermission> OTHERS = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

  private TokenFile() {}

  /**
   * The first line of {@code file}, so that the line feed {@code echo} adds is no part of the token.
   *
   * @throws UserError naming {@code option} and the file when it is missing, readable by others or unreadable
   */
  static String read(Path file, String option) {
    if (!Files.isRegularFile(file)) {
      throw new UserError(option + " " + file + ": no such file");
    }
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
      if (permissions.stream().anyMatch(OTHERS::contains)) {
        throw new UserError(option + " " + file + ": the token file is " + PosixFilePermissions.toString(permissions)
            + "; it must be readable by its owner only (chmod 600 " + file + ")");
      }
      return Files.readString(file, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
    } catch (UnsupportedOperationException e) {
      throw new UserError(option + " " + file + ": the file system has no POSIX permissions to keep the token private", e);
    } catch (IOException e) {
      throw new UserError(option + " " + file + ": " + e.getMessage(), e);
    }
  }
}
