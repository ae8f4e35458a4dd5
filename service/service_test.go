package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/internal/loadgen"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/spool"
)

// logBuffer is the service's log, read while it runs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testService is a Service under test: Run in a goroutine until stop.
type testService struct {
	svc    *Service
	url    string // the webhook
	log    *logBuffer
	cancel context.CancelFunc
	done   chan error
}

// newConfig is the configuration of a service without authentication,
// exporting to sink, with args added to its flags.
func newConfig(t *testing.T, sink *otlptest.Server, args ...string) config.Serve {
	t.Helper()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.Endpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", sink.Protocol())
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	cfg, err := config.ParseServe(append([]string{"--listen", "127.0.0.1:0", "--auth", "none", "--metrics-listen", "off"}, args...),
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startService runs a Service (newConfig) and waits until the webhook is
// served.
func startService(t *testing.T, sink *otlptest.Server, args ...string) *testService {
	t.Helper()
	ts := &testService{log: &logBuffer{}, done: make(chan error, 1)}
	ts.svc = New(newConfig(t, sink, args...), slog.New(slog.NewTextHandler(ts.log, nil)), Options{Version: "test"})
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- ts.svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ts.done
		if t.Failed() {
			t.Logf("service log:\n%s", ts.log.String())
		}
	})
	select {
	case <-ts.svc.Listening():
	case err := <-ts.done:
		ts.done <- err
		t.Fatalf("service stopped before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("service not listening after 20s")
	}
	ts.url = "http://" + ts.svc.Addr().String() + "/webhook"
	return ts
}

// stop cancels Run and returns its error.
func (ts *testService) stop(t *testing.T) error {
	t.Helper()
	ts.cancel()
	select {
	case err := <-ts.done:
		ts.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of the cancel")
		return nil
	}
}

func (ts *testService) readyz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(ts.url, "/webhook") + receiver.ReadyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body["status"]
}

func (ts *testService) post(t *testing.T, body []byte) {
	t.Helper()
	resp, err := http.Post(ts.url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

// waitFor polls cond until it holds, failing the test after 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func events(t *testing.T, n int) []loadgen.Event {
	t.Helper()
	tmpl, err := loadgen.LoadTemplates("../testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}
	return loadgen.Make(tmpl, n)
}

// exported is the log_ids of the turn spans the sink received.
func exported(sink *otlptest.Server) map[string]bool {
	ids := map[string]bool{}
	for _, s := range sink.Spans() {
		if s.Attributes["gen_ai.operation.name"] == "invoke_agent" {
			id, _ := s.Attributes["gen_ai.response.id"].(string)
			ids[id] = true
		}
	}
	return ids
}

// TestRunReadyDegradedStopped: /readyz is ready once Listening, degraded
// while the export fails (events still accepted), ready again when it
// recovers; Run exports the event and stops cleanly on cancel.
func TestRunReadyDegradedStopped(t *testing.T) {
	sink := otlptest.StartHTTP(t, otlptest.Failing())
	ts := startService(t, sink)
	if code, status := ts.readyz(t); code != http.StatusOK || status != "ready" {
		t.Fatalf("/readyz once listening: %d %q, want 200 ready", code, status)
	}
	ev := events(t, 1)[0]
	ts.post(t, ev.Body)
	waitFor(t, "/readyz says degraded", func() bool { code, s := ts.readyz(t); return code == http.StatusOK && s == "degraded" })
	sink.SetFailing(false)
	waitFor(t, "/readyz says ready again", func() bool { _, s := ts.readyz(t); return s == "ready" })
	if !exported(sink)[ev.LogID] {
		t.Error("ready again before the queued event was exported")
	}
	if err := ts.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(ts.log.String(), "stopped cleanly") {
		t.Error(`no "stopped cleanly" in the log`)
	}
	if _, err := net.Dial("tcp", ts.svc.Addr().String()); err == nil {
		t.Error("still listening after Run returned")
	}
}

// TestShutdownOrder: on cancel the service stops accepting connections
// first, then answers the request in flight (its event queued), then
// exports the queued events before it returns.
func TestShutdownOrder(t *testing.T) {
	sink := otlptest.StartHTTP(t, otlptest.Failing())
	ts := startService(t, sink, "--drain-timeout", "20s")
	evs := events(t, 3)
	ts.post(t, evs[0].Body)
	ts.post(t, evs[1].Body)
	waitFor(t, "the export failed once", func() bool { _, refused := sink.Requests(); return refused > 0 })

	// A request in flight: the handler is reading its body (it asked for
	// the rest with 100 Continue) when the shutdown begins.
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, ts.url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Expect", "100-continue")
	req.ContentLength = int64(len(evs[2].Body))
	reading := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got100Continue: func() { close(reading) },
	}))
	answer := make(chan int, 1)
	go func() {
		client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("request in flight: %v", err)
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	half := len(evs[2].Body) / 2
	go func() { _, _ = pw.Write(evs[2].Body[:half]) }()
	select {
	case <-reading:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler never read the body")
	}

	ts.cancel()
	waitFor(t, "the listener refuses new connections", func() bool {
		c, err := net.Dial("tcp", ts.svc.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-ts.done:
		t.Fatalf("Run returned (%v) with a request in flight", err)
	default:
	}
	if _, err := pw.Write(evs[2].Body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-answer; code != http.StatusOK {
		t.Fatalf("the request in flight at shutdown got %d, want 200", code)
	}
	// Queued, not yet exported: the export fails until now.
	if got := exported(sink); len(got) > 0 {
		t.Fatalf("exported %v while the endpoint failed", got)
	}
	sink.SetFailing(false)
	if err := ts.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := exported(sink)
	for i, ev := range evs {
		if !got[ev.LogID] {
			t.Errorf("event %d, queued before the shutdown, not exported before Run returned", i)
		}
	}
	if log := ts.log.String(); !strings.Contains(log, "stopped cleanly") || strings.Contains(log, "events LOST") {
		t.Errorf("log:\n%s", log)
	}
}

// TestDrainTimeoutLeavesEventsInTheSpool: when the export cannot finish
// within --drain-timeout, Run returns nil at the deadline and the events
// stay in the spool, which the next start exports.
func TestDrainTimeoutLeavesEventsInTheSpool(t *testing.T) {
	sink := otlptest.StartHTTP(t, otlptest.Failing())
	dir := t.TempDir()
	const n = 3
	evs := events(t, n)
	ts := startService(t, sink, "--spool-dir", dir, "--drain-timeout", "1s")
	for _, ev := range evs {
		ts.post(t, ev.Body)
	}
	start := time.Now()
	if err := ts.stop(t); err != nil {
		t.Fatalf("Run with a spool: %v, want nil (the events are kept)", err)
	}
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("Run returned after %v: before the drain deadline, with the endpoint down", took)
	}
	if want := fmt.Sprintf("events left in the spool, exported at the next start\" events=%d", n); !strings.Contains(ts.log.String(), want) {
		t.Errorf("log lacks %q", want)
	}
	d, rec, err := spool.Open(dir, spool.Options{MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.Events != n {
		t.Fatalf("spool holds %d events after the drain timeout, want %d", rec.Events, n)
	}

	sink.SetFailing(false)
	ts2 := startService(t, sink, "--spool-dir", dir)
	waitFor(t, "the kept events are exported after the restart", func() bool { return len(exported(sink)) == n })
	if err := ts2.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, ev := range evs {
		if !exported(sink)[ev.LogID] {
			t.Errorf("%s not exported after the restart", ev.LogID)
		}
	}
}

// TestRunFailsOnAddressInUse: a listen address in use fails Run with the
// address in the error, before anything is served.
func TestRunFailsOnAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	svc := New(newConfig(t, otlptest.StartHTTP(t), "--listen", taken.Addr().String()), slog.New(slog.DiscardHandler), Options{})
	err = svc.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("Run on a taken address: %v", err)
	}
	select {
	case <-svc.Listening():
		t.Error("Listening closed although Run failed")
	default:
	}
}
