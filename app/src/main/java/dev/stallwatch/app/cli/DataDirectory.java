package dev.stallwatch.app.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** The check every command with a data directory makes before it starts anything. */
final class DataDirectory {
  private DataDirectory() {}

  /**
   * The data directory a command uses: {@code given} ({@code --data-dir}) or else {@code fallback},
   * checked with {@link #check}; errors name {@code --data-dir} when it was given.
   */
  static Path checked(Path given, Path fallback) {
    Path dir = given != null ? given : fallback;
    check(given != null ? "--data-dir " + dir : "the data directory " + dir, dir);
    return dir;
  }

  /**
   * {@code dir}, or the nearest folder that would hold it, must be a directory this user can
   * write; else a {@link UserError} that starts with {@code option}.
   */
  private static void check(String option, Path dir) {
    Path absolute = dir.toAbsolutePath();
    Path existing = absolute;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      throw new UserError(option + ": no such directory");
    }
    String which = existing.equals(absolute) ? "" : existing + " ";
    if (!Files.isDirectory(existing)) {
      throw new UserError(option + ": " + which + "is a file, not a directory");
    }
    if (!Files.isWritable(existing) || !Files.isExecutable(existing)) {
      throw new UserError(option + ": " + which + "is not writable by this user");
    }
  }
}
