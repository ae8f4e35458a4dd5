package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/benchdata"
	"github.com/assistant-otel/assistant-otel/spool"
)

// BenchmarkPipelineSpool is BenchmarkPipeline with the disk spool (dedupe
// on, as serve runs it) instead of the in-memory queue, from 32 handlers
// at once as under load (each Append waits for its group commit's fsync,
// so one caller would measure the disk's latency). Every call carries a
// log_id of its own. cpu-ns/op is the CPU per event of everything
// (handlers, spool, pump, sink), and the clock stops when the spool is
// empty.
func BenchmarkPipelineSpool(b *testing.B) {
	startSink(b)
	q, _, err := spool.Open(b.TempDir(), spool.Options{MaxBytes: 1 << 30,
		Dedupe: spool.DedupeOptions{Window: time.Hour, Max: 100000}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = q.Close() }) // after the pump stops (cleanups run last first)
	h := servicePath(b, q, 0)
	toks := tokens(b, 1024)
	corpus := benchdata.Corpus()
	var next atomic.Int64

	b.ReportAllocs()
	cpu := meterCPU(b)
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		bodies := freshLogIDs(b, corpus)
		for pb.Next() {
			i := int(next.Add(1))
			body := bodies[i%len(bodies)]
			body.renew(i)
			req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body.data))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", toks[i%len(toks)])
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("status %d: %s", w.Code, w.Body.String())
				return
			}
		}
	})
	for q.Stats().Events > 0 {
		time.Sleep(50 * time.Microsecond)
	}
	cpu.report()
}

// idBody is a corpus body of its own whose log_id ends in 12 hex digits
// that renew rewrites in place.
type idBody struct {
	data []byte
	at   int // offset of the 12 digits
}

func (ib idBody) renew(i int) { copy(ib.data[ib.at:], fmt.Appendf(nil, "%012x", i)) }

func freshLogIDs(b *testing.B, corpus []benchdata.Body) []idBody {
	out := make([]idBody, len(corpus))
	for i, c := range corpus {
		at := bytes.Index(c.Data, []byte(`"log_id":"`))
		if at < 0 {
			b.Fatalf("%s has no log_id", c.Name)
		}
		at += len(`"log_id":"`) + 36 - 12 // a UUID's last group
		out[i] = idBody{data: bytes.Clone(c.Data), at: at}
	}
	return out
}
