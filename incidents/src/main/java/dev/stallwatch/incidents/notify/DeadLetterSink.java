package dev.stallwatch.incidents.notify;

/** Where dead letters go; {@link KafkaDeadLetterSink} writes them to {@code stallwatch.deadletter.v1}. */
public interface DeadLetterSink extends AutoCloseable {

  /**
   * Returns once the letter is durable: the alert's offset may be committed afterwards.
   *
   * @throws IllegalStateException when the letter could not be written
   */
  void send(DeadLetter letter) throws InterruptedException;

  @Override
  void close();
}
