package dev.stallwatch.app;

import dev.stallwatch.app.cli.CollectCommand;
import dev.stallwatch.app.cli.DemoCommand;
import dev.stallwatch.app.cli.DrainCommand;
import dev.stallwatch.app.cli.FoldCommand;
import dev.stallwatch.app.cli.IncidentsCommand;
import dev.stallwatch.app.cli.JobCommand;
import dev.stallwatch.app.cli.ReplayCommand;
import dev.stallwatch.app.cli.ServeCommand;
import dev.stallwatch.app.cli.TopicsCommand;
import dev.stallwatch.app.cli.UpCommand;
import dev.stallwatch.app.cli.UserError;
import dev.stallwatch.app.replay.BundleException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code stallwatch} command. Exit codes: 0 ok, 1 failed, 2 wrong usage or bad input. A user
 * error prints one line, prefixed with the command; an internal error prints its stack trace.
 */
@Command(
    name = "stallwatch",
    mixinStandardHelpOptions = true,
    versionProvider = Stallwatch.Version.class,
    description = {
        "Finds containers whose runtime spins after their traffic was drained, and says which bug it is.",
        ""},
    subcommands = {
        DemoCommand.class,
        ReplayCommand.class,
        FoldCommand.class,
        JobCommand.class,
        CollectCommand.class,
        IncidentsCommand.class,
        DrainCommand.class,
        ServeCommand.class,
        TopicsCommand.class,
        UpCommand.class,
        CommandLine.HelpCommand.class})
public final class Stallwatch implements Runnable {
  public static final int EXIT_OK = 0;
  public static final int EXIT_FAILED = 1;
  public static final int EXIT_USAGE = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line with Stallwatch's exit codes and error reporting; tests parse with it too. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Stallwatch());
    cli.setExitCodeExceptionMapper(e -> isUserError(e) ? EXIT_USAGE : EXIT_FAILED);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      if (isUserError(e)) {
        err.println(commandLine.getCommandSpec().qualifiedName() + ": " + e.getMessage());
        err.flush();
        return EXIT_USAGE;
      }
      err.println(commandLine.getCommandSpec().qualifiedName() + ": internal error: " + e);
      e.printStackTrace(err);
      err.flush();
      return EXIT_FAILED;
    });
    cli.setParameterExceptionHandler((e, args) -> {
      PrintWriter err = e.getCommandLine().getErr();
      err.println(e.getCommandLine().getCommandSpec().qualifiedName() + ": " + e.getMessage());
      err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
      err.flush();
      return EXIT_USAGE;
    });
    return cli;
  }

  private static boolean isUserError(Throwable e) {
    return e instanceof UserError || e instanceof BundleException;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Stallwatch.class.getPackage().getImplementationVersion();
      return new String[] {"stallwatch " + (version == null ? "development build" : version)};
    }
  }
}
