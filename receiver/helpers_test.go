package receiver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/internal/testlog"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

const (
	testSecret = "s3cr3t-W4ts0n-webhook-k3y"
	corpus01   = "../testdata/corpus/01-dialog-clear-intent-two-entities.json"
	// An utterance of corpus01: must never reach the logs.
	corpus01Text = "Transfer from my checking account to savings"
)

// now is the fixed clock of every test receiver and authenticator.
func now() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// recorder is a Consumer that records what it gets and can fail or panic.
type recorder struct {
	mu       sync.Mutex
	events   []watson.Event
	received []time.Time
	err      error
	panicVal any
}

func (c *recorder) Consume(_ context.Context, ev watson.Event, received time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	c.received = append(c.received, received)
	if c.panicVal != nil {
		panic(c.panicVal)
	}
	return c.err
}

func (c *recorder) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

type syncBuffer = testlog.Buffer

type harness struct {
	t        *testing.T
	srv      *httptest.Server
	rc       *receiver.Receiver
	consumer *recorder
	reader   *sdkmetric.ManualReader
	logs     *syncBuffer
}

// newHarness starts a real HTTP server around a Receiver with JWT auth on
// testSecret, a fixed clock, debug logs into a buffer and a manual metric
// reader.
func newHarness(t *testing.T, authn auth.Authenticator, opts ...receiver.Option) *harness {
	t.Helper()
	if authn == nil {
		a, err := auth.NewJWTAuthenticator([][]byte{[]byte(testSecret)}, auth.WithJWTClock(now))
		if err != nil {
			t.Fatal(err)
		}
		authn = a
	}
	h := &harness{t: t, consumer: &recorder{}, reader: sdkmetric.NewManualReader(), logs: &syncBuffer{}}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := []receiver.Option{
		receiver.WithLogger(logger),
		receiver.WithMeter(mp.Meter("test")),
		receiver.WithClock(now),
	}
	rc, err := receiver.New(h.consumer, authn, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.rc = rc
	h.srv = httptest.NewServer(rc.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

type response struct {
	status int
	header http.Header
	body   map[string]string
	raw    string
}

// do sends req and decodes the JSON response, failing the test unless the
// body is a short JSON object with Content-Type application/json.
func (h *harness) do(req *http.Request) response {
	h.t.Helper()
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if req.Method == http.MethodHead {
		return r
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("Content-Type = %q, want application/json (body %q)", ct, raw)
	}
	if len(raw) > 512 {
		h.t.Errorf("response body is %d bytes, want a short JSON object", len(raw))
	}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		h.t.Errorf("response body %q is not a JSON object of strings: %v", raw, err)
	}
	return r
}

func (h *harness) post(body []byte, header http.Header) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhook", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return h.do(req)
}

// collect returns the metrics recorded so far.
func (h *harness) collect() metricdata.ResourceMetrics {
	h.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		h.t.Fatal(err)
	}
	return rm
}

// counter returns the int64 sum named name, keyed by its attributes
// rendered as "k=v,k=v" in key order.
func counter(rm metricdata.ResourceMetrics, name string) map[string]int64 {
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				panic(fmt.Sprintf("%s is %T, want Sum[int64]", name, m.Data))
			}
			for _, dp := range sum.DataPoints {
				out[attrKey(dp.Attributes.ToSlice())] += dp.Value
			}
		}
	}
	return out
}

// histogramCounts returns the observation counts of the float64 histogram
// named name, keyed like counter.
func histogramCounts(rm metricdata.ResourceMetrics, name string) map[string]uint64 {
	out := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				panic(fmt.Sprintf("%s is %T, want Histogram[float64]", name, m.Data))
			}
			for _, dp := range hist.DataPoints {
				out[attrKey(dp.Attributes.ToSlice())] += dp.Count
			}
		}
	}
	return out
}

// attrKey renders attributes (sorted by key, as ToSlice returns them) as
// "k=v,k=v".
func attrKey(kvs []attribute.KeyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = string(kv.Key) + "=" + kv.Value.String()
	}
	return strings.Join(parts, ",")
}

// gz compresses b.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign returns a token for claims signed with method and key.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// goodClaims are the claims Watson is assumed to send: iat now, exp in 5 min.
func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{"iat": now().Unix(), "exp": now().Add(5 * time.Minute).Unix()}
}

func goodToken(t *testing.T) string {
	return sign(t, jwt.SigningMethodHS256, []byte(testSecret), goodClaims())
}

// rawToken assembles a token from JSON header and claims and a raw
// signature segment, bypassing any library checks.
func rawToken(header, claims, sig string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + sig
}
