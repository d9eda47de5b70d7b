package dev.stallwatch.jobs.events;

/** A record that could not be decoded, with where it came from and why. */
public class DeadLetter {

  public String topic;
  public int partition;
  public long offset;
  /** The record's Kafka timestamp, epoch ms. */
  public long timestamp;
  public byte[] key;
  public byte[] value;
  public String error;
  public DeadLetterReason reason;

  public DeadLetter() {}
}
