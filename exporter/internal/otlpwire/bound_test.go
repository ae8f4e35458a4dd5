package otlpwire

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// poisonSpan is what one huge turn can make: 600 entities with 4,000
// character names, long texts, many events and links (about 5 MB).
func poisonSpan() mapping.Span {
	names := make([]string, 600)
	for i := range names {
		names[i] = strings.Repeat(string(rune('a'+i%26)), 4000)
	}
	long := strings.Repeat("é", 20000)
	attrs := []attribute.KeyValue{
		attribute.StringSlice("watson_assistant.entities.names", names),
		attribute.StringSlice("watson_assistant.entities.values", names),
		attribute.String("gen_ai.output.messages", long),
		attribute.String("gen_ai.response.id", "log-1"),
	}
	for i := range 300 {
		attrs = append(attrs, attribute.String("watson_assistant.context.k"+strings.Repeat("x", i), long[:200]))
	}
	s := mapping.Span{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Name: "invoke_agent " + long,
		Start: time.Unix(10, 0), End: time.Unix(11, 0), Attributes: attrs,
		Status: codes.Error, StatusDescription: long,
	}
	for i := range 500 {
		s.Events = append(s.Events, mapping.SpanEvent{Name: "watson_assistant.node_visited", Time: time.Unix(10, int64(i)),
			Attributes: []attribute.KeyValue{attribute.String("watson_assistant.dialog_node.title", long)}})
		s.Links = append(s.Links, mapping.Link{TraceID: trace.TraceID{9}, SpanID: trace.SpanID{byte(i)},
			Attributes: []attribute.KeyValue{attribute.String("k", long)}})
	}
	return s
}

func decodeSpanItem(t *testing.T, e *Encoder, item []byte) *collectortrace.ExportTraceServiceRequest {
	t.Helper()
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(e.TracesRequest(nil, item), &req); err != nil {
		t.Fatalf("item does not decode: %v", err)
	}
	return &req
}

func truncatedAttr(attrs []*commonpb.KeyValue) bool {
	for _, a := range attrs {
		if a.Key == TruncatedKey && a.Value.GetBoolValue() {
			return true
		}
	}
	return false
}

// TestItemBound: a span or record over its bound is cut down to it, marked,
// and its texts end in "…"; one under it is written as Add writes it.
func TestItemBound(t *testing.T) {
	e := NewEncoder(nil, "scope", "1", SpanLimits{-1, 128, 128, 128, 128, 128}, LogLimits{128, -1})
	s := poisonSpan()
	full, cutDown := e.AppendSpan(nil, &s, SpanMeta{Flags: 0x101}, 0)
	if cutDown || len(full) < 4<<20 {
		t.Fatalf("unbounded span: %d bytes, cut %v; want the whole (over 4 MiB)", len(full), cutDown)
	}
	for _, bound := range []int{3 << 20, 256 << 10, 64 << 10, 4 << 10, 1024, 1} {
		item, cutDown := e.AppendSpan(nil, &s, SpanMeta{Flags: 0x101}, bound)
		if !cutDown || len(item) > max(bound, minItemBound) {
			t.Fatalf("bound %d: span of %d bytes, cut %v", bound, len(item), cutDown)
		}
		got := decodeSpanItem(t, e, item).ResourceSpans[0].ScopeSpans[0].Spans[0]
		if !truncatedAttr(got.Attributes) {
			t.Errorf("bound %d: no %s attribute", bound, TruncatedKey)
		}
		if got.TraceId[0] != 1 || got.SpanId[0] != 2 || got.Status.Code != 2 || !strings.HasPrefix(got.Name, "invoke_agent ") || !strings.HasSuffix(got.Name, "…") {
			t.Errorf("bound %d: ids, status or name lost: %q", bound, got.Name[:min(len(got.Name), 40)])
		}
		if got.DroppedEventsCount == 0 || got.DroppedLinksCount == 0 {
			t.Errorf("bound %d: dropped events %d, links %d", bound, got.DroppedEventsCount, got.DroppedLinksCount)
		}
		t.Logf("bound %7d: span of %7d bytes (unbounded %d), %d attributes, %d events", bound, len(item), len(full), len(got.Attributes), len(got.Events))
	}

	// Under the bound: exactly what Add writes.
	small := mapping.Span{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Name: "n", Attributes: []attribute.KeyValue{attribute.String("k", "v")}}
	item, cutDown := e.AppendSpan(nil, &small, SpanMeta{Flags: 1}, 1024)
	tr := e.Traces(nil)
	tr.Add(&small, SpanMeta{Flags: 1})
	if cutDown || !bytes.Equal(e.TracesRequest(nil, item), tr.Finish()) {
		t.Error("a span under its bound is not written as Add writes it")
	}

	// Log records: a 3 MB body.
	r := mapping.LogRecord{Body: strings.Repeat("x", 3<<20), EventName: "watson_assistant.turn", Severity: log.SeverityInfo,
		Attributes: s.Attributes, TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}
	item, cutDown = e.AppendLog(nil, &r, LogMeta{}, 16<<10)
	var lreq collectorlogs.ExportLogsServiceRequest
	if err := proto.Unmarshal(e.LogsRequest(nil, item), &lreq); err != nil {
		t.Fatal(err)
	}
	got := lreq.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	if !cutDown || len(item) > 16<<10 || !truncatedAttr(got.Attributes) || !strings.HasSuffix(got.Body.GetStringValue(), "…") || got.TraceId[0] != 1 {
		t.Errorf("log record of %d bytes, cut %v, marked %v", len(item), cutDown, truncatedAttr(got.Attributes))
	}
}

// TestRequestFromItems: a request assembled from items is the request Add
// writes, and Overhead bounds what it adds around them.
func TestRequestFromItems(t *testing.T) {
	e := testEncoder()
	tr := e.Traces(nil)
	var items [][]byte
	total := 0
	for i := range 300 {
		s := mapping.Span{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{byte(i)}, Name: strings.Repeat("n", i*7)}
		tr.Add(&s, SpanMeta{})
		item, _ := e.AppendSpan(nil, &s, SpanMeta{}, 0)
		items = append(items, item)
		total += len(item)
	}
	want := tr.Finish()
	got := e.TracesRequest(nil, items...)
	if !bytes.Equal(got, want) {
		t.Fatal("assembled request differs from the one Add writes")
	}
	if len(got) > total+e.Overhead() {
		t.Errorf("request of %d bytes, items %d + overhead %d", len(got), total, e.Overhead())
	}
}
