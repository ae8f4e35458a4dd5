package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

// padded returns corpus01 padded with trailing spaces to n bytes.
func padded(t *testing.T, n int) []byte {
	t.Helper()
	b := readFile(t, corpus01)
	if len(b) > n {
		t.Fatalf("corpus01 is %d bytes, more than %d", len(b), n)
	}
	return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
}

// countingReader counts the bytes read from it, and fails with err after
// failAfter bytes when failAfter > 0.
type countingReader struct {
	r         io.Reader
	n         atomic.Int64
	failAfter int64
	err       error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.failAfter > 0 {
		left := c.failAfter - c.n.Load()
		if left <= 0 {
			return 0, c.err
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// serveDirect runs one request through the handler in this goroutine.
// length < 0 sends it without a Content-Length (like chunked).
func serveDirect(t *testing.T, rc *receiver.Receiver, body io.Reader, length int64, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", body)
	req.ContentLength = length
	req.Header.Set("Authorization", goodToken(t))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	rc.Handler().ServeHTTP(w, req)
	return w
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInflightBudgetRefusesBeforeReading(t *testing.T) {
	const limit = 1 << 20
	entered, release := make(chan int64, 1), make(chan struct{})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	big := padded(t, 600<<10)
	var rc *receiver.Receiver
	// The first request holds 600 KiB until released.
	rc, err := receiver.New(receiver.ConsumerFunc(func(_ context.Context, ev watson.Event, _ time.Time) error {
		if len(ev.Raw) == len(big) {
			entered <- rc.InflightBytes()
			<-release
		}
		return nil
	}), mustJWT(t), receiver.WithMaxBodyBytes(limit), receiver.WithMaxInflightBytes(limit), receiver.WithMeter(mp.Meter("test")), receiver.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, reader: reader}
	first := make(chan int, 1)
	go func() { first <- serveDirect(t, rc, bytes.NewReader(big), int64(len(big)), nil).Code }()
	select {
	case held := <-entered:
		if held != int64(len(big)) {
			t.Errorf("while the consumer runs, %d bytes are reserved, want the body's %d", held, len(big))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first request never reached the consumer")
	}

	// A known length that does not fit: 503 before a byte is read.
	body := &countingReader{r: bytes.NewReader(padded(t, 500<<10))}
	w := serveDirect(t, rc, body, 500<<10, nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "body bytes in flight") {
		t.Errorf("over the budget: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if body.n.Load() != 0 {
		t.Errorf("%d bytes of a refused body were read, want none", body.n.Load())
	}
	// One that fits exactly is accepted.
	if w := serveDirect(t, rc, bytes.NewReader(padded(t, limit-len(big))), int64(limit-len(big)), nil); w.Code != http.StatusOK {
		t.Errorf("a body filling the budget exactly: %d %s", w.Code, w.Body)
	}
	// Unknown length: a small one fits in the first chunk; a larger one
	// is refused when a doubling of its buffer does not fit, before
	// reading into it.
	if w := serveDirect(t, rc, bytes.NewReader(padded(t, 10<<10)), -1, nil); w.Code != http.StatusOK {
		t.Errorf("a small chunked body: %d %s", w.Code, w.Body)
	}
	body = &countingReader{r: bytes.NewReader(padded(t, 300<<10))}
	w = serveDirect(t, rc, body, -1, nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Errorf("a chunked body over the budget: %d %s", w.Code, w.Body)
	}
	// 64+64+128 KiB reserved and read; the next doubling (256 KiB more)
	// does not fit next to the 600 KiB held.
	if n := body.n.Load(); n != 256<<10 {
		t.Errorf("read %d bytes of the refused chunked body, want 256 KiB (what was reserved)", n)
	}
	// gzip reserves its first chunk before reading the stream.
	body = &countingReader{r: bytes.NewReader(gz(padded(t, 300<<10)))}
	if w := serveDirect(t, rc, body, -1, http.Header{"Content-Encoding": {"gzip"}}); w.Code != http.StatusServiceUnavailable {
		t.Errorf("a gzip body over the budget: %d %s", w.Code, w.Body)
	}
	if rc.InflightBytes() != int64(len(big)) {
		t.Errorf("after the refusals %d bytes are reserved, want only the first request's %d", rc.InflightBytes(), len(big))
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first request: %d", code)
	}
	if rc.InflightBytes() != 0 {
		t.Errorf("%d bytes still reserved after every request ended", rc.InflightBytes())
	}
	assertCounts(t, receiver.MetricRefused, counter(h.collect(), receiver.MetricRefused), map[string]int64{
		"reason=inflight_bytes": 3,
	})
}

func TestInflightBudgetReleasedOnEveryPath(t *testing.T) {
	const limit = 1 << 20
	var rc *receiver.Receiver
	var heldInConsumer atomic.Int64
	var failNext atomic.Bool
	var panicNext atomic.Bool
	consumer := receiver.ConsumerFunc(func(_ context.Context, ev watson.Event, _ time.Time) error {
		heldInConsumer.Store(rc.InflightBytes())
		if panicNext.Load() {
			panic("consumer bug")
		}
		if failNext.Load() {
			return errors.New("disk on fire")
		}
		return nil
	})
	var err error
	rc, err = receiver.New(consumer, mustJWT(t), receiver.WithMaxBodyBytes(limit), receiver.WithMaxInflightBytes(limit), receiver.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	body := padded(t, 200<<10)
	for _, tc := range []struct {
		name   string
		body   io.Reader
		length int64
		header http.Header
		setup  func()
		want   int
	}{
		{name: "accepted", body: bytes.NewReader(body), length: int64(len(body)), want: http.StatusOK},
		{name: "accepted chunked", body: bytes.NewReader(body), length: -1, want: http.StatusOK},
		{name: "accepted gzip", body: bytes.NewReader(gz(body)), length: -1, header: http.Header{"Content-Encoding": {"gzip"}}, want: http.StatusOK},
		{name: "not JSON", body: strings.NewReader(strings.Repeat("x", 1000)), length: 1000, want: http.StatusBadRequest},
		{name: "unknown event", body: strings.NewReader(`{"event":{"name":"other"},"payload":{}}`), length: -1, want: http.StatusUnprocessableEntity},
		{name: "client gone mid-body", body: &countingReader{r: bytes.NewReader(body), failAfter: 50 << 10, err: io.ErrUnexpectedEOF}, length: int64(len(body)), want: http.StatusBadRequest},
		{name: "client gone mid-chunked", body: &countingReader{r: bytes.NewReader(body), failAfter: 100 << 10, err: errors.New("connection reset")}, length: -1, want: http.StatusBadRequest},
		{name: "chunked too large", body: bytes.NewReader(bytes.Repeat([]byte(" "), limit+10)), length: -1, want: http.StatusRequestEntityTooLarge},
		{name: "gzip bomb", body: bytes.NewReader(gz(bytes.Repeat([]byte(" "), 4*limit))), length: -1, header: http.Header{"Content-Encoding": {"gzip"}}, want: http.StatusRequestEntityTooLarge},
		{name: "broken gzip", body: bytes.NewReader(gz(body)[:1000]), length: 1000, header: http.Header{"Content-Encoding": {"gzip"}}, want: http.StatusBadRequest},
		{name: "consumer error", body: bytes.NewReader(body), length: int64(len(body)), setup: func() { failNext.Store(true) }, want: http.StatusServiceUnavailable},
		{name: "consumer panic", body: bytes.NewReader(body), length: int64(len(body)), setup: func() { failNext.Store(false); panicNext.Store(true) }, want: http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			heldInConsumer.Store(-1)
			w := serveDirect(t, rc, tc.body, tc.length, tc.header)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d (%s)", w.Code, tc.want, w.Body)
			}
			if n := rc.InflightBytes(); n != 0 {
				t.Errorf("%d bytes still reserved after the request", n)
			}
			if tc.want == http.StatusOK && heldInConsumer.Load() < int64(len(body)) {
				t.Errorf("the consumer ran with %d bytes reserved, want at least the body's %d", heldInConsumer.Load(), len(body))
			}
		})
	}
}

// TestInflightBudgetClientDisconnect: a client that sends half its body
// and hangs up releases its reservation.
func TestInflightBudgetClientDisconnect(t *testing.T) {
	const limit = 1 << 20
	h := newHarness(t, nil, receiver.WithMaxBodyBytes(limit), receiver.WithMaxInflightBytes(limit))
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n", goodToken(t), 800<<10)
	if _, err := conn.Write(bytes.Repeat([]byte(" "), 100<<10)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the request to reserve its body", func() bool { return h.rc.InflightBytes() == 800<<10 })
	// Meanwhile a body that does not fit next to it is refused.
	if r := h.post(padded(t, 300<<10), http.Header{"Authorization": {goodToken(t)}}); r.status != http.StatusServiceUnavailable {
		t.Errorf("while 800 KiB are reserved, a 300 KiB body got %d", r.status)
	}
	conn.Close()
	waitFor(t, "the disconnected request to release its reservation", func() bool { return h.rc.InflightBytes() == 0 })
	if r := h.post(padded(t, 900<<10), http.Header{"Authorization": {goodToken(t)}}); r.status != http.StatusOK {
		t.Errorf("after the release, a 900 KiB body got %d %v", r.status, r.body)
	}
}

func TestInflightBudgetValidation(t *testing.T) {
	for _, n := range []int64{-1, 1000} {
		if _, err := receiver.New(&recorder{}, auth.NoAuth(), receiver.WithMaxBodyBytes(2000), receiver.WithMaxInflightBytes(n)); err == nil {
			t.Errorf("in-flight budget %d below the max body accepted", n)
		}
	}
	for _, n := range []int64{0, 2000} {
		if _, err := receiver.New(&recorder{}, auth.NoAuth(), receiver.WithMaxBodyBytes(2000), receiver.WithMaxInflightBytes(n)); err != nil {
			t.Errorf("in-flight budget %d: %v", n, err)
		}
	}
}

// TestAcceptAndReadyChecks: while the accept check fails, webhook calls get
// 503 with Retry-After before their body is read; /readyz answers 503 with
// the ready check's reason.
func TestAcceptAndReadyChecks(t *testing.T) {
	var down atomic.Bool
	check := func() error {
		if down.Load() {
			return errors.New("spool gone")
		}
		return nil
	}
	h := newHarness(t, nil, receiver.WithAcceptCheck(check), receiver.WithReadyCheck(check))
	body := readFile(t, corpus01)
	if r := h.post(body, http.Header{"Authorization": {goodToken(t)}}); r.status != http.StatusOK {
		t.Fatalf("healthy: %d", r.status)
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/readyz", nil)
	if r := h.do(req); r.status != http.StatusOK || r.body["status"] != "ready" {
		t.Errorf("readyz healthy: %d %v", r.status, r.body)
	}
	down.Store(true)
	cr := &countingReader{r: bytes.NewReader(body)}
	w := serveDirect(t, h.rc, cr, int64(len(body)), nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Errorf("accept check failing: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if cr.n.Load() != 0 || h.consumer.calls() != 1 {
		t.Errorf("refused request: %d body bytes read, consumer called %d times (want 0 and 1)", cr.n.Load(), h.consumer.calls())
	}
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL+"/readyz", nil)
	if r := h.do(req); r.status != http.StatusServiceUnavailable || r.body["status"] != "not ready" || r.body["reason"] != "spool gone" {
		t.Errorf("readyz with the check failing: %d %v", r.status, r.body)
	}
	// Unauthenticated callers still get 401, not a hint about the state.
	if r := h.post(body, nil); r.status != http.StatusUnauthorized {
		t.Errorf("unauthenticated while down: %d", r.status)
	}
	assertCounts(t, receiver.MetricRefused, counter(h.collect(), receiver.MetricRefused), map[string]int64{
		"reason=unavailable": 1,
	})
	if strings.Contains(h.logs.String(), `"level":"ERROR"`) {
		t.Errorf("refusals while not accepting must not log errors per request:\n%s", h.logs)
	}
}

// TestConsumerFailsAsItBecomesUnavailable: a Consumer error that comes with
// the accept check starting to fail (the spool found gone by this very
// commit) is a refusal for reason unavailable, not an error log per request.
func TestConsumerFailsAsItBecomesUnavailable(t *testing.T) {
	var down atomic.Bool
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	logs := &syncBuffer{}
	rc, err := receiver.New(receiver.ConsumerFunc(func(context.Context, watson.Event, time.Time) error {
		down.Store(true)
		return errors.New("spool gone during the commit")
	}), mustJWT(t), receiver.WithAcceptCheck(func() error {
		if down.Load() {
			return errors.New("spool gone")
		}
		return nil
	}), receiver.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))), receiver.WithMeter(mp.Meter("t")), receiver.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	w := serveDirect(t, rc, bytes.NewReader(readFile(t, corpus01)), -1, nil)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Errorf("%d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("logged as an error:\n%s", logs)
	}
	h := &harness{t: t, reader: reader}
	assertCounts(t, receiver.MetricRefused, counter(h.collect(), receiver.MetricRefused), map[string]int64{
		"reason=unavailable": 1,
	})
}
