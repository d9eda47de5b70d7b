package dev.stallwatch.jobs.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignatureRulesTest {

  @TempDir
  Path dir;

  @Test
  void defaultRuleIsTheGoTimerLivelock() {
    SignatureRule rule = SignatureRules.defaults().byId("go-timer-livelock").orElseThrow();

    assertThat(rule.frames()).containsExactly("runtime.osyield", "runtime.morestack");
    assertThat(rule.minShare()).isEqualTo(0.5);
    assertThat(rule.references()).extracting(IssueReference::id, IssueReference::url).containsExactly(
        org.assertj.core.groups.Tuple.tuple("golang/go#38023", "https://github.com/golang/go/issues/38023"),
        org.assertj.core.groups.Tuple.tuple("golang/go#38070", "https://github.com/golang/go/issues/38070"));
    assertThat(rule.affectedVersions()).containsExactly("go1.14", "go1.14.1");
    assertThat(rule.fixedIn()).isEqualTo("go1.14.2");
    assertThat(rule.remediation()).contains("go1.14.2 or later")
        .contains("355f53f0a0a5d79032068d4914d7aea3435084ec").contains("restart the container");
    assertThat(rule.affects("go1.14.1")).isTrue();
    assertThat(rule.affects("go1.14.2")).isFalse();
    assertThat(rule.affects(null)).isFalse();
  }

  @Test
  void loadsYamlAndJsonFiles() throws Exception {
    Path yaml = Files.writeString(dir.resolve("rules.yaml"), """
            rules:
              - id: jvm-safepoint-spin
                title: A JVM thread spins waiting for a safepoint
                frames: [SafepointSynchronize::begin]
            """);
    Path json = Files.writeString(dir.resolve("rules.json"), """
            {"version": 1, "rules": [{"id": "x", "title": "X", "frames": ["a", "b"], "minShare": 0.7}]}
            """);

    SignatureRule fromYaml = SignatureRules.load(yaml).rules().get(0);
    assertThat(fromYaml.minShare()).isEqualTo(SignatureRules.DEFAULT_MIN_SHARE);
    assertThat(fromYaml.references()).isEmpty();
    assertThat(fromYaml.fixedIn()).isNull();
    assertThat(SignatureRules.load(json).rules()).singleElement()
        .satisfies(r -> assertThat(r.minShare()).isEqualTo(0.7));
  }

  @Test
  void errorsNameTheFileAndTheProblem() throws Exception {
    assertBad("rules: []\n", "'rules' must be a non-empty list");
    assertBad("rule:\n  - id: a\n", "unknown field 'rule' in top level");
    assertBad("rules:\n  - title: t\n    frames: [a]\n", "rule #1: id is missing");
    assertBad("rules:\n  - id: a\n    title: t\n    frames: []\n", "rule #1 (a): frames must be a non-empty list");
    assertBad("rules:\n  - id: a\n    title: t\n    frames: [x]\n    minShare: 1.5\n",
        "rule #1 (a): minShare must be a number in (0, 1]");
    assertBad("rules:\n  - id: a\n    title: t\n    frames: [x]\n    minshare: 0.5\n",
        "rule #1 (a): unknown field 'minshare' in rule");
    assertBad("rules:\n  - {id: a, title: t, frames: [x]}\n  - {id: a, title: u, frames: [y]}\n",
        "rule #2 (a): id a is used by an earlier rule");
    assertBad("rules:\n  - id: a\n    title: t\n    frames: [x]\n    references: [{id: r, url: u}]\n",
        "rule #1 (a): references[0]: title is missing");
    assertBad("rules:\n  - id: a\n   title: t\n", "not valid YAML");
    assertBad("version: 2\nrules: []\n", "only format version 1");
    assertBad("", "the file is empty");
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> SignatureRules.load(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("rules file " + missing + ": cannot read it");
  }

  @Test
  void jsonSyntaxErrorsGiveTheLine() throws Exception {
    Path file = Files.writeString(dir.resolve("rules.json"), "{\n  \"rules\": [\n    {\"id\": }\n  ]\n}\n");
    assertThatThrownBy(() -> SignatureRules.load(file))
        .hasMessageStartingWith("rules file " + file + ": not valid JSON")
        .hasMessageContaining("line 3");
  }

  @Test
  void matchingIgnoresGoAbiSuffixes() {
    SignatureRule rule = SignatureRules.defaults().rules().get(0);
    SignatureMatcher matcher = new SignatureMatcher(SignatureRules.defaults());

    assertThat(matcher.matches(rule, List.of("app", "runtime.morestack.abi0", "runtime.osyield.abi0"))).isTrue();
    assertThat(matcher.matches(rule, List.of("app", "runtime.morestack", "runtime.osyield"))).isTrue();
    assertThat(matcher.matches(rule, List.of("app", "runtime.morestack.abiinternal", "runtime.osyield")))
        .isTrue();
    assertThat(matcher.matches(rule, List.of("app", "runtime.morestack", "runtime.usleep"))).isFalse();
    assertThat(matcher.matches(rule, List.of("app", "runtime.osyield"))).isFalse();
    assertThat(matcher.matches(rule, List.of("app", "runtime.osyield.abi1", "runtime.morestack"))).isFalse();
  }

  @Test
  void frameNamesOnlyLoseTheAbiSuffix() {
    assertThat(FrameNames.normalize("runtime.osyield.abi0")).isEqualTo("runtime.osyield");
    assertThat(FrameNames.normalize("runtime.mcall.ABIInternal")).isEqualTo("runtime.mcall");
    assertThat(FrameNames.normalize("runtime.osyield")).isEqualTo("runtime.osyield");
    assertThat(FrameNames.normalize(".abi0")).isEqualTo(".abi0");
    assertThat(FrameNames.normalize("main.abi0x")).isEqualTo("main.abi0x");
  }

  @Test
  void theProcessNameCountsLikeAnyFrame() {
    SignatureRules rules = SignatureRules.of(List.of(new SignatureRule("comm", "only in one program",
        List.of("checkout", "runtime.osyield"), 0.5, List.of(), List.of(), null, null)));
    SignatureMatcher matcher = new SignatureMatcher(rules);
    SignatureRule rule = rules.rules().get(0);

    assertThat(matcher.matches(rule, List.of("checkout", "runtime.osyield.abi0"))).isTrue();
    assertThat(matcher.matches(rule, List.of("billing", "runtime.osyield"))).isFalse();
  }

  private void assertBad(String text, String problem) throws Exception {
    Path file = Files.writeString(dir.resolve("rules.yaml"), text);
    assertThatThrownBy(() -> SignatureRules.load(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("rules file " + file + ": ")
        .hasMessageContaining(problem);
  }
}
