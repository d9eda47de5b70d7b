package dev.stallwatch.jobs.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.stallwatch.jobs.rules.SignatureRules;
import dev.stallwatch.schemas.v1.ProfileWindow;
import dev.stallwatch.schemas.v1.RuntimeInfo;
import dev.stallwatch.schemas.v1.Stack;
import dev.stallwatch.schemas.v1.WeightUnit;
import org.junit.jupiter.api.Test;

class ProfileSummarizerTest {

  private static final long START = 1_772_420_400_000L;
  private final ProfileSummarizer summarizer = new ProfileSummarizer(SignatureRules.defaults(), 2, 99.0);

  /** A Go 1.19 capture: assembly frames carry the .abi0 suffix. */
  private static ProfileWindow.Builder go119Window() {
    return ProfileWindow.newBuilder()
        .setHost("node-a").setContainerId("c-1").setPod("p").setNamespace("")
        .setWindowStartMs(START).setWindowEndMs(START + 10_000)
        .addStrings("")                              // 0
        .addStrings("spinner")                       // 1
        .addStrings("runtime.morestack.abi0")        // 2
        .addStrings("runtime.newstack")              // 3
        .addStrings("runtime.osyield.abi0")          // 4
        .addStrings("main.main")                     // 5
        .addStrings("runtime.mallocgc")              // 6
        .addStacks(Stack.newBuilder().addFrames(1).addFrames(2).addFrames(3).addFrames(4).setWeight(6_000_000_000L))
        .addStacks(Stack.newBuilder().addFrames(1).addFrames(5).setWeight(3_000_000_000L))
        .addStacks(Stack.newBuilder().addFrames(1).addFrames(5).addFrames(6).setWeight(1_000_000_000L))
        .setTotalWeight(10_000_000_000L)
        .setWeightUnit(WeightUnit.WEIGHT_UNIT_NANOSECONDS)
        .setRuntime(RuntimeInfo.newBuilder().setName("go").setVersion("go1.19.13"));
  }

  @Test
  void matchesSignaturesWithAbiSuffixesAndKeepsTheHeaviestStacks() throws Exception {
    ProfileSummary s = summarizer.summarize(go119Window().build());

    assertThat(s.cpuCores).isCloseTo(1.0, within(1e-12));
    assertThat(s.cgroupCpu).isFalse();
    assertThat(s.totalWeightNs).isEqualTo(10_000_000_000L);
    assertThat(s.matchedRuleIds).containsExactly("go-timer-livelock");
    assertThat(s.matchedWeight("go-timer-livelock")).isEqualTo(6_000_000_000L);
    assertThat(s.stacks).containsExactly(
        "spinner;runtime.morestack.abi0;runtime.newstack;runtime.osyield.abi0", "spinner;main.main");
    assertThat(s.stackWeightNs).containsExactly(6_000_000_000L, 3_000_000_000L);
    assertThat(s.runtimeVersion).isEqualTo("go1.19.13");
    assertThat(s.pod).isEqualTo("p");
    assertThat(s.namespace).isNull();
  }

  @Test
  void cgroupCpuWinsOverSampleWeight() throws Exception {
    ProfileSummary s = summarizer.summarize(go119Window().setCgroupCpuNs(25_000_000_000L).build());

    assertThat(s.cgroupCpu).isTrue();
    assertThat(s.cpuCores).isCloseTo(2.5, within(1e-12));
  }

  @Test
  void sampleCountsBecomeNanosecondsAtTheSamplingFrequency() throws Exception {
    ProfileWindow samples = go119Window().clearStacks()
        .addStacks(Stack.newBuilder().addFrames(1).addFrames(2).addFrames(4).setWeight(198).setSamples(198))
        .setTotalWeight(198)
        .setWeightUnit(WeightUnit.WEIGHT_UNIT_SAMPLES)
        .setSampleFrequencyHz(99)
        .build();
    ProfileSummary s = summarizer.summarize(samples);
    assertThat(s.totalWeightNs).isEqualTo(2_000_000_000L);
    assertThat(s.cpuCores).isCloseTo(0.2, within(1e-12));

    // no frequency given: profile.default-sample-frequency-hz
    ProfileSummary d = new ProfileSummarizer(SignatureRules.defaults(), 2, 49.5)
        .summarize(samples.toBuilder().setSampleFrequencyHz(0).build());
    assertThat(d.totalWeightNs).isEqualTo(4_000_000_000L);
  }

  @Test
  void totalWeightAboveTheStacksIsTheDenominator() throws Exception {
    ProfileSummary s = summarizer.summarize(go119Window().setTotalWeight(12_000_000_000L).build());
    assertThat(s.totalWeightNs).isEqualTo(12_000_000_000L);
  }

  @Test
  void contractViolationsAreInvalidRecords() {
    assertThatThrownBy(() -> summarizer.summarize(go119Window().setContainerId("").build()))
        .isInstanceOf(InvalidRecordException.class).hasMessageContaining("without container_id");
    assertThatThrownBy(() -> summarizer.summarize(go119Window().setWindowEndMs(START).build()))
        .isInstanceOf(InvalidRecordException.class).hasMessageContaining("is empty");
    assertThatThrownBy(() -> summarizer.summarize(
        go119Window().setWeightUnit(WeightUnit.WEIGHT_UNIT_UNSPECIFIED).build()))
        .isInstanceOf(InvalidRecordException.class).hasMessageContaining("weight_unit");
    assertThatThrownBy(() -> summarizer.summarize(
        go119Window().addStacks(Stack.newBuilder().addFrames(1).addFrames(99).setWeight(1)).build()))
        .isInstanceOf(InvalidRecordException.class)
        .hasMessageContaining("stack 3 frame 1 points to string 99 outside the string table (7 entries)");
  }
}
