package exporter

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ExportErrorsMetric is the name of the counter of failed exports; its
// attribute signal is traces, logs or metrics.
const ExportErrorsMetric = "assistant_otel.export.errors"

// Metric names of what the wire path did to items: spans and log records
// rejected by a partial success, and cut down to their size bound.
const (
	ExportRejectedMetric  = "assistant_otel.export.rejected"
	ExportTruncatedMetric = "assistant_otel.export.truncated"
)

// Signal names, as used in the signal attribute and in Describe.
const (
	signalTraces  = "traces"
	signalLogs    = "logs"
	signalMetrics = "metrics"
)

// failureLogInterval is the least time between two warnings about failed
// exports of one signal; failures in between are counted and reported with
// the next warning.
const failureLogInterval = 30 * time.Second

// exportFailures counts failed exports and logs them, rate-limited. The
// counter is attached once the MeterProvider exists; failures before that
// are only logged.
type exportFailures struct {
	logger *slog.Logger

	mu         sync.Mutex
	counter    metric.Int64Counter
	rejected   metric.Int64Counter
	lastLogged map[string]time.Time
	suppressed map[string]int
}

func newExportFailures(logger *slog.Logger) *exportFailures {
	return &exportFailures{
		logger:     logger,
		lastLogged: make(map[string]time.Time),
		suppressed: make(map[string]int),
	}
}

func (f *exportFailures) setCounters(errs, rejected metric.Int64Counter) {
	f.mu.Lock()
	f.counter, f.rejected = errs, rejected
	f.mu.Unlock()
}

// partial accounts for an accepted export that was a partial success:
// rejected items are counted (assistant_otel.export.rejected) and the
// endpoint's message is logged, rate-limited like failures. Resending would
// not help: the endpoint accepted the request.
func (f *exportFailures) partial(signal string, rejected int64, msg string) {
	if rejected <= 0 && msg == "" {
		return
	}
	now := time.Now()
	key := "partial " + signal
	f.mu.Lock()
	counter := f.rejected
	last, seen := f.lastLogged[key]
	logIt := !seen || now.Sub(last) >= failureLogInterval
	if logIt {
		f.lastLogged[key] = now
	}
	f.mu.Unlock()
	if counter != nil && rejected > 0 {
		counter.Add(context.Background(), rejected, metric.WithAttributes(attribute.String("signal", signal)))
	}
	if logIt {
		f.logger.Warn("telemetry export partly succeeded: the endpoint rejected some items",
			slog.String("signal", signal), slog.Int64("rejected", rejected), slog.String("message", msg))
	}
}

// record accounts for one failed export of items items of a signal. The error
// of an OTLP exporter names the endpoint and the failure, never the payload.
func (f *exportFailures) record(signal string, items int, err error) {
	now := time.Now()
	f.mu.Lock()
	counter := f.counter
	last, seen := f.lastLogged[signal]
	logIt := !seen || now.Sub(last) >= failureLogInterval
	suppressed := f.suppressed[signal]
	if logIt {
		f.lastLogged[signal] = now
		f.suppressed[signal] = 0
	} else {
		f.suppressed[signal]++
	}
	f.mu.Unlock()

	if counter != nil {
		counter.Add(context.Background(), 1, metric.WithAttributes(attribute.String("signal", signal)))
	}
	if logIt {
		f.logger.Warn("telemetry export failed",
			slog.String("signal", signal),
			slog.Int("items", items),
			slog.Int("suppressed_failures", suppressed),
			slog.String("error", err.Error()))
	}
}

// countingSpanExporter reports the failures of the span exporter it wraps.
type countingSpanExporter struct {
	sdktrace.SpanExporter
	failures *exportFailures
}

func (e countingSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.failures.record(signalTraces, len(spans), err)
	}
	return err
}

// countingLogExporter reports the failures of the log exporter it wraps.
type countingLogExporter struct {
	sdklog.Exporter
	failures *exportFailures
}

func (e countingLogExporter) Export(ctx context.Context, records []sdklog.Record) error {
	err := e.Exporter.Export(ctx, records)
	if err != nil {
		e.failures.record(signalLogs, len(records), err)
	}
	return err
}

// countingMetricExporter reports the failures of the metric exporter it
// wraps.
type countingMetricExporter struct {
	sdkmetric.Exporter
	failures *exportFailures
}

func (e countingMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.Exporter.Export(ctx, rm)
	if err != nil {
		n := 0
		for _, sm := range rm.ScopeMetrics {
			n += len(sm.Metrics)
		}
		e.failures.record(signalMetrics, n, err)
	}
	return err
}
