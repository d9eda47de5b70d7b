package dev.stallwatch.incidents.store;

/**
 * What an {@link IncidentIngestor} did so far.
 *
 * @param records alert records consumed (each counted once per successful batch)
 * @param written alerts that inserted or changed a row
 * @param unchanged alerts that changed nothing (duplicates, replays)
 * @param deadLettered records sent to the dead-letter topic: undecodable, or refused by the database
 * @param failedAttempts batches that failed and were consumed again (store or dead-letter topic unavailable)
 * @param commits offset commits, each after its batch was durable
 */
public record IngestStats(long records, long written, long unchanged, long deadLettered, long failedAttempts,
                          long commits) {}
