package otlpwire

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// FuzzEncode writes spans and log records of arbitrary texts, sizes and
// limits and checks that the official protobuf types decode every request
// to the values given: lengths and nesting are right whatever the sizes,
// strings come back valid UTF-8 and cut to the limit, nothing is lost.
func FuzzEncode(f *testing.F) {
	f.Add("invoke_agent", "key", "value", uint16(1), int8(-1), int64(7))
	f.Add("", "", "", uint16(0), int8(0), int64(0))
	f.Add("a\xffb", "k\x80", strings.Repeat("é", 100), uint16(300), int8(5), int64(-1))
	f.Add(strings.Repeat("x", 200), "dup", strings.Repeat("日本", 40), uint16(2), int8(3), int64(1<<40))
	f.Fuzz(func(t *testing.T, name, key, value string, count uint16, limit int8, n int64) {
		// Up to 300 attributes of up to 256 bytes: spans, events and
		// attributes around the one-, two- and three-byte length boundaries.
		count %= 300
		if len(value) > 256 {
			value = value[:256]
		}
		lim := int(limit)
		e := NewEncoder(nil, name, value, SpanLimits{lim, -1, -1, -1, -1, -1}, LogLimits{-1, lim})
		attrs := make([]attribute.KeyValue, 0, int(count)+4)
		for i := range int(count) {
			attrs = append(attrs, attribute.String(key+strings.Repeat("+", i), value))
		}
		attrs = append(attrs, attribute.Int64("n", n), attribute.StringSlice("ss", []string{value, name}),
			attribute.Bool("b", n%2 == 0), attribute.Float64("f", float64(n)/3))
		s := mapping.Span{
			TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Name: name,
			Start: time.Unix(0, max(n, 0)), End: time.Unix(1, 0), Attributes: attrs,
			Events: []mapping.SpanEvent{{Name: value, Time: time.Unix(2, 0), Attributes: attrs[len(attrs)-4:]}},
		}
		tr := e.Traces(nil)
		tr.Add(&s, SpanMeta{Flags: 0x101})
		tr.Add(&s, SpanMeta{Flags: 0x301})
		var treq collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(tr.Finish(), &treq); err != nil {
			t.Fatalf("traces do not decode: %v", err)
		}
		ss := treq.ResourceSpans[0].ScopeSpans[0]
		if ss.Scope.Name != validUTF8(name) || ss.Scope.Version != validUTF8(value) || len(ss.Spans) != 2 {
			t.Fatalf("scope %v, %d spans", ss.Scope, len(ss.Spans))
		}
		wantValue := truncate(validUTF8(value), lim)
		for _, got := range ss.Spans {
			if got.Name != validUTF8(name) || got.EndTimeUnixNano != 1e9 {
				t.Fatalf("span name %q, end %d", got.Name, got.EndTimeUnixNano)
			}
			// Keys may repeat when key is empty or ends in "+": DedupAttributes keeps one each.
			dedup := DedupAttributes(attrs)
			if len(got.Attributes) != len(dedup) {
				t.Fatalf("%d attributes, want %d", len(got.Attributes), len(dedup))
			}
			for i, kv := range got.Attributes {
				if kv.Key != validUTF8(string(dedup[i].Key)) {
					t.Fatalf("attribute %d key %q, want %q", i, kv.Key, dedup[i].Key)
				}
				if dedup[i].Value.Type() == attribute.STRING && kv.Value.GetStringValue() != wantValue {
					t.Fatalf("attribute %d value %q, want %q", i, kv.Value.GetStringValue(), wantValue)
				}
			}
			if len(got.Events) != 1 || got.Events[0].Name != validUTF8(value) || len(got.Events[0].Attributes) != 4 {
				t.Fatalf("events %v", got.Events)
			}
		}

		l := e.Logs(nil)
		r := mapping.LogRecord{EventName: name, Body: value, Severity: log.Severity(limit), Attributes: attrs, TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}
		l.Add(&r, LogMeta{TraceFlags: 1})
		var lreq collectorlogs.ExportLogsServiceRequest
		if err := proto.Unmarshal(l.Finish(), &lreq); err != nil {
			t.Fatalf("logs do not decode: %v", err)
		}
		got := lreq.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
		if got.EventName != validUTF8(name) || got.Body.GetStringValue() != validUTF8(value) || len(got.Attributes) != len(DedupAttributes(attrs)) || got.Flags != 1 {
			t.Fatalf("log record %v", got)
		}

		// Bounded items: never over the bound, and still decodable.
		bound := minItemBound + int(uint64(n)%(64<<10))
		full, _ := e.AppendSpan(nil, &s, SpanMeta{Flags: 0x101}, 0)
		item, cut := e.AppendSpan(nil, &s, SpanMeta{Flags: 0x101}, bound)
		if len(item) > bound || cut != (len(full) > bound) {
			t.Fatalf("span item of %d bytes under a bound of %d (cut %v)", len(item), bound, cut)
		}
		if err := proto.Unmarshal(e.TracesRequest(nil, item), &treq); err != nil {
			t.Fatalf("bounded span does not decode: %v", err)
		}
		item, _ = e.AppendLog(nil, &r, LogMeta{}, bound)
		if len(item) > bound {
			t.Fatalf("log item of %d bytes under a bound of %d", len(item), bound)
		}
		if err := proto.Unmarshal(e.LogsRequest(nil, item), &lreq); err != nil {
			t.Fatalf("bounded log record does not decode: %v", err)
		}
	})
}
