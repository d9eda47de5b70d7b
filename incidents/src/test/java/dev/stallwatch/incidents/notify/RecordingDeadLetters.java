package dev.stallwatch.incidents.notify;

import java.util.ArrayList;
import java.util.List;

/** Dead letters kept in memory; the Kafka sink itself is exercised by the app's ITCases. */
final class RecordingDeadLetters implements DeadLetterSink {
  private final List<DeadLetter> letters = new ArrayList<>();

  @Override
  public synchronized void send(DeadLetter letter) {
    letters.add(letter);
  }

  synchronized List<DeadLetter> letters() {
    return List.copyOf(letters);
  }

  @Override
  public void close() {}
}
