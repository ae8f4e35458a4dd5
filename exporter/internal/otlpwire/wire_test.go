package otlpwire

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/assistant-otel/assistant-otel/mapping"
)

var noLimits = SpanLimits{-1, -1, -1, -1, -1, -1}

func testEncoder() *Encoder {
	res := resource.NewSchemaless(attribute.String("service.name", "svc"), attribute.String("k", "v"))
	return NewEncoder(res, "scope", "1.0", noLimits, LogLimits{-1, -1})
}

// TestLengthsOfEverySize writes messages whose lengths need one, two and
// three bytes of varint, nested, and decodes them with the official types.
func TestLengthsOfEverySize(t *testing.T) {
	e := testEncoder()
	for _, size := range []int{0, 1, 100, 127, 128, 300, 16383, 16384, 70000, 3 << 20} {
		text := strings.Repeat("x", size)
		tr := e.Traces(nil)
		s := mapping.Span{
			TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, ParentID: trace.SpanID{3},
			Name: text, Kind: trace.SpanKindServer,
			Start: time.Unix(10, 5), End: time.Unix(11, 0),
			Attributes: []attribute.KeyValue{attribute.String("text", text)},
			Events:     []mapping.SpanEvent{{Name: "ev", Time: time.Unix(10, 6), Attributes: []attribute.KeyValue{attribute.String("t", text)}}},
			Status:     codes.Error, StatusDescription: text,
		}
		tr.Add(&s, SpanMeta{Flags: 0x101})
		tr.Add(&s, SpanMeta{Flags: 0x301})
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(tr.Finish(), &req); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		spans := req.ResourceSpans[0].ScopeSpans[0].Spans
		if len(spans) != 2 {
			t.Fatalf("size %d: %d spans", size, len(spans))
		}
		got := spans[1]
		if got.Name != text || got.Attributes[0].Value.GetStringValue() != text || got.Events[0].Attributes[0].Value.GetStringValue() != text ||
			got.Status.Message != text || got.Status.Code != 2 || got.Flags != 0x301 || got.StartTimeUnixNano != 10e9+5 {
			t.Fatalf("size %d: decoded span differs", size)
		}
		if rs := req.ResourceSpans[0]; rs.Resource.Attributes[0].Key != "k" || rs.ScopeSpans[0].Scope.Name != "scope" || rs.ScopeSpans[0].Scope.Version != "1.0" {
			t.Fatalf("size %d: resource or scope lost: %v", size, rs)
		}
	}
}

// TestInvalidUTF8IsReplaced: protobuf strings must be valid UTF-8, or the
// Collector refuses the whole request.
func TestInvalidUTF8IsReplaced(t *testing.T) {
	l := testEncoder().Logs(nil)
	bad := "a\xffb"
	l.Add(&mapping.LogRecord{Body: bad, SeverityText: bad, EventName: bad, Attributes: []attribute.KeyValue{attribute.String(bad, bad)}, Severity: log.SeverityInfo}, LogMeta{})
	var req collectorlogs.ExportLogsServiceRequest
	if err := proto.Unmarshal(l.Finish(), &req); err != nil {
		t.Fatal(err)
	}
	r := req.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	want := "a\uFFFDb"
	if r.Body.GetStringValue() != want || r.SeverityText != want || r.EventName != want || r.Attributes[0].Key != want || r.Attributes[0].Value.GetStringValue() != want {
		t.Fatalf("invalid UTF-8 not replaced: %v", r)
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in    string
		limit int
		want  string
	}{
		{"héllo", -1, "héllo"}, {"héllo", 0, ""}, {"héllo", 2, "hé"}, {"héllo", 5, "héllo"}, {"héllo", 9, "héllo"}, {"日本語", 1, "日"},
	} {
		if got := truncate(c.in, c.limit); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
}

func TestDedupAttributes(t *testing.T) {
	in := []attribute.KeyValue{attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("a", 3)}
	got := DedupAttributes(in)
	if len(got) != 2 || got[0] != attribute.Int("a", 3) || got[1] != attribute.Int("b", 2) {
		t.Fatalf("DedupAttributes = %v", got)
	}
	clean := in[:2]
	if got := DedupAttributes(clean); &got[0] != &clean[0] {
		t.Error("DedupAttributes copied attributes without duplicates")
	}
}

func BenchmarkEncodeTraces(b *testing.B) {
	e := testEncoder()
	attrs := make([]attribute.KeyValue, 30)
	for i := range attrs {
		attrs[i] = attribute.String("watson_assistant.attribute."+string(rune('a'+i)), strings.Repeat("v", 20))
	}
	s := mapping.Span{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Name: "invoke_agent", Start: time.Unix(1, 0), End: time.Unix(2, 0), Attributes: attrs,
		Events: []mapping.SpanEvent{{Name: "node", Time: time.Unix(1, 5), Attributes: attrs[:3]}}}
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		tr := e.Traces(dst)
		for range 64 {
			tr.Add(&s, SpanMeta{Flags: 0x101})
		}
		dst = tr.Finish()
	}
	b.SetBytes(int64(len(dst)))
}
