package dev.stallwatch.ingest.perf;

import java.util.Arrays;

/**
 * Interns byte ranges: maps each distinct range to a dense id, without allocating per lookup.
 * Open addressing on a caller-supplied 64-bit hash; the keys live in one growing arena.
 */
final class ByteKeyTable {
  private int[] slots = new int[1 << 12]; // id + 1, 0 = empty
  private long[] hashes = new long[1 << 11];
  private int[] offsets = new int[1 << 11];
  private int[] lengths = new int[1 << 11];
  private byte[] arena = new byte[1 << 16];
  private int arenaSize;
  private int size;

  int size() {
    return size;
  }

  /** Bytes of all keys together. */
  int keyBytes() {
    return arenaSize;
  }

  /** The id of {@code b[from, to)}, or -1. */
  int find(byte[] b, int from, int to, long hash) {
    int mask = slots.length - 1;
    int s = slot(hash) & mask;
    int length = to - from;
    while (true) {
      int entry = slots[s];
      if (entry == 0) {
        return -1;
      }
      int id = entry - 1;
      if (hashes[id] == hash
          && lengths[id] == length
          && Arrays.equals(arena, offsets[id], offsets[id] + length, b, from, to)) {
        return id;
      }
      s = (s + 1) & mask;
    }
  }

  /** Adds {@code b[from, to)}, which must be absent, and returns its new id. */
  int add(byte[] b, int from, int to, long hash) {
    int length = to - from;
    if (size == hashes.length) {
      hashes = Arrays.copyOf(hashes, size * 2);
      offsets = Arrays.copyOf(offsets, size * 2);
      lengths = Arrays.copyOf(lengths, size * 2);
    }
    if (arenaSize + length > arena.length) {
      arena = Arrays.copyOf(arena, Math.max(arena.length * 2, arenaSize + length));
    }
    System.arraycopy(b, from, arena, arenaSize, length);
    int id = size++;
    hashes[id] = hash;
    offsets[id] = arenaSize;
    lengths[id] = length;
    arenaSize += length;
    if (size * 2 > slots.length) {
      rehash(slots.length * 2);
    } else {
      insert(id);
    }
    return id;
  }

  int length(int id) {
    return lengths[id];
  }

  /** Whether {@code b} holds the key {@code id} at {@code from}, ending before {@code limit}. */
  boolean matchesAt(int id, byte[] b, int from, int limit) {
    int length = lengths[id];
    return from + length < limit && Arrays.equals(arena, offsets[id], offsets[id] + length, b, from, from + length);
  }

  /** The interned bytes of {@code id}, copied. */
  byte[] key(int id) {
    return Arrays.copyOfRange(arena, offsets[id], offsets[id] + lengths[id]);
  }

  private void rehash(int capacity) {
    slots = new int[capacity];
    for (int id = 0; id < size; id++) {
      insert(id);
    }
  }

  private void insert(int id) {
    int mask = slots.length - 1;
    int s = slot(hashes[id]) & mask;
    while (slots[s] != 0) {
      s = (s + 1) & mask;
    }
    slots[s] = id + 1;
  }

  private static int slot(long hash) {
    return (int) (hash ^ (hash >>> 32));
  }
}
