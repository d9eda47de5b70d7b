package dev.stallwatch.app.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
    name = "incidents",
    mixinStandardHelpOptions = true,
    description = {
        "Looks up the incident history: every deadlock alert the detector sent, as stored from the alerts topic "
            + "(by 'stallwatch serve' or the demo). The store is the embedded PostgreSQL in ~/.stallwatch unless "
            + "--data-dir or --jdbc-url says otherwise.",
        ""},
    subcommands = {IncidentsListCommand.class, IncidentsShowCommand.class})
public final class IncidentsCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: list or show");
  }
}
