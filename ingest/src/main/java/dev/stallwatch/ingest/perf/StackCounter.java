package dev.stallwatch.ingest.perf;

import java.util.Arrays;

/** Sums weights and samples per distinct int sequence (a stack of interned ids), without allocating per sample. */
public final class StackCounter {
  private int[] slots = new int[1 << 12]; // id + 1, 0 = empty
  private long[] hashes = new long[1 << 11];
  private int[] offsets = new int[1 << 11];
  private int[] lengths = new int[1 << 11];
  private long[] counts = new long[1 << 11];
  private long[] samples = new long[1 << 11];
  private int[] arena = new int[1 << 16];
  private int arenaSize;
  private int size;

  public StackCounter() {}

  public int size() {
    return size;
  }

  /** Adds {@code weight} to the sequence {@code head, tail[0..tailLength)}, saturating at Long.MAX_VALUE. */
  public void add(int head, int[] tail, int tailLength, long weight) {
    long hash = hash(head, tail, tailLength);
    int mask = slots.length - 1;
    int s = slot(hash) & mask;
    while (true) {
      int entry = slots[s];
      if (entry == 0) {
        break;
      }
      int id = entry - 1;
      int off = offsets[id];
      if (hashes[id] == hash
          && lengths[id] == tailLength + 1
          && arena[off] == head
          && Arrays.equals(arena, off + 1, off + 1 + tailLength, tail, 0, tailLength)) {
        counts[id] = saturatedAdd(counts[id], weight);
        samples[id]++;
        return;
      }
      s = (s + 1) & mask;
    }
    int id = append(head, tail, tailLength, hash);
    counts[id] = weight;
    samples[id] = 1;
    slots[s] = id + 1;
    if (size * 2 > slots.length) {
      rehash(slots.length * 2);
    }
  }

  /** The sequence of {@code id}: head first. */
  public int[] sequence(int id) {
    return Arrays.copyOfRange(arena, offsets[id], offsets[id] + lengths[id]);
  }

  public long count(int id) {
    return counts[id];
  }

  /** How many adds went into {@code id}. */
  public long samples(int id) {
    return samples[id];
  }

  static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  private int append(int head, int[] tail, int tailLength, long hash) {
    if (size == hashes.length) {
      hashes = Arrays.copyOf(hashes, size * 2);
      offsets = Arrays.copyOf(offsets, size * 2);
      lengths = Arrays.copyOf(lengths, size * 2);
      counts = Arrays.copyOf(counts, size * 2);
      samples = Arrays.copyOf(samples, size * 2);
    }
    int length = tailLength + 1;
    if (arenaSize + length > arena.length) {
      arena = Arrays.copyOf(arena, Math.max(arena.length * 2, arenaSize + length));
    }
    arena[arenaSize] = head;
    System.arraycopy(tail, 0, arena, arenaSize + 1, tailLength);
    int id = size++;
    hashes[id] = hash;
    offsets[id] = arenaSize;
    lengths[id] = length;
    arenaSize += length;
    return id;
  }

  private void rehash(int capacity) {
    slots = new int[capacity];
    int mask = capacity - 1;
    for (int id = 0; id < size; id++) {
      int s = slot(hashes[id]) & mask;
      while (slots[s] != 0) {
        s = (s + 1) & mask;
      }
      slots[s] = id + 1;
    }
  }

  private static long hash(int head, int[] tail, int tailLength) {
    long h = head * 0x9E3779B97F4A7C15L;
    for (int i = 0; i < tailLength; i++) {
      h = (h + tail[i]) * 0xC2B2AE3D27D4EB4FL;
      h ^= h >>> 29;
    }
    return h;
  }

  private static int slot(long hash) {
    return (int) (hash ^ (hash >>> 32));
  }
}
