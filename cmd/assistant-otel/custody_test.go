package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
)

// TestCollectorQueueFullRefusesNotDrops (issue 12): the shipped otel-collector.yaml acknowledges
// nothing it has not put in its persistent queue. Jaeger and Loki are down (the sinks refuse), so
// the Collector's queues fill up (made small here: 4 MiB instead of 2 GiB); then its receiver must
// refuse, the service must keep the events in its spool (/readyz degraded), and once the backends
// are back every acknowledged turn must arrive. A `batch` processor in front of the queue (the
// old shape) acknowledges what it holds in memory and drops it when the queue is full: turns go
// missing, and the service never sees a refusal.
func TestCollectorQueueFullRefusesNotDrops(t *testing.T) {
	otelcol := otelcolBinary(t)
	dir := t.TempDir()
	tmpl, err := loadgen.LoadTemplates("../../testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}
	jaeger, loki := otlptest.StartGRPC(t, otlptest.Failing()), otlptest.StartHTTP(t, otlptest.Failing())
	grpcPort, _, _ := shippedCollector(t, otelcol, dir, jaeger, loki, func(col map[string]any) {
		for _, exp := range []string{"otlp_grpc/jaeger", "otlp_http/loki"} {
			// Small enough to fill in seconds, larger than one request of the service.
			setPath(t, col, 4<<20, "exporters", exp, "sending_queue", "queue_size")
			// Quick retries once the backends are back.
			setPath(t, col, "1s", "exporters", exp, "retry_on_failure", "max_interval")
		}
	})
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", grpcPort),
		"OTEL_METRICS_EXPORTER=none",
	), "--spool-dir", t.TempDir())
	readyz := strings.Replace(svc.url, "/webhook", "/readyz", 1)
	degraded := func() string {
		resp, err := http.Get(readyz)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), "degraded") {
			return strings.TrimSpace(string(b))
		}
		return ""
	}

	// Enough turns to fill both queues several times over.
	res := loadgen.Run(context.Background(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret),
		Events: loadgen.Make(tmpl, 3000), Concurrency: 16})
	if len(res.Acked) != 3000 {
		t.Fatalf("%d of 3000 events acknowledged: %v", len(res.Acked), res.FirstError)
	}
	// The Collector refuses once its queues are full: the service says so and keeps the events.
	// (Not fatal: what arrives in the end is the other half of the answer.)
	if msg := poll(60*time.Second, degraded); msg != "" {
		t.Errorf("the Collector never refused within 60s (service /readyz: %s)", msg)
	} else {
		resp, err := http.Get(readyz)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Logf("queues full: service /readyz says %s", strings.TrimSpace(string(b)))
		}
	}

	// The backends come back: everything the service acknowledged arrives.
	jaeger.SetFailing(false)
	loki.SetFailing(false)
	waitFor(t, 120*time.Second, "every acknowledged turn at the trace and log sinks", func() string {
		spans, logs := map[string]bool{}, map[string]bool{}
		for _, s := range jaeger.Spans() {
			if s.Attributes["gen_ai.operation.name"] == "invoke_agent" {
				spans[fmt.Sprint(s.Attributes["gen_ai.response.id"])] = true
			}
		}
		for _, l := range loki.LogRecords() {
			if l.EventName == "watson_assistant.turn" {
				logs[fmt.Sprint(l.Attributes["gen_ai.response.id"])] = true
			}
		}
		missing := 0
		for _, id := range res.Acked {
			if !spans[id] || !logs[id] {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Sprintf("%d of %d turns missing (%d spans, %d log records arrived)", missing, len(res.Acked), len(spans), len(logs))
		}
		return ""
	})
	t.Logf("backends down: 3000 turns acknowledged by the service; the Collector's 4 MiB queues filled and it refused; after the backends came back all 3000 arrived as spans and log records")
}
