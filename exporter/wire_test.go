package exporter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/watson"
)

// startCapture starts an OTLP/gRPC endpoint that keeps every request.
func startCapture(t *testing.T) *otlptest.Server {
	return otlptest.StartGRPC(t, otlptest.KeepRequests())
}

// exportBothWays sends ts through the SDK path and through the wire path of
// a synchronous exporter and returns the requests each produced.
func exportBothWays(t *testing.T, c *otlptest.Server, ts []mapping.Telemetry, extra ...Option) (sdk, wire [2][]proto.Message) {
	t.Helper()
	for i, sdkOnly := range []bool{true, false} {
		opts := append([]Option{WithSynchronous(), WithServiceVersion("1.2.3"), withSDKOnly(sdkOnly)}, extra...)
		e, err := New(t.Context(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.sync.wire != nil; got == sdkOnly {
			t.Fatalf("sdkOnly=%v but wire path %v", sdkOnly, got)
		}
		b, err := e.Build(t.Context(), ts)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Send(t.Context(), b); err != nil || !b.Done() {
			t.Fatalf("send (sdkOnly=%v): %v, done %v", sdkOnly, err, b.Done())
		}
		if err := e.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		var out [2][]proto.Message
		for _, r := range c.TakeReceived() {
			switch r.Signal {
			case "traces":
				out[0] = append(out[0], decode(t, r, new(collectortrace.ExportTraceServiceRequest)))
			case "logs":
				req := decode(t, r, new(collectorlogs.ExportLogsServiceRequest))
				for _, rl := range req.ResourceLogs {
					for _, sl := range rl.ScopeLogs {
						for _, lr := range sl.LogRecords {
							lr.ObservedTimeUnixNano = 0 // set at emit time
						}
					}
				}
				out[1] = append(out[1], req)
			}
		}
		if i == 0 {
			sdk = out
		} else {
			wire = out
		}
	}
	return sdk, wire
}

// decode returns the body of r decoded into m.
func decode[M proto.Message](t *testing.T, r otlptest.Request, m M) M {
	t.Helper()
	if err := proto.Unmarshal(r.Body, m); err != nil {
		t.Fatalf("a %s request does not decode: %v", r.Signal, err)
	}
	return m
}

func withSDKOnly(v bool) Option { return func(o *options) { o.sdkOnly = v } }

func setOTLPEnv(t *testing.T, endpoint string) {
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test,service.instance.id=i-1")
}

func compareRequests(t *testing.T, sdk, wire [2][]proto.Message) {
	t.Helper()
	for i, signal := range []string{"traces", "logs"} {
		if diff := cmp.Diff(sdk[i], wire[i], protocmp.Transform()); diff != "" {
			t.Errorf("%s: the wire path's request differs from the SDK's (-sdk +wire):\n%s", signal, diff)
		}
	}
}

// TestWireMatchesSDKOnCorpus maps every corpus body and edge fixture and
// checks that the wire path sends exactly what the SDK's exporters send.
func TestWireMatchesSDKOnCorpus(t *testing.T) {
	c := startCapture(t)
	setOTLPEnv(t, c.Endpoint())
	var files []string
	for _, pattern := range []string{"../testdata/corpus/*.json", "../testdata/corpus/other-events/*.json", "../mapping/testdata/edge/*.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	opts := mapping.DefaultOptions()
	opts.PseudonymKey = []byte("wire-test")
	m, err := mapping.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var all []mapping.Telemetry
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := watson.Decode(body)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		tel := m.Map(ev, received)
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			sdk, wire := exportBothWays(t, c, []mapping.Telemetry{tel})
			compareRequests(t, sdk, wire)
		})
		all = append(all, tel)
	}
	// And all of them in one batch, as the pump sends them.
	sdk, wire := exportBothWays(t, c, all)
	if len(sdk[0]) == 0 || len(sdk[1]) == 0 {
		t.Fatalf("the SDK path sent %d trace and %d logs requests; want both", len(sdk[0]), len(sdk[1]))
	}
	compareRequests(t, sdk, wire)
}

// TestWireMatchesSDKOnEdges covers what the corpus does not: the SDK's
// limits, duplicate keys, every attribute type, status codes, remote and
// local parents, links, and a sampler that drops some conversations.
func TestWireMatchesSDKOnEdges(t *testing.T) {
	c := startCapture(t)
	setOTLPEnv(t, c.Endpoint())
	t.Setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "6")
	t.Setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "2")
	t.Setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "1")
	t.Setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1")
	t.Setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "0")
	t.Setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5")
	t.Setenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "4")
	t.Setenv("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0.5")

	attrs := []attribute.KeyValue{
		attribute.String("s", "héllo wörld"),
		attribute.Bool("b", false),
		attribute.Int64("i", -7),
		attribute.Float64("f", 0),
		attribute.StringSlice("ss", []string{"abcdefgh", ""}),
		attribute.String("s", "dup wins"),
		attribute.BoolSlice("bs", []bool{true, false}),
		attribute.Int64Slice("is", []int64{1, -2}),
		attribute.Float64Slice("fs", []float64{1.5}),
		{Key: "empty"},
	}
	var ts []mapping.Telemetry
	for i := range 40 { // enough conversations for the sampler to keep some and drop some
		id := mapping.ConversationTraceID("00000000-0000-4000-8000-" + strings.Repeat("0", 10) + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		root := mapping.TurnSpanID("log-" + string(rune('a'+i)))
		child := mapping.ChildSpanID("log-"+string(rune('a'+i)), 0)
		start := time.Date(2026, 5, 1, 10, 0, i, 0, time.UTC)
		ts = append(ts, mapping.Telemetry{
			Spans: []mapping.Span{
				{
					TraceID: id, SpanID: root, Name: "invoke_agent", Kind: trace.SpanKindServer,
					Start: start, End: start.Add(time.Second), Attributes: attrs,
					Events: []mapping.SpanEvent{
						{Name: "e1", Time: start, Attributes: attrs[:2]},
						{Name: "e2", Time: start.Add(time.Millisecond)},
						{Name: "e3", Time: start.Add(2 * time.Millisecond), Attributes: attrs[3:5]},
					},
					Links: []mapping.Link{
						{TraceID: id, SpanID: testLinkedID, Attributes: attrs[:1]},
						{TraceID: id, SpanID: testRootID},
					},
					Status: codes.Error, StatusDescription: "failed",
				},
				{
					TraceID: id, SpanID: child, ParentID: root, Name: "execute_tool", Kind: trace.SpanKindClient,
					Start: start, End: start.Add(time.Millisecond), Status: codes.Ok, StatusDescription: "dropped for OK",
				},
				{
					TraceID: id, SpanID: mapping.ChildSpanID("log-x", i), ParentID: testLinkedID, Name: "late child",
					Start: start, End: start,
				},
			},
			Logs: []mapping.LogRecord{
				{EventName: "watson_assistant.turn", Time: start, Severity: log.SeverityWarn, SeverityText: "WARN", Body: "body text",
					Attributes: attrs, TraceID: id, SpanID: root},
				{EventName: "no.trace", Time: start, Severity: log.SeverityInfo, SpanID: root},
				{Time: start, TraceID: id},
			},
		})
	}
	sdk, wire := exportBothWays(t, c, ts)
	if len(sdk[0]) == 0 || len(sdk[1]) == 0 {
		t.Fatalf("the SDK path sent %d trace and %d logs requests; want both", len(sdk[0]), len(sdk[1]))
	}
	compareRequests(t, sdk, wire)
	// The sampler kept some and dropped some, or this test proves less.
	n := 0
	for _, r := range sdk[0] {
		for _, rs := range r.(*collectortrace.ExportTraceServiceRequest).ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				n += len(ss.Spans)
			}
		}
	}
	if n == 0 || n == 3*len(ts) {
		t.Fatalf("sampler kept %d of %d spans; want some but not all", n, 3*len(ts))
	}
}
