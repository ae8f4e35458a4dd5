package exporter

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// failingMetricExporter fails every export.
type failingMetricExporter struct{ sdkmetric.Exporter }

func (failingMetricExporter) Export(context.Context, *metricdata.ResourceMetrics) error {
	return errors.New("collector unreachable")
}

// Failures of every signal are counted each time, and logged at most once
// per interval with the number of failures not logged.
func TestExportFailuresCountedAndRateLimited(t *testing.T) {
	var logs syncBuffer
	f := newExportFailures(slog.New(slog.NewTextHandler(&logs, nil)))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	c, err := mp.Meter(ScopeName).Int64Counter(ExportErrorsMetric)
	if err != nil {
		t.Fatal(err)
	}

	f.record(signalTraces, 3, errors.New("before the counter")) // logged, not counted
	f.setCounters(c, nil)
	exp := countingMetricExporter{failingMetricExporter{}, f}
	rm := &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: make([]metricdata.Metrics, 4)}}}
	for range 3 {
		if err := exp.Export(t.Context(), rm); err == nil {
			t.Fatal("wrapped exporter hid the error")
		}
	}
	f.record(signalTraces, 1, errors.New("again"))

	var got metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &got); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	for _, p := range got.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := p.Attributes.Value("signal")
		sums[v.AsString()] += p.Value
	}
	if sums["metrics"] != 3 || sums["traces"] != 1 {
		t.Errorf("export errors by signal %v, want metrics 3, traces 1", sums)
	}

	out := logs.String()
	if n := strings.Count(out, "signal=metrics"); n != 1 {
		t.Errorf("metrics failure logged %d times, want once per interval:\n%s", n, out)
	}
	if n := strings.Count(out, "signal=traces"); n != 1 {
		t.Errorf("traces failure logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "items=4") || !strings.Contains(out, `error="collector unreachable"`) {
		t.Errorf("log lacks items or error:\n%s", out)
	}
}

// A partial success counts the rejected items and is logged, rate-limited.
func TestPartialSuccessCountedAndLogged(t *testing.T) {
	var logs syncBuffer
	f := newExportFailures(slog.New(slog.NewTextHandler(&logs, nil)))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	c, err := mp.Meter(ScopeName).Int64Counter(ExportRejectedMetric)
	if err != nil {
		t.Fatal(err)
	}
	f.setCounters(nil, c)
	f.partial(signalLogs, 0, "") // a plain success
	f.partial(signalLogs, 3, "3 records dropped")
	f.partial(signalLogs, 2, "2 records dropped")
	f.partial(signalTraces, 0, "warning only")
	var got metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &got); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range got.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64]).DataPoints {
		total += p.Value
	}
	out := logs.String()
	if total != 5 || strings.Count(out, "signal=logs") != 1 || !strings.Contains(out, "3 records dropped") || !strings.Contains(out, "warning only") {
		t.Errorf("rejected %d, log:\n%s", total, out)
	}
}
