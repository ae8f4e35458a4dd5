package spool

import (
	"context"
	"sort"
	"sync"
	"time"
)

// memOverhead is what a record costs in memory beyond its body, roughly.
const memOverhead = 64

// Memory is a bounded in-memory Queue, for running without a spool
// directory. It keeps an event's Hint (the decoded event) rather than its
// body while the hinted events' bodies add up to at most MaxHintBytes, and
// the body beyond that: a decoded event takes about four times the memory
// of its compact body, so a full queue of hints would hold four times
// MaxBytes. Its limit counts body bytes either way.
type Memory struct {
	maxBytes int64
	maxHintB int64
	dd       *dedupe
	now      func() time.Time
	ch       chan struct{}

	mu        sync.Mutex
	recs      []memRecord // by Seq, from head
	head      int
	seq       uint64
	events    int64
	bytes     int64
	hintBytes int64 // Size of the records kept as hints
	closed    bool
}

type memRecord struct {
	Record
	gone bool
}

// MemoryOptions configure NewMemory.
type MemoryOptions struct {
	// MaxBytes bounds the bodies held (required, positive).
	MaxBytes int64
	// MaxHintBytes bounds the body bytes of the events kept decoded
	// (default: a quarter of MaxBytes).
	MaxHintBytes int64
	Dedupe       DedupeOptions
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewMemory returns an empty Memory queue.
func NewMemory(o MemoryOptions) *Memory {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxHintBytes <= 0 {
		o.MaxHintBytes = o.MaxBytes / 4
	}
	return &Memory{maxBytes: o.MaxBytes, maxHintB: o.MaxHintBytes, dd: newDedupe(o.Dedupe, o.Now, false), now: o.Now, ch: make(chan struct{}, 1)}
}

// Append implements Queue.
func (m *Memory) Append(ctx context.Context, e Entry) (bool, error) {
	dup, _, finish, err := m.dd.begin(ctx, e.Key)
	if err != nil || dup {
		return dup, err
	}
	size := int64(len(e.Body)) + memOverhead
	m.mu.Lock()
	switch {
	case m.closed:
		err = ErrClosed
	case m.bytes+size > m.maxBytes:
		err = ErrFull
	default:
		m.seq++
		r := Record{Seq: m.seq, Received: e.Received, Size: size}
		if e.Hint != nil && m.hintBytes+size <= m.maxHintB {
			r.Hint = e.Hint
			m.hintBytes += size
		} else {
			r.Body = append([]byte(nil), e.Body...)
		}
		m.recs = append(m.recs, memRecord{Record: r})
		m.events++
		m.bytes += size
	}
	m.mu.Unlock()
	finish(err, m.now().UnixNano())
	if err == nil {
		notify(m.ch)
	}
	return false, err
}

// Read implements Queue.
func (m *Memory) Read(after uint64, max int, maxBytes int64) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	live := m.recs[m.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].Seq > after })
	var out []Record
	var n int64
	for ; i < len(live) && len(out) < max; i++ {
		if live[i].gone {
			continue
		}
		if len(out) > 0 && n+live[i].Size > maxBytes {
			break
		}
		out = append(out, live[i].Record)
		n += live[i].Size
	}
	return out, nil
}

// Delete implements Queue.
func (m *Memory) Delete(recs []Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		live := m.recs[m.head:]
		i := sort.Search(len(live), func(i int) bool { return live[i].Seq >= r.Seq })
		if i < len(live) && live[i].Seq == r.Seq && !live[i].gone {
			m.events--
			m.bytes -= live[i].Size
			if live[i].Hint != nil {
				m.hintBytes -= live[i].Size
			}
			live[i] = memRecord{Record: Record{Seq: r.Seq}, gone: true}
		}
	}
	for m.head < len(m.recs) && m.recs[m.head].gone {
		m.recs[m.head] = memRecord{}
		m.head++
	}
	if m.head > 256 && m.head > len(m.recs)/2 {
		n := copy(m.recs, m.recs[m.head:])
		clear(m.recs[n:])
		m.recs = m.recs[:n]
		m.head = 0
	}
	return nil
}

// Quarantine implements Queue: Memory has nowhere to keep a bad record, so
// it drops it.
func (m *Memory) Quarantine(rec Record, _ string) error { return m.Delete([]Record{rec}) }

// Notify implements Queue.
func (m *Memory) Notify() <-chan struct{} { return m.ch }

// Stats implements Queue.
func (m *Memory) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Stats{Events: m.events, Bytes: m.bytes, MaxBytes: m.maxBytes}
	for _, r := range m.recs[m.head:] {
		if !r.gone {
			s.Oldest = r.Received
			break
		}
	}
	return s
}

// Close implements Queue. What it holds is dropped.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}
