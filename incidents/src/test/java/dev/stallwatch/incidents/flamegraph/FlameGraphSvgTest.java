package dev.stallwatch.incidents.flamegraph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.stallwatch.incidents.query.Incident;
import dev.stallwatch.incidents.query.IncidentStatus;
import dev.stallwatch.incidents.store.Evidence;
import dev.stallwatch.incidents.store.TestAlerts;
import dev.stallwatch.schemas.alerts.v1.DeadlockAlert;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class FlameGraphSvgTest {

  /** title text of each frame → its rectangle. */
  private static Map<String, Element> frames(Document svg) {
    Map<String, Element> frames = new HashMap<>();
    NodeList groups = svg.getElementsByTagName("g");
    for (int i = 0; i < groups.getLength(); i++) {
      Element g = (Element) groups.item(i);
      String title = g.getElementsByTagName("title").item(0).getTextContent();
      frames.put(title.substring(0, title.lastIndexOf(" (")), (Element) g.getElementsByTagName("rect").item(0));
    }
    return frames;
  }

  private static Document parse(String svg) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(true);
    return factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
  }

  private static double width(Element rect) {
    return Double.parseDouble(rect.getAttribute("width"));
  }

  @Test
  void anIncidentsEvidenceIsAStandaloneSvgWithItsFrames() throws Exception {
    DeadlockAlert open = TestAlerts.open("b47101c4");
    Incident incident = new Incident("b47101c4", IncidentStatus.OPEN, open.getContainerId(), open.getHost(),
        open.getPod(), open.getNamespace(), open.getSignatureId(), open.getSignatureTitle(), open.getSpikeStartedAt(),
        open.getDrainedAt(), open.getDrainedBy(), open.getStuckSince(), open.getDetectedAt(), null, null,
        open.getCpuCoresBeforeDrain(), open.getCpuCoresAfterDrain(), open.getSignatureShare(),
        open.getTimeoutsAtSpike(), open.getRequestsAtSpike(), Evidence.of(open), null, null, null);

    String text = FlameGraphSvg.forIncident(incident);
    Document svg = parse(text);
    assertThat(svg.getDocumentElement().getLocalName()).isEqualTo("svg");
    assertThat(svg.getDocumentElement().getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
    assertThat(text).contains("Flame graph of incident b47101c4").contains("top 2 stacks after the drain, 90.6%");

    Map<String, Element> frames = frames(svg);
    assertThat(frames).containsKeys("all", "orders-svc", "runtime.morestack", "runtime.adjusttimers",
        "runtime.osyield", "runtime.stopTheWorldWithSema", "runtime.futex");
    // both stacks start at orders-svc: it is as wide as the root; the branches split it by weight
    assertThat(width(frames.get("orders-svc"))).isEqualTo(width(frames.get("all")));
    double osyield = width(frames.get("runtime.osyield"));
    double futex = width(frames.get("runtime.futex"));
    assertThat(osyield / futex).isCloseTo(18_272_727_090.0 / 3_080_808_050.0, offset(0.05));
    // leaves sit above their callers: smaller y
    assertThat(Double.parseDouble(frames.get("runtime.osyield").getAttribute("y")))
        .isLessThan(Double.parseDouble(frames.get("runtime.morestack").getAttribute("y")));
  }

  @Test
  void theSameStacksInAnyOrderGiveTheSameSvg() {
    List<FlameGraphSvg.Stack> stacks = new ArrayList<>(List.of(
        new FlameGraphSvg.Stack("a;b;c", 5), new FlameGraphSvg.Stack("a;d", 3), new FlameGraphSvg.Stack("a;b;e", 2)));
    String forward = FlameGraphSvg.render("t", "s", stacks);
    Collections.reverse(stacks);
    assertThat(FlameGraphSvg.render("t", "s", stacks)).isEqualTo(forward);
    assertThat(FlameGraphSvg.colour("runtime.osyield")).isEqualTo(FlameGraphSvg.colour("runtime.osyield"))
        .isNotEqualTo(FlameGraphSvg.colour("runtime.futex"));
  }

  @Test
  void markupAndControlCharactersInFrameNamesStayText() throws Exception {
    String svg = FlameGraphSvg.render("<title> & \"more\"", "",
        List.of(new FlameGraphSvg.Stack("java;std::vector<int>::push_back;bad\u0001name", 7)));
    Map<String, Element> frames = frames(parse(svg));
    assertThat(frames).containsKeys("std::vector<int>::push_back", "bad\uFFFDname");
  }

  @Test
  void namesAreCutToTheirRectangle() {
    assertThat(FlameGraphSvg.fit("runtime.osyield", 500)).isEqualTo("runtime.osyield");
    assertThat(FlameGraphSvg.fit("runtime.osyield", 60)).isEqualTo("runti..");
    assertThat(FlameGraphSvg.fit("runtime.osyield", 20)).isEmpty();
  }

  @Test
  void noStacksIsStillAValidSvg() throws Exception {
    Document svg = parse(FlameGraphSvg.render("empty", "", List.of()));
    assertThat(svg.getElementsByTagName("g").getLength()).isZero();
    assertThat(svg.getDocumentElement().getTextContent()).contains("no stacks");
  }
}
