package pump

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// fakeExporter fails the first failSends sends and records what it sent;
// afterSend, if set, is called with the number of sends so far.
type fakeExporter struct {
	mu        sync.Mutex
	failSends int
	afterSend func(sends int)
	sends     int
	sent      int                     // events in successful sends
	pending   map[*exporter.Batch]int // events of each batch built and not yet sent
	order     []string
}

func (f *fakeExporter) Build(_ context.Context, ts []mapping.Telemetry) (*exporter.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := &exporter.Batch{}
	if f.pending == nil {
		f.pending = map[*exporter.Batch]int{}
	}
	f.pending[b] = len(ts)
	f.order = append(f.order, "build")
	return b, nil
}

func (f *fakeExporter) Send(_ context.Context, b *exporter.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends++
	f.order = append(f.order, "send")
	if f.afterSend != nil {
		f.afterSend(f.sends)
	}
	if f.sends <= f.failSends {
		return errors.New("collector down")
	}
	f.sent += f.pending[b]
	delete(f.pending, b)
	return nil
}

func (f *fakeExporter) get() (sends, sent int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends, f.sent
}

func mapStub(ev watson.Event, _ time.Time) mapping.Telemetry {
	if ev.Log != nil && ev.Log.LogID == "panic" {
		panic("mapping bug")
	}
	return mapping.Telemetry{}
}

func newTestPump(t *testing.T, q spool.Queue, f *fakeExporter, health func(error)) *Pump {
	t.Helper()
	p, err := New(Options{Queue: q, Map: mapStub, Exporter: f, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, OnHealth: health})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func appendBody(t *testing.T, q spool.Queue, body string) {
	t.Helper()
	if _, err := q.Append(t.Context(), spool.Entry{Body: []byte(body), Received: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

const goodBody = `{"event":{"name":"message_logged"},"payload":{"log_id":"a"}}`

// TestRetryUntilAcknowledged: records stay queued while sends fail, health
// reports the failure and the recovery, and records go once acknowledged.
func TestRetryUntilAcknowledged(t *testing.T) {
	q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20})
	for range 3 {
		appendBody(t, q, goodBody)
	}
	f := &fakeExporter{failSends: 5}
	var mu sync.Mutex
	var health []error
	p := newTestPump(t, q, f, func(err error) { mu.Lock(); health = append(health, err); mu.Unlock() })
	p.Drain()
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	sends, sent := f.get()
	if sends != 6 || sent != 3 || q.Stats().Events != 0 {
		t.Errorf("sends %d, sent %d, left %d; want 6, 3, 0", sends, sent, q.Stats().Events)
	}
	if len(health) != 2 || health[0] == nil || health[1] != nil {
		t.Errorf("health reports %v, want [error, nil]", health)
	}
	// Metrics leave on the periodic reader's interval, not per batch.
	if f.order[0] != "build" || f.order[1] != "send" {
		t.Errorf("order %v: want build, send… (no metrics flush)", f.order)
	}
}

// TestStopLeavesRecords: when ctx ends during retries (after the third
// failed send), nothing is deleted.
func TestStopLeavesRecords(t *testing.T) {
	q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20})
	appendBody(t, q, goodBody)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := &fakeExporter{failSends: 1 << 30, afterSend: func(sends int) {
		if sends == 3 {
			cancel()
		}
	}}
	p := newTestPump(t, q, f, nil)
	if err := p.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if sends, _ := f.get(); sends != 3 || q.Stats().Events != 1 {
		t.Errorf("%d sends, %d records left; want 3 sends and the unacknowledged record kept", sends, q.Stats().Events)
	}
}

// TestQuarantineBadRecords: undecodable bodies and mapping panics are
// quarantined; the good records are exported, with one batch or batches
// prepared by several workers.
func TestQuarantineBadRecords(t *testing.T) {
	for _, o := range []Options{{}, {MaxBatch: 1, Workers: 3}} {
		t.Run(fmt.Sprintf("batch=%d,workers=%d", o.MaxBatch, o.Workers), func(t *testing.T) {
			d, _, err := spool.Open(t.TempDir(), spool.Options{MaxBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			appendBody(t, d, goodBody)
			appendBody(t, d, `not json`)
			appendBody(t, d, `{"event":{"name":"message_logged"},"payload":{"log_id":"panic"}}`)
			appendBody(t, d, goodBody)
			f := &fakeExporter{}
			o.Queue, o.Map, o.Exporter = d, mapStub, f
			p, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			p.Drain()
			if err := p.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, sent := f.get(); sent != 2 || d.Stats().Events != 0 {
				t.Errorf("sent %d, left %d; want 2 sent, 2 quarantined", sent, d.Stats().Events)
			}
		})
	}
}

// TestMemoryQueueBeyondHints: events past the in-memory queue's decoded
// share are kept as bodies, decoded again by the pump, and exported too.
func TestMemoryQueueBeyondHints(t *testing.T) {
	q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20, MaxHintBytes: 200})
	in, err := intake.New(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		ev, err := watson.Decode([]byte(`{"event":{"name":"message_logged"},"payload":{"log_id":"` + id + `"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Consume(t.Context(), ev, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := q.Read(0, 10, 1<<20)
	if len(recs) != 3 || recs[0].Hint == nil || recs[1].Hint != nil || recs[1].Body == nil {
		t.Fatalf("want the first decoded and the others as bodies: %+v", recs)
	}
	f := &fakeExporter{}
	p := newTestPump(t, q, f, nil)
	p.Drain()
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, sent := f.get(); sent != 3 || q.Stats().Events != 0 {
		t.Errorf("sent %d, left %d; want 3, 0", sent, q.Stats().Events)
	}
}
