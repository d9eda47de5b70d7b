package dev.stallwatch.app.cli;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends a long-running command with exit 1 when one of its threads dies (an uncaught exception, an
 * {@link OutOfMemoryError}) instead of leaving the process up and doing nothing. The exit runs the
 * shutdown hooks, which stop perf and flush the spool; if they hang, the child processes are
 * killed and the JVM halts after {@link #GRACE}.
 */
final class FatalErrors {
  static final int EXIT = 1;
  static final Duration GRACE = Duration.ofSeconds(10);
  private static final AtomicBoolean DYING = new AtomicBoolean();

  private FatalErrors() {}

  /** Makes every thread's death end {@code command}'s process; returns the handler to restore after the command. */
  static Thread.UncaughtExceptionHandler install(String command) {
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, e) -> fatal(command, thread.getName(), e));
    return previous;
  }

  /** Exits once, however many threads fail. */
  static void fatal(String command, String where, Throwable e) {
    if (!DYING.compareAndSet(false, true)) {
      return;
    }
    try {
      System.err.println("stallwatch " + command + ": fatal: " + e + " in " + where + "; exiting");
    } catch (Throwable ignored) {
      // stderr may be gone or memory short: exit all the same
    }
    Thread reaper = new Thread(() -> {
      try {
        Thread.sleep(GRACE.toMillis());
      } catch (InterruptedException ignored) {
        // halt now
      }
      ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
      Runtime.getRuntime().halt(EXIT);
    }, "stallwatch-fatal-reaper");
    reaper.setDaemon(true);
    reaper.start();
    // not on the failing thread: a shutdown hook may wait for it
    new Thread(() -> System.exit(EXIT), "stallwatch-fatal-exit").start();
  }
}
