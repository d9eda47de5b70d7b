package dev.stallwatch.jobs.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stallwatch.jobs.AlertRecord;
import dev.stallwatch.jobs.Episode;
import dev.stallwatch.jobs.HealthRecord;
import dev.stallwatch.jobs.PendingWindow;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Everything that crosses the network or sits in state is a Flink POJO: no Kryo anywhere. */
class FlinkTypesTest {

  @ParameterizedTest
  @ValueSource(classes = {Observation.class, DeadLetter.class, AlertRecord.class, HealthRecord.class,
      PendingWindow.class, Episode.class})
  void isAPojoWithoutGenericTypes(Class<?> type) {
    TypeInformation<?> info = TypeInformation.of(type);
    assertThat(info).isInstanceOf(PojoTypeInfo.class);

    SerializerConfigImpl noKryo = new SerializerConfigImpl();
    noKryo.setGenericTypes(false);
    // throws UnsupportedOperationException when any field would need Kryo
    assertThat(info.createSerializer(noKryo)).isNotNull();
  }

  @Test
  void observationSurvivesItsSerializer() throws Exception {
    ProfileSummary p = new ProfileSummary();
    p.host = "h";
    p.windowStartMs = 10_000;
    p.windowEndMs = 20_000;
    p.cpuCores = 1.5;
    p.matchedRuleIds = new String[] {"r"};
    p.matchedWeightNs = new long[] {7};
    p.stacks = new String[] {"a;b"};
    p.stackWeightNs = new long[] {7};
    Observation o = Observation.of(p, "c-1");

    var serializer = TypeInformation.of(Observation.class).createSerializer(new SerializerConfigImpl());
    Observation copy = serializer.copy(o);

    assertThat(copy).usingRecursiveComparison().isEqualTo(o);
  }
}
