package pump

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// seqExporter names each event by its record's Seq (the log_id, see
// appendSeqs) and checks the pipeline's promises as it goes: batches are
// sent oldest first, at most Workers+1 are built and not yet acknowledged,
// and the first send waits until a later batch was built meanwhile (the
// pipeline overlaps). The sends for which fail is true fail.
type seqExporter struct {
	t       *testing.T
	workers int
	fail    func(attempt int) bool
	onSend  func(attempt int) // called before each send, unlocked

	mu      sync.Mutex
	built   map[*exporter.Batch][]uint64
	builds  int
	buildCh chan struct{} // signalled at each Build
	sends   int
	acked   map[uint64]bool
	order   []uint64 // Seqs as acknowledged
	stopped bool     // Run has returned: nothing may be built or sent
}

func newSeqExporter(t *testing.T, workers int) *seqExporter {
	return &seqExporter{t: t, workers: workers, built: map[*exporter.Batch][]uint64{},
		acked: map[uint64]bool{}, buildCh: make(chan struct{}, 1000)}
}

func seqMap(ev watson.Event, _ time.Time) mapping.Telemetry {
	return mapping.Telemetry{Spans: []mapping.Span{{Name: ev.Log.LogID}}}
}

func (f *seqExporter) Build(_ context.Context, ts []mapping.Telemetry) (*exporter.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		f.t.Error("Build after Run returned")
	}
	b := &exporter.Batch{}
	for _, t := range ts {
		seq, err := strconv.ParseUint(t.Spans[0].Name, 10, 64)
		if err != nil {
			f.t.Error(err)
		}
		f.built[b] = append(f.built[b], seq)
	}
	f.builds++
	f.buildCh <- struct{}{}
	return b, nil
}

func (f *seqExporter) Send(_ context.Context, b *exporter.Batch) error {
	f.mu.Lock()
	f.sends++
	attempt := f.sends
	if f.stopped {
		f.t.Error("Send after Run returned")
	}
	if n := len(f.built); n > f.workers+1 {
		f.t.Errorf("%d batches built and not acknowledged; want at most Workers+1 = %d", n, f.workers+1)
	}
	f.mu.Unlock()
	if attempt == 1 { // the next batch is prepared while this one waits
		select {
		case <-f.buildCh:
			select {
			case <-f.buildCh:
			case <-time.After(10 * time.Second):
				f.t.Error("no batch was built while the first one was being sent")
			}
		case <-time.After(10 * time.Second):
			f.t.Error("the first batch was not built")
		}
	}
	if f.onSend != nil {
		f.onSend(attempt)
	}
	if f.fail != nil && f.fail(attempt) {
		return errors.New("collector down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	seqs := f.built[b]
	if len(f.order) > 0 && len(seqs) > 0 && seqs[0] <= f.order[len(f.order)-1] {
		f.t.Errorf("batch %v sent after %d: out of order", seqs, f.order[len(f.order)-1])
	}
	for _, s := range seqs {
		if f.acked[s] {
			f.t.Errorf("event %d acknowledged twice", s)
		}
		f.acked[s] = true
	}
	f.order = append(f.order, seqs...)
	delete(f.built, b)
	return nil
}

func (f *seqExporter) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
}

// checkedQueue fails the test when a record is deleted before its event
// was acknowledged, or deletions go out of order.
type checkedQueue struct {
	spool.Queue
	t   *testing.T
	exp *seqExporter

	mu      sync.Mutex
	lastDel uint64
}

func (q *checkedQueue) Delete(recs []spool.Record) error {
	q.exp.mu.Lock()
	for _, r := range recs {
		if !q.exp.acked[r.Seq] {
			q.t.Errorf("record %d deleted before its acknowledgement", r.Seq)
		}
	}
	q.exp.mu.Unlock()
	q.mu.Lock()
	for _, r := range recs {
		if r.Seq <= q.lastDel {
			q.t.Errorf("record %d deleted after %d: out of order", r.Seq, q.lastDel)
		}
		q.lastDel = r.Seq
	}
	q.mu.Unlock()
	return q.Queue.Delete(recs)
}

// appendSeqs appends n events whose log_id is the Seq the queue gives them.
func appendSeqs(t *testing.T, q spool.Queue, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		appendBody(t, q, fmt.Sprintf(`{"event":{"name":"message_logged"},"payload":{"log_id":"%d"}}`, i))
	}
}

// TestPipelineOrderAckDrain: with any number of workers, batches are
// prepared while the oldest is sent, sent and deleted oldest first, each
// record deleted only after its acknowledgement, failed sends retried with
// one failing/recovered report each, and after Drain Run returns only
// once everything is acknowledged and deleted.
func TestPipelineOrderAckDrain(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			const n = 40
			mem := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20})
			appendSeqs(t, mem, n)
			f := newSeqExporter(t, workers)
			f.fail = func(attempt int) bool { return attempt%5 >= 3 } // two in a row of every five
			q := &checkedQueue{Queue: mem, t: t, exp: f}
			var health []error // Run's goroutine only
			p, err := New(Options{Queue: q, Map: seqMap, Exporter: f, MaxBatch: 3, Workers: workers,
				MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
				OnHealth: func(err error) { health = append(health, err) }})
			if err != nil {
				t.Fatal(err)
			}
			p.Drain()
			if err := p.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			f.stop()
			if left := mem.Stats().Events; left != 0 || len(f.order) != n {
				t.Fatalf("Run returned with %d events queued and %d of %d acknowledged", left, len(f.order), n)
			}
			for i, s := range f.order {
				if s != uint64(i+1) {
					t.Fatalf("acknowledged in the order %v", f.order)
				}
			}
			if len(health) == 0 || len(health)%2 != 0 {
				t.Fatalf("health reports %v: want failing, recovered pairs", health)
			}
			for i, err := range health {
				if (err == nil) != (i%2 == 1) {
					t.Fatalf("health reports %v: want failing, recovered pairs", health)
				}
			}
		})
	}
}

// TestPipelineCancel: when ctx ends while sends fail and later batches
// are prepared, Run returns ctx's error, every record stays queued, and
// nothing is built or sent once Run has returned.
func TestPipelineCancel(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20})
			appendSeqs(t, q, 10)
			f := newSeqExporter(t, workers)
			f.fail = func(int) bool { return true }
			ctx, cancel := context.WithCancel(t.Context())
			f.onSend = func(attempt int) {
				if attempt == 3 {
					cancel()
				}
			}
			p, err := New(Options{Queue: q, Map: seqMap, Exporter: f, MaxBatch: 2, Workers: workers,
				MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v, want context.Canceled", err)
			}
			f.stop()
			if left := q.Stats().Events; left != 10 {
				t.Errorf("%d of 10 records left: an unacknowledged record was deleted", left)
			}
			if f.builds > workers+1 {
				t.Errorf("%d batches built for one being sent: want at most Workers+1", f.builds)
			}
		})
	}
}
