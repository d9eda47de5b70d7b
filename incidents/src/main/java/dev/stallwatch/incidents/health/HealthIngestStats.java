package dev.stallwatch.incidents.health;

/**
 * What a {@link HealthIngestor} did so far. Record counts are counted once their batch's offsets
 * are committed.
 *
 * @param written windows upserted (a redelivered window counts again: it replaced its row)
 * @param deadLettered records sent to the dead-letter topic: undecodable, malformed, or refused by the database
 * @param expired windows older than the retention when they arrived: not written, since their
 *     partition would be dropped at once
 * @param failedAttempts batches that failed and were consumed again (store or dead-letter topic unavailable)
 * @param batches polls whose records were stored and committed, each in one transaction
 * @param partitionsDropped daily partitions this ingestor dropped for the retention
 */
public record HealthIngestStats(long written, long deadLettered, long expired, long failedAttempts, long batches,
                                long partitionsDropped) {
  /** Every record consumed and committed, whatever became of it. */
  public long records() {
    return written + deadLettered + expired;
  }
}
