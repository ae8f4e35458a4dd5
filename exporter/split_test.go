package exporter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/mapping"
)

// turns returns n events of one span and one log record each, the event's
// id in gen_ai.response.id, with texts of about size bytes.
func turns(n, size int) []mapping.Telemetry {
	ts := make([]mapping.Telemetry, n)
	for i := range ts {
		id := fmt.Sprintf("log-%04d", i)
		text := strings.Repeat(string(rune('a'+i%26)), size)
		attrs := []attribute.KeyValue{attribute.String("gen_ai.response.id", id), attribute.String("gen_ai.output.messages", text)}
		ts[i] = mapping.Telemetry{
			Spans: []mapping.Span{{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{byte(i >> 8), byte(i), 1}, Name: "invoke_agent",
				Start: time.Unix(100, 0), End: time.Unix(101, 0), Attributes: attrs}},
			Logs: []mapping.LogRecord{{EventName: "watson_assistant.turn", Body: text, Severity: log.SeverityInfo, Time: time.Unix(101, 0),
				TraceID: trace.TraceID{1}, SpanID: trace.SpanID{byte(i >> 8), byte(i), 1}, Attributes: attrs}},
		}
	}
	return ts
}

func newWireExporter(t *testing.T, srv *otlptest.Server, opts ...Option) *Exporter {
	t.Helper()
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", srv.Protocol())
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	e, err := New(t.Context(), append([]Option{WithSynchronous()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if e.sync.wire == nil {
		t.Fatal("not on the wire path")
	}
	t.Cleanup(func() { _ = e.Shutdown(t.Context()) })
	return e
}

func ids[T any](items []T, id func(T) any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := id(it).(string)
		out = append(out, s)
	}
	return out
}

// TestSplitUnderLimit: a batch larger than the request limit goes out in
// several requests, each under the limit, with nothing lost and the order
// kept, over gRPC and HTTP.
func TestSplitUnderLimit(t *testing.T) {
	for _, start := range []func(testing.TB, ...otlptest.Option) *otlptest.Server{otlptest.StartGRPC, otlptest.StartHTTP} {
		srv := start(t)
		t.Run(srv.Protocol(), func(t *testing.T) {
			const limit = 64 << 10
			e := newWireExporter(t, srv, WithMaxRequestBytes(limit))
			ts := turns(300, 2000) // 0.6 MB of spans, 1.2 MB of log records
			ts[17].Spans[0].Attributes = append(ts[17].Spans[0].Attributes, attribute.String("huge", strings.Repeat("x", 5<<20)))
			b, err := e.Build(t.Context(), ts)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Send(t.Context(), b); err != nil || !b.Done() {
				t.Fatalf("Send = %v, done %v", err, b.Done())
			}
			sizes := srv.RequestSizes()
			if len(sizes) < 300*2000*3/limit {
				t.Errorf("%d requests for 1.8 MB under %d bytes", len(sizes), limit)
			}
			for i, n := range sizes {
				if n > limit {
					t.Errorf("request %d: %d bytes, over the %d limit", i, n, limit)
				}
			}
			want := ids(ts, func(t mapping.Telemetry) any { return t.Spans[0].Attributes[0].Value.AsString() })
			gotSpans := ids(srv.Spans(), func(s otlptest.Span) any { return s.Attributes["gen_ai.response.id"] })
			gotLogs := ids(srv.LogRecords(), func(l otlptest.LogRecord) any { return l.Attributes["gen_ai.response.id"] })
			if strings.Join(gotSpans, ",") != strings.Join(want, ",") || strings.Join(gotLogs, ",") != strings.Join(want, ",") {
				t.Errorf("arrived out of order or not all: %d spans, %d logs of %d", len(gotSpans), len(gotLogs), len(want))
			}
			if s := srv.Spans()[17]; s.Attributes[TruncatedAttr] != true {
				t.Errorf("the huge span is not marked truncated: %v", s.Attributes[TruncatedAttr])
			}
			t.Logf("%s: 300 events (one with a 5 MiB attribute) in %d requests of at most %d bytes", srv.Protocol(), len(sizes), limit)
		})
	}
}

// TestRefusedEventIsSetAside: the endpoint refuses (InvalidArgument, 400)
// every request holding one event: Send narrows it down, sets it aside and
// delivers everything else; nothing is counted twice.
func TestRefusedEventIsSetAside(t *testing.T) {
	for _, start := range []func(testing.TB, ...otlptest.Option) *otlptest.Server{otlptest.StartGRPC, otlptest.StartHTTP} {
		srv := start(t)
		t.Run(srv.Protocol(), func(t *testing.T) {
			const poison = "log-0137"
			srv.SetRefuse(func(spans []otlptest.Span, logs []otlptest.LogRecord) otlptest.Refusal {
				for _, s := range spans {
					if s.Attributes["gen_ai.response.id"] == poison {
						return otlptest.RefuseContent
					}
				}
				for _, l := range logs {
					if l.Attributes["gen_ai.response.id"] == poison {
						return otlptest.RefuseContent
					}
				}
				return otlptest.Accept
			})
			e := newWireExporter(t, srv)
			ts := turns(300, 100)
			b, err := e.Build(t.Context(), ts)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Send(t.Context(), b); err != nil || !b.Done() {
				t.Fatalf("Send = %v, done %v", err, b.Done())
			}
			dead := b.DeadLetters()
			if len(dead) != 1 || dead[0].Index != 137 {
				t.Fatalf("dead letters %+v, want event 137", dead)
			}
			if dead[0].Reason != "grpc_invalid_argument" && dead[0].Reason != "http_400" {
				t.Errorf("reason %q", dead[0].Reason)
			}
			spans, logs := srv.Spans(), srv.LogRecords()
			if len(spans) != 299 || len(logs) != 299 {
				t.Errorf("%d spans and %d logs arrived, want 299 each", len(spans), len(logs))
			}
			seen := map[any]int{}
			for _, s := range spans {
				seen[s.Attributes["gen_ai.response.id"]]++
			}
			if seen[poison] != 0 || len(seen) != 299 {
				t.Errorf("poison arrived %d times, %d distinct", seen[poison], len(seen))
			}
			_, refused := srv.Requests()
			t.Logf("%s: one refused event among 300: set aside after %d refused requests", srv.Protocol(), refused)
			if refused > 2*2*10 {
				t.Errorf("%d refused requests: not a bisection", refused)
			}
		})
	}
}

// TestMisconfiguredIsNotDeadLettered: 401/Unauthenticated refuses every
// request: Send sets nothing aside and reports a misconfiguration; once it
// is fixed, the same batch goes out.
func TestMisconfiguredIsNotDeadLettered(t *testing.T) {
	for _, start := range []func(testing.TB, ...otlptest.Option) *otlptest.Server{otlptest.StartGRPC, otlptest.StartHTTP} {
		srv := start(t)
		t.Run(srv.Protocol(), func(t *testing.T) {
			srv.SetRefuse(func([]otlptest.Span, []otlptest.LogRecord) otlptest.Refusal { return otlptest.RefuseAuth })
			e := newWireExporter(t, srv)
			b, err := e.Build(t.Context(), turns(50, 100))
			if err != nil {
				t.Fatal(err)
			}
			err = e.Send(t.Context(), b)
			if mis, _ := FailureOf(err); err == nil || !mis || b.Done() || len(b.DeadLetters()) != 0 {
				t.Fatalf("Send = %v (misconfigured %v), done %v, dead letters %d", err, mis, b.Done(), len(b.DeadLetters()))
			}
			srv.SetRefuse(nil)
			if err := e.Send(t.Context(), b); err != nil || !b.Done() {
				t.Fatalf("Send after the fix = %v", err)
			}
			if n := len(srv.Spans()); n != 50 {
				t.Errorf("%d spans arrived", n)
			}
		})
	}
}

// TestOneExportPath: with traces to the console and logs over OTLP (or the
// reverse), the OTLP signal still leaves through the wire path, split under
// the limit, and the console still prints the other.
func TestOneExportPath(t *testing.T) {
	for _, consoleSignal := range []string{"TRACES", "LOGS"} {
		t.Run(consoleSignal, func(t *testing.T) {
			srv := otlptest.StartGRPC(t)
			clearOTelEnv(t)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
			t.Setenv("OTEL_METRICS_EXPORTER", "none")
			t.Setenv("OTEL_"+consoleSignal+"_EXPORTER", "console")
			var console syncBuffer
			e, err := New(t.Context(), WithSynchronous(), WithConsole(&console), WithMaxRequestBytes(MinMaxRequestBytes))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = e.Shutdown(t.Context()) }()
			if e.sync.wire == nil {
				t.Fatal("the OTLP signal does not take the wire path")
			}
			b, err := e.Build(t.Context(), turns(40, 1000))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Send(t.Context(), b); err != nil || !b.Done() {
				t.Fatalf("Send = %v, done %v", err, b.Done())
			}
			otlpItems := len(srv.Spans()) + len(srv.LogRecords())
			if otlpItems != 40 || len(srv.RequestSizes()) < 2 {
				t.Errorf("%d items in %d requests over OTLP, want 40 in several", otlpItems, len(srv.RequestSizes()))
			}
			if !strings.Contains(console.String(), "log-0039") {
				t.Errorf("the console did not print the other signal")
			}
		})
	}
}

// TestFailureOf reads a Send error: a misconfiguration anywhere in it wins,
// and the longest delay the endpoint asked for is kept.
func TestFailureOf(t *testing.T) {
	transient := &SendError{RetryAfter: 3 * time.Second, Err: errors.New("429")}
	mis := &SendError{Misconfigured: true, Err: errors.New("401")}
	for _, tc := range []struct {
		err   error
		mis   bool
		after time.Duration
	}{
		{nil, false, 0},
		{errors.New("console"), false, 0},
		{fmt.Errorf("traces: %w", transient), false, 3 * time.Second},
		{errors.Join(fmt.Errorf("traces: %w", transient), fmt.Errorf("logs: %w", mis)), true, 3 * time.Second},
		{errors.Join(fmt.Errorf("logs: %w", &SendError{RetryAfter: time.Second, Err: errors.New("503")}), transient), false, 3 * time.Second},
	} {
		if mis, after := FailureOf(tc.err); mis != tc.mis || after != tc.after {
			t.Errorf("FailureOf(%v) = %v, %v; want %v, %v", tc.err, mis, after, tc.mis, tc.after)
		}
	}
}

// TestRefusingEverythingIsMisconfigured: an endpoint refusing every event
// of a batch on its own (a proxy answering 400 to anything) sets nothing
// aside: it is taken as misconfigured, and the batch goes out once fixed.
func TestRefusingEverythingIsMisconfigured(t *testing.T) {
	srv := otlptest.StartHTTP(t)
	srv.SetRefuse(func([]otlptest.Span, []otlptest.LogRecord) otlptest.Refusal { return otlptest.RefuseContent })
	e := newWireExporter(t, srv)
	b, err := e.Build(t.Context(), turns(refuseAllMin, 100))
	if err != nil {
		t.Fatal(err)
	}
	err = e.Send(t.Context(), b)
	if mis, _ := FailureOf(err); !mis || b.Done() || len(b.DeadLetters()) != 0 {
		t.Fatalf("Send = %v (misconfigured %v), done %v, %d dead letters", err, mis, b.Done(), len(b.DeadLetters()))
	}
	srv.SetRefuse(nil)
	if err := e.Send(t.Context(), b); err != nil || !b.Done() || len(srv.Spans()) != refuseAllMin || len(srv.LogRecords()) != refuseAllMin {
		t.Fatalf("after the fix: Send = %v, %d spans, %d logs", err, len(srv.Spans()), len(srv.LogRecords()))
	}
}
