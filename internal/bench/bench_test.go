package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/internal/benchdata"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/pump"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/sender"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

const secret = "bench-secret-0123456789abcdef"

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports CPU nanoseconds per op (all goroutines, GC included):
// the figure to compare when work runs on several goroutines.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func meterCPU(b *testing.B) *cpuMeter { return &cpuMeter{b: b, start: cpuTime()} }

func (m *cpuMeter) report() {
	m.b.ReportMetric(float64(cpuTime()-m.start)/float64(m.b.N), "cpu-ns/op")
}

func tokens(b *testing.B, n int) []string {
	out := make([]string, n)
	t0 := time.Now()
	for i := range out {
		tok, err := sender.Sign([]byte(secret), t0.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = tok
	}
	return out
}

// floor is the least work any receiver of a signed JSON webhook must do:
// decode the body into a generic value and verify one HMAC-SHA256.
func floor(body []byte, token string) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token[:i]))
	return hmac.Equal(mac.Sum(nil), sig)
}

// BenchmarkFloor: per corpus file, and "all" cycling through the corpus.
func BenchmarkFloor(b *testing.B) {
	corpus := benchdata.Corpus()
	tok := tokens(b, 1)[0]
	run := func(b *testing.B, next func(i int) []byte) {
		b.ReportAllocs()
		cpu := meterCPU(b)
		i := 0
		for b.Loop() {
			if !floor(next(i), tok) {
				b.Fatal("floor failed")
			}
			i++
		}
		cpu.report()
	}
	b.Run("all", func(b *testing.B) { run(b, func(i int) []byte { return corpus[i%len(corpus)].Data }) })
	for _, c := range corpus {
		b.Run(c.Name, func(b *testing.B) { run(b, func(int) []byte { return c.Data }) })
	}
}

func newMapper(b *testing.B) *mapping.Mapper {
	opts := mapping.DefaultOptions()
	opts.PseudonymKey = []byte("bench-pseudonym-key")
	m, err := mapping.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func newExporter(b *testing.B) *exporter.Exporter {
	exp, err := exporter.New(context.Background(), exporter.WithSynchronous(),
		exporter.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

// BenchmarkMapExport is what the pump does per event once it has the
// decoded event: map, then per batch of 64 Build and Send to an OTLP/gRPC
// endpoint (2 export requests per batch; metrics leave on the periodic
// reader's interval, not per batch). Cycles through the corpus.
func BenchmarkMapExport(b *testing.B) {
	const batch = 64
	startSink(b)
	corpus := benchdata.Corpus()
	evs := make([]watson.Event, len(corpus))
	for i, c := range corpus {
		ev, err := watson.Decode(c.Data)
		if err != nil {
			b.Fatal(err)
		}
		evs[i] = ev
	}
	m := newMapper(b)
	exp := newExporter(b)
	ctx := context.Background()
	ts := make([]mapping.Telemetry, 0, batch)
	flush := func() {
		bt, err := exp.Build(ctx, ts)
		if err != nil {
			b.Fatal(err)
		}
		if err := exp.Send(ctx, bt); err != nil {
			b.Fatal(err)
		}
		ts = ts[:0]
	}
	b.ReportAllocs()
	cpu := meterCPU(b)
	i := 0
	for b.Loop() {
		ts = append(ts, m.Map(evs[i%len(evs)], time.Now()))
		if len(ts) == batch {
			flush()
		}
		i++
	}
	if len(ts) > 0 {
		flush()
	}
	cpu.report()
}

// BenchmarkPipeline is the whole service path per event: the webhook
// handler (JWT, body, decode, intake into the in-memory queue, receiver
// metrics) called in process, with the pump running behind it (map, build,
// send over OTLP/gRPC to the discarding sink) with 1 and 2 workers; the
// clock stops when the queue is empty. ns/op is wall time with the pump
// running concurrently; cpu-ns/op is the CPU it all took.
func BenchmarkPipeline(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { pipeline(b, workers, 0) })
	}
}

// BenchmarkPipelineLoad is BenchmarkPipeline with 16 handlers per
// GOMAXPROCS calling at once, as under load, where the handlers compete
// with the pump for the CPU: events/s is how many the service takes in
// and exports (acknowledged) per second.
func BenchmarkPipelineLoad(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { pipeline(b, workers, 16) })
	}
}

// pipeline runs the benchmarks above: parallelism 0 calls the handler
// from the benchmark's goroutine, more from that many goroutines per
// GOMAXPROCS.
func pipeline(b *testing.B, workers, parallelism int) {
	startSink(b)
	corpus := benchdata.Corpus()
	q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 256 << 20})
	h := servicePath(b, q, workers)
	toks := tokens(b, 1024)
	call := func(i int) {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(corpus[i%len(corpus)].Data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", toks[i%len(toks)])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Errorf("status %d: %s", w.Code, w.Body.String())
		}
	}

	waitEmpty := func() {
		for q.Stats().Events > 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	// Warm up (connections, pools, the heap), so that the first of the
	// benchmarks in a process is not charged for it.
	for i := range 256 {
		call(i)
	}
	waitEmpty()
	runtime.GC()

	b.ResetTimer()
	b.ReportAllocs()
	cpu := meterCPU(b)
	start := time.Now()
	if parallelism == 0 {
		i := 0
		for b.Loop() {
			call(i)
			i++
		}
	} else {
		var next atomic.Int64
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				call(int(next.Add(1)))
			}
		})
	}
	waitEmpty()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	cpu.report()
}

// servicePath is the service's path over q as serve wires it: the webhook
// handler (JWT, receiver metrics, intake) in front and the pump with the
// given workers behind, exporting to the sink of startSink; the pump runs
// until the benchmark ends.
func servicePath(b *testing.B, q spool.Queue, workers int) http.Handler {
	b.Helper()
	exp := newExporter(b)
	p, err := pump.New(pump.Options{Queue: q, Map: newMapper(b).Map, Exporter: exp, Meter: exp.Meter(), Workers: workers})
	if err != nil {
		b.Fatal(err)
	}
	in, err := intake.New(q, exp.Meter())
	if err != nil {
		b.Fatal(err)
	}
	authn, err := auth.NewJWTAuthenticator([][]byte{[]byte(secret)})
	if err != nil {
		b.Fatal(err)
	}
	rc, err := receiver.New(in, authn, receiver.WithMeter(exp.Meter()))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	return rc.Handler()
}
