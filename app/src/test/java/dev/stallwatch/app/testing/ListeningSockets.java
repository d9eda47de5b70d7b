package dev.stallwatch.app.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The TCP sockets a process listens on, as the kernel sees them: the socket inodes among its
 * {@code /proc/PID/fd} matched against the LISTEN entries of {@code /proc/net/tcp} and {@code tcp6}.
 */
public final class ListeningSockets {
  /** One listening socket: its address as bound (0.0.0.0 or :: is every interface). */
  public record Listener(long pid, InetAddress address, int port) {
    public boolean loopback() {
      return address.isLoopbackAddress();
    }

    @Override
    public String toString() {
      return address.getHostAddress() + ":" + port + " (pid " + pid + ")";
    }
  }

  private static final String LISTEN = "0A";

  private ListeningSockets() {}

  /** Every TCP socket the processes {@code pids} listen on. */
  public static List<Listener> of(long... pids) {
    List<Listener> listeners = new ArrayList<>();
    for (long pid : pids) {
      Set<Long> inodes = socketInodes(pid);
      for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
        for (String line : lines(Path.of(table))) {
          String[] f = line.trim().split("\\s+");
          if (f.length < 10 || !f[3].equals(LISTEN) || !inodes.contains(Long.parseLong(f[9]))) {
            continue;
          }
          String[] local = f[1].split(":");
          listeners.add(new Listener(pid, address(local[0]), Integer.parseInt(local[1], 16)));
        }
      }
    }
    return listeners;
  }

  private static Set<Long> socketInodes(long pid) {
    Set<Long> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(Long.parseLong(target.substring("socket:[".length(), target.length() - 1)));
          }
        } catch (NoSuchFileException closedMeanwhile) {
          // the process closed it while we listed
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the sockets of pid " + pid, e);
    }
    return inodes;
  }

  private static List<String> lines(Path table) {
    try {
      List<String> all = Files.readAllLines(table);
      return all.subList(1, all.size()); // the header
    } catch (NoSuchFileException e) {
      return List.of(); // no IPv6 here
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The kernel's hex address: 4-byte words, each in host (little-endian) order. */
  static InetAddress address(String hex) {
    byte[] bytes = new byte[hex.length() / 2];
    for (int word = 0; word < bytes.length / 4; word++) {
      for (int i = 0; i < 4; i++) {
        int at = (word * 4 + (3 - i)) * 2;
        bytes[word * 4 + i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
      }
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an address: " + hex, e);
    }
  }
}
