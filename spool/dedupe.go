package spool

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"sort"
	"sync"
	"time"
)

// dedupe is a bounded window of recently accepted keys, with the keys being
// appended right now, so that two concurrent deliveries of one event store it
// once.
//
// Keys are remembered as 64-bit FNV-1a hashes (about 40 bytes each in
// memory; a false duplicate among 100,000 keys has a chance of about 3 in
// 10^10), and persisted as time-ordered 16-byte entries (accepted-at, hash),
// so that a commit appends at the end of the bucket and eviction deletes
// from its start: no random writes into a large tree.
type dedupe struct {
	window  time.Duration
	max     int
	now     func() time.Time
	persist bool // collect evicted keys for deletion from storage

	mu      sync.Mutex
	seen    map[uint64]int64 // hash → accepted at (unix ns)
	order   []seenKey        // FIFO of seen, oldest first, from head
	head    int
	pending map[uint64]*pendingKey
	evicted []seenKey // dropped from seen, still to be deleted from storage
}

type seenKey struct {
	h  uint64
	at int64
}

// appendStorageKey appends the key of k in storage (16 bytes) to dst:
// accepted-at, then hash.
func (k seenKey) appendStorageKey(dst []byte) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(dst, uint64(k.at)), k.h)
}

func parseStorageKey(b []byte) (seenKey, bool) {
	if len(b) != 16 {
		return seenKey{}, false
	}
	return seenKey{at: int64(binary.BigEndian.Uint64(b[:8])), h: binary.BigEndian.Uint64(b[8:])}, true
}

func hashKey(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return h.Sum64()
}

type pendingKey struct {
	done chan struct{}
	err  error
}

func newDedupe(o DedupeOptions, now func() time.Time, persist bool) *dedupe {
	d := &dedupe{window: o.Window, max: o.Max, now: now, persist: persist}
	if d.enabled() {
		d.seen = make(map[uint64]int64)
		d.pending = make(map[uint64]*pendingKey)
	}
	return d
}

func (d *dedupe) enabled() bool { return d.window > 0 && d.max > 0 }

// load restores keys (e.g. from storage), keeping the newest that fit the
// window; it returns the keys dropped.
func (d *dedupe) load(keys []seenKey) (dropped []seenKey) {
	if !d.enabled() {
		return keys
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].at < keys[j].at })
	cutoff := d.now().Add(-d.window).UnixNano()
	first := 0
	if len(keys) > d.max {
		first = len(keys) - d.max
	}
	for i, k := range keys {
		if i < first || k.at < cutoff {
			dropped = append(dropped, k)
			continue
		}
		d.seen[k.h] = k.at
		d.order = append(d.order, k)
	}
	return dropped
}

// begin starts appending key. dup reports a key seen within the window (or
// being appended concurrently, which then succeeded). Otherwise the caller
// must call finish with the outcome of its append and, on success, the time
// it was recorded with; an error makes the key unseen again.
func (d *dedupe) begin(ctx context.Context, key string) (dup bool, h uint64, finish func(err error, at int64), err error) {
	if key == "" || !d.enabled() {
		return false, 0, func(error, int64) {}, nil
	}
	h = hashKey(key)
	for {
		d.mu.Lock()
		d.expireLocked()
		if _, ok := d.seen[h]; ok {
			d.mu.Unlock()
			return true, h, nil, nil
		}
		p, ok := d.pending[h]
		if !ok {
			p = &pendingKey{done: make(chan struct{})}
			d.pending[h] = p
			d.mu.Unlock()
			return false, h, func(err error, at int64) { d.finish(h, p, err, at) }, nil
		}
		d.mu.Unlock()
		// The same event is being appended by another request: its outcome
		// is ours.
		select {
		case <-p.done:
			if p.err != nil {
				return false, h, nil, p.err
			}
			return true, h, nil, nil
		case <-ctx.Done():
			return false, h, nil, ctx.Err()
		}
	}
}

func (d *dedupe) finish(h uint64, p *pendingKey, err error, at int64) {
	d.mu.Lock()
	delete(d.pending, h)
	if err == nil {
		d.seen[h] = at
		d.order = append(d.order, seenKey{h, at})
		d.expireLocked()
	}
	p.err = err
	d.mu.Unlock()
	close(p.done)
}

// expireLocked drops keys beyond the count or older than the window.
func (d *dedupe) expireLocked() {
	cutoff := d.now().Add(-d.window).UnixNano()
	for d.head < len(d.order) {
		k := d.order[d.head]
		if len(d.order)-d.head <= d.max && k.at >= cutoff {
			break
		}
		if at, ok := d.seen[k.h]; ok && at == k.at {
			delete(d.seen, k.h)
		}
		if d.persist {
			d.evicted = append(d.evicted, k)
		}
		d.order[d.head] = seenKey{}
		d.head++
	}
	if d.head > 1024 && d.head > len(d.order)/2 {
		n := copy(d.order, d.order[d.head:])
		d.order = d.order[:n]
		d.head = 0
	}
}

// takeEvicted returns and forgets the keys to delete from storage.
func (d *dedupe) takeEvicted() []seenKey {
	if !d.enabled() || !d.persist {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLocked()
	e := d.evicted
	d.evicted = nil
	return e
}

// size returns the number of keys remembered.
func (d *dedupe) size() int {
	if !d.enabled() {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
