package dev.stallwatch.jobs;

import dev.stallwatch.jobs.rules.SignatureRules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * Detector thresholds and signature rules on a command line: one definition for the job jar's
 * {@code main} and every {@code stallwatch} command that runs the detector. Bad values:
 * {@link IllegalArgumentException} naming the file, line and key.
 */
public class DetectorArguments {
  private static final Logger LOG = LoggerFactory.getLogger(DetectorArguments.class);

  @Option(names = "--config", paramLabel = "FILE",
      description = "Detector options file (key: value or key=value lines, or YAML); see --list-options.")
  Path configFile;

  @Option(names = {"-D", "--set"}, paramLabel = "KEY=VALUE",
      description = "Override one detector option, e.g. --set stuck.sustain=90s. Repeatable; wins over --config.")
  Map<String, String> overrides = new LinkedHashMap<>();

  @Option(names = "--rules", paramLabel = "FILE",
      description = "Signature rules file (YAML) instead of the built-in rules.")
  Path rulesFile;

  /** The job jar's older spelling of --config. */
  @Option(names = "--options", paramLabel = "FILE", hidden = true)
  void deprecatedOptions(Path file) {
    LOG.warn("--options is deprecated; use --config {}", file);
    configFile = file;
  }

  public Path configFile() {
    return configFile;
  }

  public Map<String, String> overrides() {
    return overrides;
  }

  public Path rulesFile() {
    return rulesFile;
  }

  /** The options file (or the defaults) with the --set overrides. */
  public DetectorOptions options() {
    DetectorOptions options = configFile == null ? DetectorOptions.defaults() : DetectorOptions.load(configFile);
    return overrides.isEmpty() ? options : options.withOverrides(overrides);
  }

  /**
   * The options with a command's own defaults for some keys: below {@code --config} (which then
   * replaces them all) and {@code --set}.
   */
  public DetectorOptions options(Map<String, String> commandDefaults) {
    if (configFile != null || commandDefaults.isEmpty()) {
      return options();
    }
    Map<String, String> merged = new LinkedHashMap<>(commandDefaults);
    merged.putAll(overrides);
    return DetectorOptions.defaults().withOverrides(merged);
  }

  public SignatureRules rules() {
    return rulesFile == null ? SignatureRules.defaults() : SignatureRules.load(rulesFile);
  }

  /** The rules file's text, or null for the built-in rules (checked here, so a bad file fails before a submit). */
  public String rulesText() {
    if (rulesFile == null) {
      return null;
    }
    rules();
    try {
      return Files.readString(rulesFile);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("rules file " + rulesFile + ": cannot read it (" + e + ")", e);
    }
  }
}
