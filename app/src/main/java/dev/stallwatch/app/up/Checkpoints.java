package dev.stallwatch.app.up;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The detection job's retained checkpoints under one directory, as Flink writes them:
 * {@code DIR/JOB_ID/chk-N/_metadata}. A checkpoint counts once its {@code _metadata} exists: Flink
 * writes that file last, so a checkpoint cut short by a crash is never picked.
 */
public final class Checkpoints {
  private static final Pattern CHECKPOINT = Pattern.compile("chk-(\\d+)");
  static final String METADATA = "_metadata";

  private Checkpoints() {}

  /** The newest complete checkpoint (by the time its metadata was written, then by number), if any. */
  public static Optional<Path> latest(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    List<Path> jobs;
    try (Stream<Path> list = Files.list(dir)) {
      jobs = list.filter(Files::isDirectory).toList();
    }
    Path best = null;
    FileTime bestTime = null;
    long bestNumber = -1;
    for (Path job : jobs) {
      List<Path> checkpoints;
      try (Stream<Path> list = Files.list(job)) {
        checkpoints = list.filter(p -> CHECKPOINT.matcher(p.getFileName().toString()).matches())
            .filter(p -> Files.isRegularFile(p.resolve(METADATA)))
            .sorted(Comparator.comparing(Path::toString))
            .toList();
      }
      for (Path checkpoint : checkpoints) {
        FileTime time = Files.getLastModifiedTime(checkpoint.resolve(METADATA));
        long number = Long.parseLong(checkpoint.getFileName().toString().substring("chk-".length()));
        int order = bestTime == null ? 1 : time.compareTo(bestTime);
        if (order > 0 || (order == 0 && number > bestNumber)) {
          best = checkpoint;
          bestTime = time;
          bestNumber = number;
        }
      }
    }
    return Optional.ofNullable(best);
  }
}
