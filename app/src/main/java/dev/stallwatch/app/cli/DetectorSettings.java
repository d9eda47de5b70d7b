package dev.stallwatch.app.cli;

import dev.stallwatch.jobs.DetectorArguments;
import dev.stallwatch.jobs.DetectorOptions;
import dev.stallwatch.jobs.rules.SignatureRules;
import java.util.Map;

/**
 * Detection thresholds and signature rules, shared by every command that runs the detector: the
 * flags of {@link DetectorArguments} (the job jar takes the same), with bad values as user errors.
 */
public final class DetectorSettings extends DetectorArguments {

  @Override
  public DetectorOptions options() {
    try {
      return super.options();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  @Override
  public DetectorOptions options(Map<String, String> commandDefaults) {
    try {
      return super.options(commandDefaults);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  @Override
  public SignatureRules rules() {
    try {
      return super.rules();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }
}
