package service

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/spool"
)

// exportHealth is what /readyz says beyond ready/not ready: while exports
// fail, 200 {"status":"degraded","reason":...}. Degraded stays ready on
// purpose: events are still accepted (into the spool), and Watson
// Assistant does not retry a refused call.
type exportHealth struct {
	details  bool // --readyz-details: the reason for every caller, not only loopback
	mu       sync.Mutex
	reason   string
	stopping bool
}

func (h *exportHealth) set(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reason = ""
	if err != nil {
		h.reason = "export failing: " + err.Error()
		if r := []rune(h.reason); len(r) > 200 {
			h.reason = string(r[:200]) + "…"
		}
	}
}

// stop hands /readyz back to the receiver, which answers not ready.
func (h *exportHealth) stop() {
	h.mu.Lock()
	h.stopping = true
	h.mu.Unlock()
}

func (h *exportHealth) degraded() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopping {
		return ""
	}
	return h.reason
}

// wrap answers GET /readyz with the degraded status while exports fail and
// ready (the intake's check) passes; everything else, and /readyz when not
// degraded or not ready, goes to next.
func (h *exportHealth) wrap(next http.Handler, ready func() error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == receiver.ReadyPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			if reason := h.degraded(); reason != "" && ready() == nil {
				fields := map[string]string{"status": "degraded"}
				if receiver.ReadyDetails(r, h.details) {
					fields["reason"] = reason // the OTLP endpoint and the Collector's error text
				}
				b, _ := json.Marshal(fields)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(append(b, '\n'))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// intakeState is whether the service can accept events, for the receiver's
// accept and ready checks. Degraded export is not part of it: events are
// still accepted then (see exportHealth).
type intakeState struct {
	queue   spool.Queue
	disk    *spool.Disk // nil with the in-memory queue
	maxBody int64
}

// accepting fails once the spool is gone: it reads a flag, for every
// webhook request.
func (s *intakeState) accepting() error {
	if s.disk != nil {
		return s.disk.Err()
	}
	return nil
}

// ready fails while the service cannot accept events: the spool gone or its
// last write failed (one stat), or the queue full, i.e. with less room than
// the smaller of a maximum-size body and an eighth of its size. Draining is
// the receiver's own SetReady(false).
func (s *intakeState) ready() error {
	if s.disk != nil {
		if err := s.disk.Check(); err != nil {
			return err
		}
	}
	st := s.queue.Stats()
	if room := st.MaxBytes - st.Bytes; room < min(s.maxBody, st.MaxBytes/8) {
		what := "memory queue"
		if s.disk != nil {
			what = "spool"
		}
		return fmt.Errorf("%s full: %d of %d bytes used", what, st.Bytes, st.MaxBytes)
	}
	return nil
}
