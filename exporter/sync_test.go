package exporter

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// flakySpans fails its first fail exports.
type flakySpans struct {
	*tracetest.InMemoryExporter
	fail  int32
	calls atomic.Int32
}

func (f *flakySpans) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if f.calls.Add(1) <= f.fail {
		return errors.New("endpoint down")
	}
	return f.InMemoryExporter.ExportSpans(ctx, spans)
}

// flakyMetrics fails its first fail exports.
type flakyMetrics struct {
	sdkmetric.Exporter
	fail  int32
	calls atomic.Int32
}

func (f *flakyMetrics) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if f.calls.Add(1) <= f.fail {
		return errors.New("endpoint down")
	}
	return nil
}

// TestSynchronousAcknowledgement: Build collects a batch's spans and
// records; Send returns the failure and resends only what was not
// acknowledged; FlushMetrics returns the metric export's error.
func TestSynchronousAcknowledgement(t *testing.T) {
	spans := &flakySpans{InMemoryExporter: tracetest.NewInMemoryExporter(), fail: 2}
	logs := &memLogs{}
	mexp, err := newConsoleMetricExporterForTest()
	if err != nil {
		t.Fatal(err)
	}
	metrics := &flakyMetrics{Exporter: mexp, fail: 1}
	logger := slog.New(slog.DiscardHandler)
	e, err := assemble(t.Context(), options{logger: logger, synchronous: true}, parts{
		resource: resource.Empty(), sampler: sdktrace.AlwaysSample(), description: "memory",
		failures: newExportFailures(logger), spans: spans, logs: logs,
		metrics: sdkmetric.NewPeriodicReader(metrics),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())

	b, err := e.Build(t.Context(), []mapping.Telemetry{testTelemetry(), testTelemetry()})
	if err != nil {
		t.Fatal(err)
	}
	if b.Spans() != 4 || b.LogRecords() != 2 || b.Done() {
		t.Fatalf("batch: %d spans, %d records, done %v", b.Spans(), b.LogRecords(), b.Done())
	}
	if len(spans.GetSpans()) != 0 || len(logs.Records()) != 0 {
		t.Fatal("Build exported before Send")
	}
	if err := e.Send(t.Context(), b); err == nil || b.Done() {
		t.Fatal("Send succeeded while the span exporter fails")
	}
	if n := len(logs.Records()); n != 2 {
		t.Fatalf("logs exported %d, want 2 (they succeeded)", n)
	}
	_ = e.Send(t.Context(), b) // spans fail again
	if err := e.Send(t.Context(), b); err != nil || !b.Done() {
		t.Fatalf("third Send: %v, done %v", err, b.Done())
	}
	if len(spans.GetSpans()) != 4 || len(logs.Records()) != 2 {
		t.Errorf("exported %d spans and %d records; want 4 and 2, each once", len(spans.GetSpans()), len(logs.Records()))
	}
	if err := e.FlushMetrics(t.Context()); err == nil {
		t.Error("FlushMetrics hid the export failure")
	}
	if err := e.FlushMetrics(t.Context()); err != nil {
		t.Errorf("second FlushMetrics: %v", err)
	}
	// An Exporter without WithSynchronous refuses Build.
	m := newMemExporter(t, sdktrace.AlwaysSample())
	if _, err := m.Build(t.Context(), nil); !errors.Is(err, ErrNotSynchronous) {
		t.Errorf("Build on an asynchronous exporter: %v", err)
	}
}

func newConsoleMetricExporterForTest() (sdkmetric.Exporter, error) {
	return consoleMetricExporter{newConsole(&syncBuffer{}, ConsoleDetail)}, nil
}
