package receiver_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/receiver"
)

// fakeClock is a clock tests move by hand; safe for the handler goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lines returns the log lines (JSON) whose msg is msg.
func lines(t *testing.T, logs, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if l == "" {
			continue
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestAuthFailureLogsRateLimited: a flood of bad tokens writes one WARN line
// per reason per interval, the next one saying how many were held back; the
// metric counts every failure.
func TestAuthFailureLogsRateLimited(t *testing.T) {
	clock := &fakeClock{t: now()}
	h := newHarness(t, nil, receiver.WithClock(clock.now))
	body := readFile(t, corpus01)
	const msg = "webhook: authentication failed"
	for range 5 {
		h.post(body, authHeader("garbage"))
	}
	h.post(body, http.Header{})
	if got := lines(t, h.logs.String(), msg); len(got) != 2 {
		t.Fatalf("after 5 malformed and 1 missing: %d lines, want 2 (one per reason):\n%s", len(got), h.logs)
	}
	clock.advance(receiver.DefaultLogInterval - time.Second)
	h.post(body, authHeader("garbage"))
	if got := lines(t, h.logs.String(), msg); len(got) != 2 {
		t.Fatalf("within the interval: %d lines, want 2", len(got))
	}
	clock.advance(time.Second)
	h.post(body, authHeader("garbage"))
	got := lines(t, h.logs.String(), msg)
	if len(got) != 3 {
		t.Fatalf("after the interval: %d lines, want 3", len(got))
	}
	if got[2]["reason"] != auth.ReasonMalformed || got[2]["suppressed"] != float64(5) {
		t.Errorf("line after the interval: %v, want reason malformed, suppressed 5", got[2])
	}
	assertCounts(t, receiver.MetricAuthFailures, counter(h.collect(), receiver.MetricAuthFailures),
		map[string]int64{"reason=malformed": 7, "reason=missing": 1})
}

// TestUnknownEventNameNotLogged: a 422's event name is the sender's choice;
// the log line carries a fingerprint of it, never the name.
func TestUnknownEventNameNotLogged(t *testing.T) {
	h := newHarness(t, nil)
	for _, name := range []string{"exfil_marker_1234", "line\nbreak {\"level\":\"ERROR\"} exfil_marker_5678"} {
		b, _ := json.Marshal(map[string]any{"event": map[string]string{"name": name}, "payload": map[string]any{}})
		if resp := h.post(b, authHeader(goodToken(t))); resp.status != http.StatusUnprocessableEntity {
			t.Fatalf("%q: %d %s", name, resp.status, resp.raw)
		}
	}
	logs := h.logs.String()
	if strings.Contains(logs, "exfil_marker") {
		t.Errorf("logs quote the event name:\n%s", logs)
	}
	got := lines(t, logs, "webhook: rejected")
	if len(got) != 2 || got[0]["event_fingerprint"] == got[1]["event_fingerprint"] ||
		!strings.HasPrefix(got[0]["event_fingerprint"].(string), "sha256:") {
		t.Errorf("422 lines %v, want two distinct fingerprints", got)
	}
}

// TestTLSHandshakeErrorsRateLimited: net/http's handshake errors are
// counted by reason, logged once per reason per interval without the error
// text, and other server messages pass through.
func TestTLSHandshakeErrorsRateLimited(t *testing.T) {
	clock := &fakeClock{t: now()}
	var buf syncBuffer
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	srv, err := receiver.NewServer(":0", http.NotFoundHandler(),
		receiver.WithServerLogger(slog.New(slog.NewJSONHandler(&buf, nil))),
		receiver.WithServerMeter(mp.Meter("test")),
		receiver.WithServerLogInterval(10*time.Second, clock.now))
	if err != nil {
		t.Fatal(err)
	}
	el := srv.ErrorLog
	for range 100 {
		el.Printf("http: TLS handshake error from 198.51.100.7:40000: EOF")
	}
	el.Printf("http: TLS handshake error from 198.51.100.7:40001: tls: first record does not look like a TLS handshake")
	el.Printf("http: TLS handshake error from 198.51.100.7:40002: tls: client offered only unsupported versions: [302 301]")
	el.Printf("http: TLS handshake error from 198.51.100.7:40003: read tcp 127.0.0.1:8443->198.51.100.7:40003: i/o timeout")
	el.Printf("http: TLS handshake error from 198.51.100.7:40004: remote error: tls: bad certificate")
	el.Printf("http: TLS handshake error from 198.51.100.7:40005: tls: no cipher suite supported by both client and server")
	el.Printf("http: TLS handshake error from [2001:db8::7]:40006: something SECRET-ish the client sent")
	clock.advance(10 * time.Second)
	el.Printf("http: TLS handshake error from 198.51.100.7:40007: EOF")
	el.Printf("http: Accept error: too many open files; retrying in 5ms")

	got := lines(t, buf.String(), "TLS handshake failed")
	if len(got) != 8 {
		t.Fatalf("%d handshake lines, want 8 (7 reasons, then eof again after the interval):\n%s", len(got), buf.String())
	}
	if got[0]["remote"] != "198.51.100.7" || got[6]["remote"] != "2001:db8::7" {
		t.Errorf("remote addresses %v and %v, want the peers' IPs", got[0]["remote"], got[6]["remote"])
	}
	if last := got[7]; last["reason"] != receiver.TLSReasonEOF || last["suppressed"] != float64(99) {
		t.Errorf("line after the interval: %v, want eof with 99 suppressed", last)
	}
	if strings.Contains(buf.String(), "SECRET") || strings.Contains(buf.String(), "first record") {
		t.Errorf("handshake error text logged:\n%s", buf.String())
	}
	if len(lines(t, buf.String(), "http: Accept error: too many open files; retrying in 5ms")) != 1 {
		t.Errorf("other server messages must pass through:\n%s", buf.String())
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	assertCounts(t, receiver.MetricTLSHandshakeErrors, counter(rm, receiver.MetricTLSHandshakeErrors), map[string]int64{
		"reason=eof": 101, "reason=not_tls": 1, "reason=unsupported_version": 1, "reason=timeout": 1,
		"reason=client_alert": 1, "reason=no_cipher": 1, "reason=other": 1,
	})
}
