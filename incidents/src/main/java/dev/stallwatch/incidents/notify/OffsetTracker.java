package dev.stallwatch.incidents.notify;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets may be committed: per partition, everything before the first alert some receiver
 * is still working on. Alerts finish out of order (a fast receiver, a slow one), commits never do.
 * {@link #track}, {@link #committable}, {@link #committed} and {@link #forget} run on the
 * consumer's thread; {@link Partition#done} on the receivers' threads.
 */
final class OffsetTracker {
  private final Object lock = new Object();
  private final Map<TopicPartition, Partition> partitions = new HashMap<>();
  private int inFlight;

  /** One partition's alerts in flight: offset → done. */
  final class Partition {
    private final TreeMap<Long, Boolean> offsets = new TreeMap<>();
    private long committed = -1;
    private boolean forgotten;

    /** Every receiver is through with the alert at {@code offset}. */
    void done(long offset) {
      synchronized (lock) {
        if (!forgotten && Boolean.FALSE.equals(offsets.replace(offset, Boolean.TRUE))) {
          inFlight--;
          lock.notifyAll();
        }
      }
    }

    /** The offset to commit: after the longest run of done alerts from the oldest; -1 when none. */
    private long commitPoint() {
      long point = committed;
      for (Map.Entry<Long, Boolean> entry : offsets.entrySet()) {
        if (!entry.getValue()) {
          break;
        }
        point = entry.getKey() + 1;
      }
      return point;
    }
  }

  /** Starts tracking the alert at {@code offset}; returns the handle its receivers mark done. */
  Partition track(TopicPartition partition, long offset) {
    synchronized (lock) {
      Partition p = partitions.computeIfAbsent(partition, tp -> new Partition());
      if (p.offsets.putIfAbsent(offset, Boolean.FALSE) == null) {
        inFlight++;
      }
      return p;
    }
  }

  /** The offsets that moved past their last commit. */
  Map<TopicPartition, OffsetAndMetadata> committable() {
    synchronized (lock) {
      Map<TopicPartition, OffsetAndMetadata> ready = new HashMap<>();
      partitions.forEach((tp, p) -> {
        long point = p.commitPoint();
        if (point > p.committed) {
          ready.put(tp, new OffsetAndMetadata(point));
        }
      });
      return ready;
    }
  }

  /** The broker has these commits: drop the alerts before them. */
  void committed(Map<TopicPartition, OffsetAndMetadata> offsets) {
    synchronized (lock) {
      offsets.forEach((tp, commit) -> {
        Partition p = partitions.get(tp);
        if (p != null) {
          p.committed = Math.max(p.committed, commit.offset());
          p.offsets.headMap(commit.offset()).clear();
        }
      });
    }
  }

  /**
   * This consumer no longer owns these partitions: their alerts still in flight may finish, but
   * their offsets are the new owner's to commit.
   */
  void forget(Collection<TopicPartition> revoked) {
    synchronized (lock) {
      for (TopicPartition tp : revoked) {
        Partition p = partitions.remove(tp);
        if (p != null) {
          p.forgotten = true;
          inFlight -= (int) p.offsets.values().stream().filter(done -> !done).count();
        }
      }
      lock.notifyAll();
    }
  }

  /** Alerts some receiver is still working on. */
  int inFlight() {
    synchronized (lock) {
      return inFlight;
    }
  }

  /** Waits until no alert is in flight, or until {@code deadlineNanos} (System.nanoTime()); true if none is. */
  boolean awaitNoneInFlight(long deadlineNanos) throws InterruptedException {
    synchronized (lock) {
      while (inFlight > 0) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return true;
    }
  }
}
