package dev.stallwatch.ingest.perf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class FoldedFormatTest {
  private static List<String> names(String symbol, String dso) {
    return FoldedFormat.frameNames(symbol, dso, false);
  }

  @Test
  void processFrameReplacesSpacesOnly() {
    assertThat(FoldedFormat.processFrame("C2 CompilerThre")).isEqualTo("C2_CompilerThre");
    assertThat(FoldedFormat.processFrame("kworker/0:1\tx")).isEqualTo("kworker/0:1\tx");
  }

  @Test
  void dropsATrailingLowercaseHexOffsetOnly() {
    assertThat(names("runtime.osyield.abi0+0x7", "/tmp/goyield")).containsExactly("runtime.osyield.abi0");
    assertThat(names("main", "/bin/x")).containsExactly("main");
    assertThat(names("f+0x1A", "/bin/x")).containsExactly("f+0x1A");
    assertThat(names("f+0x+0x12", "/bin/x")).containsExactly("f+0x");
  }

  @Test
  void unknownSymbolsTakeTheDsoBasename() {
    assertThat(names("[unknown]", "/usr/lib/x86_64-linux-gnu/libc.so.6")).containsExactly("[libc.so.6]");
    assertThat(names("[unknown]", "/tmp/perf-17857.map")).containsExactly("[perf-17857.map]");
    assertThat(names("[unknown]", "[vdso]")).containsExactly("[[vdso]]");
    assertThat(names("[unknown]", "[unknown]")).containsExactly("[unknown]");
  }

  @Test
  void genericTidyCutsArgumentsButKeepsGoMethodsAndAnonymousNamespaces() {
    assertThat(names("std::sort(int*, int*)", "/bin/x")).containsExactly("std::sort");
    assertThat(names("runtime.(*mcache).nextFree", "/bin/x")).containsExactly("runtime.(*mcache).nextFree");
    assertThat(names("ns::(anonymous namespace)::run(int)", "/bin/x")).containsExactly("ns::(anonymous namespace)::run");
    assertThat(names("RegExp:[&<>\"'] (x;y)", "/tmp/perf-1.map")).containsExactly("RegExp:[&<>] ");
    assertThat(names("Ljava/lang/String;::hashCode", "/tmp/perf-1.map")).containsExactly("Ljava/lang/String:::hashCode");
  }

  @Test
  void javaTidyOnlyInJavaProcesses() {
    assertThat(FoldedFormat.frameNames("Ljava/lang/Thread;::run", "/tmp/perf-9.map", true))
        .containsExactly("java/lang/Thread:::run");
    assertThat(FoldedFormat.frameNames("Lfoo", "/tmp/perf-9.map", true)).containsExactly("Lfoo");
    assertThat(FoldedFormat.isJavaProcess("java")).isTrue();
    assertThat(FoldedFormat.isJavaProcess("javac_thread")).isTrue();
    assertThat(FoldedFormat.isJavaProcess("C2_CompilerThre")).isFalse();
  }

  @Test
  void inlineChainsBecomeSeveralFramesMarkedInlined() {
    assertThat(names("outer->inner+0x4", "/bin/x")).containsExactly("outer", "inner_[i]");
    assertThat(names("a->b_[i]->", "/bin/x")).containsExactly("a", "b_[i]");
    assertThat(names("->a", "/bin/x")).containsExactly("", "a_[i]");
  }

  @Test
  void aSymbolInParenthesesIsNoFrame() {
    assertThat(names("(/usr/bin/x)", "y")).isEmpty();
    assertThat(names("+0x12", "y")).isEmpty();
  }

  @Test
  void annotationsAreOffByDefaultAndAddedOnRequest() {
    assertThat(names("schedule+0x23", "[kernel.kallsyms]")).containsExactly("schedule");
    FoldOptions all = FoldOptions.ALL_ANNOTATIONS;
    assertThat(FoldedFormat.frameNames("schedule+0x23", "[kernel.kallsyms]", false, all)).containsExactly("schedule_[k]");
    assertThat(FoldedFormat.frameNames("tcp_sendmsg", "/lib/modules/4.3/build/vmlinux", false, all))
        .containsExactly("tcp_sendmsg_[k]");
    assertThat(FoldedFormat.frameNames("[unknown]", "[unknown]", false, all)).containsExactly("[unknown]");
    assertThat(FoldedFormat.frameNames("handler", "/tmp/perf-42.map", false, all)).containsExactly("handler_[j]");
    assertThat(FoldedFormat.frameNames("handler", "/tmp/perf-x.map", false, all)).containsExactly("handler");
  }

  @Test
  void writesAndParsesLines() throws IOException {
    String stack = FoldedFormat.stack("fib_deep", List.of("main", "LazyCompile:~handler /srv/app.js:42", "[unknown] "));
    assertThat(FoldedFormat.line(stack, 42)).isEqualTo("fib_deep;main;LazyCompile:~handler /srv/app.js:42;[unknown]  42");

    StringWriter writer = new StringWriter();
    FoldedFormat.writeLine(writer, stack, 42);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    FoldedFormat.writeLine(bytes, stack.getBytes(StandardCharsets.UTF_8), 42);
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(writer.toString()).endsWith(" 42\n");

    FoldedFormat.FoldedLine parsed = FoldedFormat.parseLine(writer.toString().trim() + "\r").orElseThrow();
    assertThat(parsed.stack()).isEqualTo(stack);
    assertThat(parsed.count()).isEqualTo(42);
    assertThat(parsed.frames()).containsExactly("fib_deep", "main", "LazyCompile:~handler /srv/app.js:42", "[unknown] ");
  }

  @Test
  void rejectsLinesWithoutACount() {
    assertThat(FoldedFormat.parseLine("a;b")).isEmpty();
    assertThat(FoldedFormat.parseLine("a;b x")).isEmpty();
    assertThat(FoldedFormat.parseLine(" 5")).isEmpty();
    assertThat(FoldedFormat.parseLine("a;b ")).isEmpty();
    assertThat(FoldedFormat.parseLine("a 99999999999999999999")).isEmpty();
  }
}
