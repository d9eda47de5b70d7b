package dev.stallwatch.app.embedded;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Stopping the parts of an embedded stack: every part is closed, whatever the others do. */
public final class Shutdown {
  private Shutdown() {}

  /** Closes in the given order, collecting failures as suppressed exceptions of {@code failure}. */
  public static void closeAll(List<? extends AutoCloseable> closeables, Exception failure) {
    for (AutoCloseable closeable : closeables) {
      try {
        closeable.close();
      } catch (Exception e) {
        failure.addSuppressed(e);
      }
    }
  }

  /** The parts started so far, the newest first: the order to stop them in after a failed start. */
  public static List<AutoCloseable> newestFirst(List<AutoCloseable> started) {
    List<AutoCloseable> reversed = new ArrayList<>(started);
    Collections.reverse(reversed);
    return reversed;
  }
}
