package dev.stallwatch.ingest.collector;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains a child's stderr on its own thread (a full pipe would stall perf) and keeps its last
 * lines, which say why perf failed.
 */
final class StderrTail {
  private static final Logger LOG = LoggerFactory.getLogger(StderrTail.class);
  private static final int MAX_LINES = 40;

  private final String name;
  private final Deque<String> lines = new ArrayDeque<>();
  private final Thread thread;

  StderrTail(String name, InputStream stderr) {
    this.name = name;
    this.thread = new Thread(() -> drain(stderr), name + "-stderr");
    thread.setDaemon(true);
    thread.start();
  }

  private void drain(InputStream stderr) {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(stderr, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        LOG.debug("{}: {}", name, line);
        synchronized (lines) {
          lines.addLast(line);
          if (lines.size() > MAX_LINES) {
            lines.removeFirst();
          }
        }
      }
    } catch (IOException e) {
      // the stream closes under us when the process is killed: only the tail read so far matters
      LOG.debug("{}: stderr closed: {}", name, e.toString());
    }
  }

  /** The lines read so far, after waiting (briefly) for the process's last words. */
  String text(long waitMillis) {
    try {
      thread.join(waitMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }
}
