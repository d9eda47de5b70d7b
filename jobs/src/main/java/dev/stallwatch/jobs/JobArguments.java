package dev.stallwatch.jobs;

import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.Topics;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Command-line arguments of {@link DeadlockDetectionJob#main}. */
final class JobArguments {

  private JobArguments() {}

  static String usage() {
    return """
            Usage: DeadlockDetectionJob --bootstrap-servers HOST:PORT [--rules FILE] [--options FILE]
                                        [--set KEY=VALUE]... [--topic-suffix SUFFIX] [--group-id ID]
                                        [--transactional-id-prefix PREFIX] [--bounded]
            Detector options (--set KEY=VALUE or an --options .properties/.yaml file):
            """ + DetectorOptions.describe();
  }

  /** The configured builder, or null for --help. Bad arguments: IllegalArgumentException. */
  static DeadlockDetectionJob.Builder parse(String[] args) {
    DeadlockDetectionJob.Builder builder = DeadlockDetectionJob.builder();
    DetectorOptions options = DetectorOptions.defaults();
    Map<String, String> overrides = new LinkedHashMap<>();
    String bootstrap = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "-h", "--help" -> {
          return null;
        }
        case "--bounded" -> builder.bounded(true);
        case "--bootstrap-servers" -> bootstrap = value(args, ++i, arg);
        case "--rules" -> builder.rules(SignatureRules.load(Path.of(value(args, ++i, arg))));
        case "--options" -> options = DetectorOptions.load(Path.of(value(args, ++i, arg)));
        case "--set" -> {
          String kv = value(args, ++i, arg);
          int eq = kv.indexOf('=');
          if (eq <= 0) {
            throw new IllegalArgumentException("--set: expected KEY=VALUE, got '" + kv + "'");
          }
          overrides.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        case "--topic-suffix" -> builder.topics(Topics.defaults().withSuffix(value(args, ++i, arg)));
        case "--group-id" -> builder.groupId(value(args, ++i, arg));
        case "--transactional-id-prefix" -> builder.transactionalIdPrefix(value(args, ++i, arg));
        default -> throw new IllegalArgumentException("unknown argument '" + arg + "' (see --help)");
      }
    }
    if (bootstrap == null) {
      throw new IllegalArgumentException("--bootstrap-servers is required (see --help)");
    }
    return builder.bootstrapServers(bootstrap).options(options.withOverrides(overrides));
  }

  private static String value(String[] args, int i, String name) {
    if (i >= args.length) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return args[i];
  }
}
