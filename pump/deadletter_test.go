package pump

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/assistant-otel/assistant-otel/deadletter"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// deadLetterCount returns assistant_otel.export.dead_letters by stored.
func deadLetterCount(t *testing.T, r *sdkmetric.ManualReader) map[bool]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[bool]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != MetricDeadLetters {
				continue
			}
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				stored, _ := p.Attributes.Value("stored")
				out[stored.AsBool()] += p.Value
			}
		}
	}
	return out
}

// TestDeadLetters: an event the endpoint refuses for its content is set
// aside with its raw body (read back from the spool: the pump had only the
// decoded event) and counted; the others are exported and every record
// leaves the queue. Without a store it is counted as not stored and logged
// as dropped.
func TestDeadLetters(t *testing.T) {
	for _, withStore := range []bool{true, false} {
		t.Run(map[bool]string{true: "store", false: "no store"}[withStore], func(t *testing.T) {
			srv := otlptest.StartGRPC(t)
			srv.SetRefuse(func(spans []otlptest.Span, logs []otlptest.LogRecord) otlptest.Refusal {
				for _, s := range spans {
					if s.Attributes["gen_ai.response.id"] == "bad" {
						return otlptest.RefuseContent
					}
				}
				return otlptest.Accept
			})
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.Endpoint())
			t.Setenv("OTEL_METRICS_EXPORTER", "none")
			exp, err := exporter.New(t.Context(), exporter.WithSynchronous())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = exp.Shutdown(t.Context()) }()
			mapper, err := mapping.New(mapping.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			q, _, err := spool.Open(dir, spool.Options{MaxBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			in, err := intake.New(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			bodies := map[string]string{}
			for _, id := range []string{"a", "b", "bad", "c", "d"} {
				body := `{"event":{"name":"message_logged"},"payload":{"log_id":"` + id + `","request":{"input":{"text":"hi"}}}}`
				bodies[id] = body
				ev, err := watson.Decode([]byte(body))
				if err != nil {
					t.Fatal(err)
				}
				if err := in.Consume(t.Context(), ev, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			var store *deadletter.Store
			// Batches of two, prepared by three workers while one is sent.
			opts := Options{Queue: q, Map: mapper.Map, Exporter: exp, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
				MaxBatch: 2, Workers: 3}
			if withStore {
				if store, err = deadletter.Open(filepath.Join(dir, deadletter.DirName), 0); err != nil {
					t.Fatal(err)
				}
				opts.DeadLetters = store
			}
			reader := sdkmetric.NewManualReader()
			opts.Meter = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test")
			var log bytes.Buffer
			opts.Logger = slog.New(slog.NewTextHandler(&log, nil))
			p, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			p.Drain()
			if err := p.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if q.Stats().Events != 0 || len(srv.Spans()) != 4 {
				t.Errorf("left %d in the queue, %d spans arrived; want 0 and 4", q.Stats().Events, len(srv.Spans()))
			}
			counts := deadLetterCount(t, reader)
			if withStore {
				list, _ := store.List()
				if len(list) != 1 || counts[true] != 1 || counts[false] != 0 {
					t.Fatalf("%d dead letters, counted %v", len(list), counts)
				}
				l, err := store.Read(list[0].Name)
				if err != nil || l.LogID != "bad" || string(l.Body) != bodies["bad"] || l.Reason != "grpc_invalid_argument" {
					t.Errorf("dead letter %+v, %v", l, err)
				}
			} else if counts[false] != 1 || !strings.Contains(log.String(), "DROPPED") {
				t.Errorf("counted %v; log:\n%s", counts, log.String())
			}
			if strings.Contains(log.String(), `"hi"`) || strings.Contains(log.String(), "=hi") {
				t.Error("the conversation text is in the log")
			}
		})
	}
}
