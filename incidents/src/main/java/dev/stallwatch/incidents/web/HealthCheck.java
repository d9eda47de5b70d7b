package dev.stallwatch.incidents.web;

/** Asks one part of the service how it is; must answer within seconds and never throw. */
@FunctionalInterface
public interface HealthCheck {
  Health check();
}
