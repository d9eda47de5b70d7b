package dev.stallwatch.app.cli;

import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Detection thresholds and signature rules, shared by every command that runs the detector. */
public final class DetectorSettings {
  @Option(names = "--config", paramLabel = "FILE",
      description = "Detector options file (key: value or key=value lines); see 'stallwatch job --list-options'.")
  Path configFile;

  @Option(names = {"-D", "--set"}, paramLabel = "KEY=VALUE",
      description = "Override one detector option, e.g. --set stuck.sustain=90s. Repeatable; wins over --config.")
  Map<String, String> overrides = new LinkedHashMap<>();

  @Option(names = "--rules", paramLabel = "FILE",
      description = "Signature rules file (YAML) instead of the built-in rules.")
  Path rulesFile;

  public DetectorOptions options() {
    try {
      DetectorOptions options = configFile == null ? DetectorOptions.defaults() : DetectorOptions.load(configFile);
      return overrides.isEmpty() ? options : options.withOverrides(overrides);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
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
    try {
      return DetectorOptions.defaults().withOverrides(merged);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  public SignatureRules rules() {
    try {
      return rulesFile == null ? SignatureRules.defaults() : SignatureRules.load(rulesFile);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }
}
