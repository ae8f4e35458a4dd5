package exporter

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/internal/testlog"
	"github.com/assistant-otel/assistant-otel/mapping"
)

// A conversation of one turn with a callout, as mapping would produce it.
const testSessionID = "6f1c8d2e-3b4a-4c5d-9e8f-0a1b2c3d4e5f"

var (
	testTraceID = mapping.ConversationTraceID(testSessionID)
	testRootID  = mapping.TurnSpanID("log-1")
	testChildID = mapping.ChildSpanID("log-1", 0)
	// testLinkedID is a turn of an earlier event that a span links to.
	testLinkedID = mapping.TurnSpanID("log-0")
	testStart    = time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC)
)

func testTelemetry() mapping.Telemetry {
	return mapping.Telemetry{
		Spans: []mapping.Span{{
			TraceID: testTraceID,
			SpanID:  testRootID,
			Name:    "invoke_agent Demo",
			Kind:    trace.SpanKindServer,
			Start:   testStart,
			End:     testStart.Add(1234 * time.Millisecond),
			Attributes: []attribute.KeyValue{
				attribute.String("gen_ai.conversation.id", testSessionID),
				attribute.Float64("watson_assistant.intent.confidence", 0.87),
				attribute.Int("watson_assistant.turn_count", 1),
				attribute.Bool("watson_assistant.handoff", false),
				attribute.StringSlice("watson_assistant.entities", []string{"order_number", "date"}),
			},
			Events: []mapping.SpanEvent{{
				Name:       "watson_assistant.dialog_node",
				Time:       testStart.Add(100 * time.Millisecond),
				Attributes: []attribute.KeyValue{attribute.String("watson_assistant.node.id", "node_1")},
			}},
			Links: []mapping.Link{{
				TraceID:    testTraceID,
				SpanID:     testLinkedID,
				Attributes: []attribute.KeyValue{attribute.String("watson_assistant.link", "previous_turn")},
			}},
			Status:            codes.Error,
			StatusDescription: "callout failed",
		}, {
			TraceID:           testTraceID,
			SpanID:            testChildID,
			ParentID:          testRootID,
			Name:              "callout orders",
			Kind:              trace.SpanKindClient,
			Start:             testStart.Add(200 * time.Millisecond),
			End:               testStart.Add(900 * time.Millisecond),
			Attributes:        []attribute.KeyValue{attribute.Int("http.response.status_code", 503)},
			Status:            codes.Error,
			StatusDescription: "HTTP 503",
		}},
		Logs: []mapping.LogRecord{{
			EventName:    "watson_assistant.turn",
			Time:         testStart.Add(1234 * time.Millisecond),
			Severity:     log.SeverityWarn,
			SeverityText: "WARN",
			Body:         "Where is my order? 注文 🚚",
			Attributes: []attribute.KeyValue{
				attribute.String("watson_assistant.intent", "order_status"),
				attribute.Float64("watson_assistant.intent.confidence", 0.87),
			},
			TraceID: testTraceID,
			SpanID:  testRootID,
		}},
		Metrics: []mapping.Measurement{
			{Instrument: mapping.Turns, Value: 1, Attributes: outcome("answered"), TraceID: testTraceID, SpanID: testRootID},
			{Instrument: mapping.Turns, Value: 1, Attributes: outcome("answered"), TraceID: testTraceID, SpanID: testRootID},
			{Instrument: mapping.Turns, Value: 1, Attributes: outcome("fallback"), TraceID: testTraceID, SpanID: testRootID},
			{Instrument: mapping.ConversationsStarted, Value: 1, TraceID: testTraceID, SpanID: testRootID},
			{Instrument: mapping.IntentConfidence, Value: 0.87, TraceID: testTraceID, SpanID: testRootID},
			{Instrument: mapping.IntentConfidence, Value: 0.42, TraceID: testTraceID, SpanID: testRootID},
			{Instrument: mapping.TurnDuration, Value: 1.234, TraceID: testTraceID, SpanID: testRootID},
		},
	}
}

func outcome(o string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("watson_assistant.outcome", o)}
}

// memLogs is an in-memory log exporter.
type memLogs struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (m *memLogs) Export(_ context.Context, records []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range records {
		m.records = append(m.records, r.Clone())
	}
	return nil
}

func (m *memLogs) Records() []sdklog.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sdklog.Record(nil), m.records...)
}

func (*memLogs) Shutdown(context.Context) error   { return nil }
func (*memLogs) ForceFlush(context.Context) error { return nil }

// memExporter is an Exporter whose telemetry stays in memory.
type memExporter struct {
	*Exporter
	spans  *tracetest.InMemoryExporter
	logs   *memLogs
	reader *sdkmetric.ManualReader
}

func newMemExporter(t *testing.T, sampler sdktrace.Sampler) memExporter {
	t.Helper()
	m := memExporter{
		spans:  tracetest.NewInMemoryExporter(),
		logs:   &memLogs{},
		reader: sdkmetric.NewManualReader(),
	}
	logger := slog.New(slog.DiscardHandler)
	e, err := assemble(t.Context(), options{logger: logger, serviceVersion: "test"}, parts{
		resource:    resource.Empty(),
		sampler:     sampler,
		description: "memory",
		failures:    newExportFailures(logger),
		spans:       m.spans,
		logs:        m.logs,
		metrics:     m.reader,
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Exporter = e
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return m
}

// flush pushes spans and logs to the in-memory exporters.
func (m memExporter) flush(t *testing.T) {
	t.Helper()
	if err := m.tp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.lp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// clearOTelEnv makes every OTEL_* variable of the environment empty for the
// test, which the SDK, autoexport and this package treat as unset.
func clearOTelEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
	for _, k := range []string{
		envEndpoint, envProtocol, envSampler, envSamplerArg, envMetricInterval,
		"OTEL_TRACES_EXPORTER", "OTEL_LOGS_EXPORTER", "OTEL_METRICS_EXPORTER",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_HEADERS",
	} {
		t.Setenv(k, "")
	}
}

type syncBuffer = testlog.Buffer
