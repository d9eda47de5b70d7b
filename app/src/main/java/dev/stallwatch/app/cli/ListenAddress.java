package dev.stallwatch.app.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** A {@code HOST:PORT} option value, checked with a one-line {@link UserError} naming the option. */
final class ListenAddress {
  private ListenAddress() {}

  static InetSocketAddress parse(String option, String value) {
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new UserError(option + ": expected HOST:PORT like 127.0.0.1:8080, got '" + value + "'");
    }
    String host = value.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = port(option, value.substring(colon + 1));
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      throw new UserError(option + ": unknown host '" + host + "'", e);
    }
  }

  static int port(String option, String value) {
    int port;
    try {
      port = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new UserError(option + ": the port '" + value + "' is not a number", e);
    }
    if (port < 0 || port > 65535) {
      throw new UserError(option + ": port " + port + " is out of range");
    }
    return port;
  }
}
