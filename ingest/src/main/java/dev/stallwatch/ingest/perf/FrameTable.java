package dev.stallwatch.ingest.perf;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Frame names (in the folded format) as dense ids, so that stacks travel as int arrays and a name
 * is made once per distinct frame, not once per sample. Ids are never reused. Thread-safe: the
 * reader adds names on perf's thread while windows are named on another.
 */
public final class FrameTable {
  private final Map<String, Integer> ids = new HashMap<>();
  private final List<String> names = new ArrayList<>();

  public synchronized int id(String name) {
    Integer id = ids.get(name);
    if (id == null) {
      id = names.size();
      names.add(name);
      ids.put(name, id);
    }
    return id;
  }

  public synchronized String name(int id) {
    return names.get(id);
  }

  public synchronized int size() {
    return names.size();
  }
}
