package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// readiness serves /readyz as serve wires it: the receiver with the
// intake's checks, behind the export health.
type readiness struct {
	srv    *httptest.Server
	rcv    *receiver.Receiver
	health *exportHealth
}

func newReadiness(t *testing.T, q spool.Queue, maxBody int64) *readiness {
	t.Helper()
	disk, _ := q.(*spool.Disk)
	st := &intakeState{queue: q, disk: disk, maxBody: maxBody}
	rcv, err := receiver.New(receiver.ConsumerFunc(func(context.Context, watson.Event, time.Time) error { return nil }),
		auth.NoAuth(), receiver.WithMaxBodyBytes(maxBody), receiver.WithAcceptCheck(st.accepting), receiver.WithReadyCheck(st.ready))
	if err != nil {
		t.Fatal(err)
	}
	r := &readiness{rcv: rcv, health: &exportHealth{}}
	r.srv = httptest.NewServer(r.health.wrap(rcv.Handler(), st.ready))
	t.Cleanup(r.srv.Close)
	return r
}

// check asserts /readyz's status code and JSON status.
func (r *readiness) check(t *testing.T, state string, code int, status string) {
	t.Helper()
	resp, err := http.Get(r.srv.URL + receiver.ReadyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]string
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s: /readyz body %q: %v", state, raw, err)
	}
	if resp.StatusCode != code || body["status"] != status {
		t.Errorf("%s: /readyz %d %s, want %d status %q", state, resp.StatusCode, raw, code, status)
	}
}

func appendN(t *testing.T, q spool.Queue, n, size int) []spool.Record {
	t.Helper()
	for range n {
		if _, err := q.Append(context.Background(), spool.Entry{Body: make([]byte, size), Received: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := q.Read(0, 1<<20, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestReadinessStates: /readyz is 200 while events can be accepted, also
// when the export is degraded (200 "degraded"); 503 when the queue is full,
// the spool is gone, or the service drains, degraded or not.
func TestReadinessStates(t *testing.T) {
	const maxBody = 64 << 10
	exportDown := errors.New("collector unreachable")

	t.Run("memory queue", func(t *testing.T) {
		q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20})
		r := newReadiness(t, q, maxBody)
		r.check(t, "empty", http.StatusOK, "ready")
		r.health.set(exportDown)
		r.check(t, "degraded", http.StatusOK, "degraded")
		// Less room than one maximum-size body (the smaller of that and an
		// eighth of the queue): full.
		recs := appendN(t, q, 15, 64<<10)
		r.check(t, "full and degraded", http.StatusServiceUnavailable, "not ready")
		if err := q.Delete(recs[:1]); err != nil {
			t.Fatal(err)
		}
		r.check(t, "room again, degraded", http.StatusOK, "degraded")
		r.health.set(nil)
		r.check(t, "room again", http.StatusOK, "ready")
		r.health.stop()
		r.rcv.SetReady(false)
		r.check(t, "draining", http.StatusServiceUnavailable, "not ready")
	})

	t.Run("disk spool", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "spool")
		d, _, err := spool.Open(dir, spool.Options{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close() })
		r := newReadiness(t, d, maxBody)
		r.check(t, "empty", http.StatusOK, "ready")
		recs := appendN(t, d, 15, 64<<10)
		r.check(t, "full", http.StatusServiceUnavailable, "not ready")
		if err := d.Delete(recs); err != nil {
			t.Fatal(err)
		}
		r.health.set(exportDown)
		r.check(t, "degraded", http.StatusOK, "degraded")
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		r.check(t, "spool gone, degraded", http.StatusServiceUnavailable, "not ready")
		r.health.set(nil)
		r.check(t, "spool gone", http.StatusServiceUnavailable, "not ready")
		// And the webhook refuses before reading.
		resp, err := http.Post(r.srv.URL+"/webhook", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("webhook with the spool gone: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}

func TestInflightBudgetDefault(t *testing.T) {
	base := config.Serve{MaxBodyBytes: 8 << 20, Spool: config.Spool{Dir: "/spool", MemoryMaxBytes: 16 << 20}}
	for _, tc := range []struct {
		name  string
		c     func(config.Serve) config.Serve
		limit int64
		want  int64
	}{
		{"no memory limit: no budget", func(c config.Serve) config.Serve { return c }, 0, 0},
		{"default 64 MiB: one maximum body", func(c config.Serve) config.Serve { return c }, 64 << 20, 8 << 20},
		{"256 MiB, spool", func(c config.Serve) config.Serve { return c }, 256 << 20, (256<<20 - baselineHeap - 16<<20) / inflightCost},
		{"256 MiB, memory queue", func(c config.Serve) config.Serve { c.Spool.Dir = ""; return c }, 256 << 20, (256<<20 - baselineHeap - (16<<20 + 12<<20)) / inflightCost},
		{"set explicitly", func(c config.Serve) config.Serve { c.Security.HTTP.MaxInflightBytes = 100 << 20; return c }, 64 << 20, 100 << 20},
	} {
		if got := inflightBudget(tc.c(base), tc.limit); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestReadyzDetails: /readyz names why it is degraded or not ready (the
// OTLP endpoint, the Collector's error text, the queue) only to a loopback
// caller without X-Forwarded-For, or to everyone with --readyz-details;
// others get the status alone.
func TestReadyzDetails(t *testing.T) {
	const maxBody = 64 << 10
	for _, details := range []bool{false, true} {
		q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20})
		st := &intakeState{queue: q, maxBody: maxBody}
		rcv, err := receiver.New(receiver.ConsumerFunc(func(context.Context, watson.Event, time.Time) error { return nil }),
			auth.NoAuth(), receiver.WithMaxBodyBytes(maxBody), receiver.WithReadyCheck(st.ready), receiver.WithReadyDetails(details))
		if err != nil {
			t.Fatal(err)
		}
		health := &exportHealth{details: details}
		h := health.wrap(rcv.Handler(), st.ready)
		get := func(remote string, header http.Header) (int, map[string]string) {
			req := httptest.NewRequest(http.MethodGet, receiver.ReadyPath, nil)
			req.RemoteAddr = remote
			for k, v := range header {
				req.Header[k] = v
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			return w.Code, body
		}
		callers := []struct {
			name   string
			remote string
			header http.Header
			shown  bool
		}{
			{"loopback IPv4", "127.0.0.1:40000", nil, true},
			{"loopback IPv6", "[::1]:40000", nil, true},
			{"remote", "203.0.113.9:40000", nil, details},
			{"private network", "10.0.0.7:40000", nil, details},
			{"loopback behind a proxy", "127.0.0.1:40000", http.Header{"X-Forwarded-For": {"203.0.113.9"}}, details},
			{"loopback behind a Forwarded proxy", "127.0.0.1:40000", http.Header{"Forwarded": {"for=203.0.113.9"}}, details},
		}
		health.set(errors.New(`Post "http://otel-collector.internal:4318/v1/traces": dial tcp 10.1.2.3:4318: connection refused`))
		for _, c := range callers {
			code, body := get(c.remote, c.header)
			if code != http.StatusOK || body["status"] != "degraded" {
				t.Errorf("details=%v %s, degraded: %d %v", details, c.name, code, body)
			}
			if _, shown := body["reason"]; shown != c.shown {
				t.Errorf("details=%v %s, degraded: reason shown %v, want %v (%v)", details, c.name, shown, c.shown, body)
			}
		}
		appendN(t, q, 15, 64<<10)
		for _, c := range callers {
			code, body := get(c.remote, c.header)
			if code != http.StatusServiceUnavailable || body["status"] != "not ready" {
				t.Errorf("details=%v %s, full: %d %v", details, c.name, code, body)
			}
			if _, shown := body["reason"]; shown != c.shown {
				t.Errorf("details=%v %s, full: reason shown %v, want %v (%v)", details, c.name, shown, c.shown, body)
			}
		}
	}
}
