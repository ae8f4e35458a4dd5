package spool

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func body(i int) []byte {
	return fmt.Appendf(nil, `{"event":{"name":"message_logged"},"payload":{"log_id":"id-%06d"}}`, i)
}

func openDisk(t *testing.T, dir string, o Options) (*Disk, Recovery) {
	t.Helper()
	if o.MaxBytes == 0 {
		o.MaxBytes = 64 << 20
	}
	d, rec, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d, rec
}

func readAll(t *testing.T, q Queue) []Record {
	t.Helper()
	var out []Record
	var after uint64
	for {
		recs, err := q.Read(after, 100, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		after = recs[len(recs)-1].Seq
	}
}

// TestGroupCommitConcurrent appends from many goroutines at once: every
// append is durable and read back once, in increasing order, and the
// appends share transactions (far fewer commits than events).
func TestGroupCommitConcurrent(t *testing.T) {
	dir := t.TempDir()
	d, _ := openDisk(t, dir, Options{})
	const writers, each = 32, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*each + i
				if dup, err := d.Append(context.Background(), Entry{Key: fmt.Sprint(n), Body: body(n), Received: t0}); err != nil || dup {
					t.Errorf("append %d: dup %v err %v", n, dup, err)
				}
			}
		}()
	}
	wg.Wait()
	stats := d.db.Stats()
	recs := readAll(t, d)
	if len(recs) != writers*each {
		t.Fatalf("read %d records, want %d", len(recs), writers*each)
	}
	seen := map[string]bool{}
	for i, r := range recs {
		if i > 0 && r.Seq <= recs[i-1].Seq {
			t.Fatalf("records out of order: %d after %d", r.Seq, recs[i-1].Seq)
		}
		if r.Err != nil || !r.Received.Equal(t0) {
			t.Fatalf("record %d: err %v received %v", r.Seq, r.Err, r.Received)
		}
		seen[string(r.Body)] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct bodies, want %d", len(seen), writers*each)
	}
	commits := stats.TxStats.GetWrite()
	t.Logf("%d appends from %d goroutines in %d write transactions", writers*each, writers, commits)
	if commits >= int64(writers*each) {
		t.Errorf("%d commits for %d appends: no group commit", commits, writers*each)
	}
	// Durable: reopen and read them again.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, rec := openDisk(t, dir, Options{})
	if rec.Events != writers*each || len(readAll(t, d2)) != writers*each {
		t.Errorf("after reopen: %d events (recovery says %d)", len(readAll(t, d2)), rec.Events)
	}
}

// TestSizeAccounting: the limit refuses appends with ErrFull, deletes free
// room, and the count survives a restart.
func TestSizeAccounting(t *testing.T) {
	dir := t.TempDir()
	b := bytes.Repeat([]byte("x"), 1000)
	per := int64(len(b) + recordOverhead)
	d, _ := openDisk(t, dir, Options{MaxBytes: 10 * per})
	for i := range 10 {
		if _, err := d.Append(t.Context(), Entry{Body: b, Received: t0}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if _, err := d.Append(t.Context(), Entry{Body: b, Received: t0}); !errors.Is(err, ErrFull) {
		t.Fatalf("11th append: %v, want ErrFull", err)
	}
	s := d.Stats()
	if s.Events != 10 || s.Bytes != 10*per || !s.Oldest.Equal(t0) {
		t.Errorf("stats %+v, want 10 events, %d bytes", s, 10*per)
	}
	recs, _ := d.Read(0, 3, 1<<20)
	if err := d.Delete(recs); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s.Events != 7 || s.Bytes != 7*per {
		t.Errorf("after deleting 3: %+v", s)
	}
	if _, err := d.Append(t.Context(), Entry{Body: b, Received: t0}); err != nil {
		t.Errorf("append after delete: %v", err)
	}
	d.Close()
	d2, rec := openDisk(t, dir, Options{MaxBytes: 10 * per})
	if rec.Events != 8 || rec.Bytes != 8*per || d2.Stats().Events != 8 {
		t.Errorf("after reopen: %+v", rec)
	}
	// Read honours maxBytes but always returns at least one record.
	if recs, _ := d2.Read(0, 100, 1); len(recs) != 1 {
		t.Errorf("Read with tiny maxBytes returned %d records", len(recs))
	}
	if recs, _ := d2.Read(0, 100, 3*per); len(recs) != 3 {
		t.Errorf("Read with 3 records' bytes returned %d", len(recs))
	}
}

// TestReplayOrderAndHints: records come back oldest first after Seq;
// hints are handed over once, bodies read from disk otherwise.
func TestReplayOrderAndHints(t *testing.T) {
	d, _ := openDisk(t, t.TempDir(), Options{})
	for i := range 5 {
		var hint any
		if i%2 == 0 {
			hint = i
		}
		if _, err := d.Append(t.Context(), Entry{Body: body(i), Received: t0.Add(time.Duration(i) * time.Second), Hint: hint}); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := d.Read(2, 10, 1<<20)
	if len(recs) != 3 || recs[0].Seq != 3 {
		t.Fatalf("Read after 2: %+v", recs)
	}
	for _, r := range recs {
		i := int(r.Seq - 1)
		switch {
		case i%2 == 0 && (r.Hint != i || r.Body != nil):
			t.Errorf("record %d: hint %v body %q, want the hint and no body", r.Seq, r.Hint, r.Body)
		case i%2 == 1 && (r.Hint != nil || !bytes.Equal(r.Body, body(i))):
			t.Errorf("record %d: hint %v body %q, want the body", r.Seq, r.Hint, r.Body)
		}
		if !r.Received.Equal(t0.Add(time.Duration(i) * time.Second)) {
			t.Errorf("record %d received %v", r.Seq, r.Received)
		}
	}
	// Read again: the hint was taken, the body comes from disk.
	again, _ := d.Read(2, 1, 1<<20)
	if again[0].Hint != nil || !bytes.Equal(again[0].Body, body(2)) {
		t.Errorf("second read: %+v", again[0])
	}
	if s := d.Stats(); !s.Oldest.Equal(t0) {
		t.Errorf("oldest %v", s.Oldest)
	}
}

// TestDedupe: a key seen within the window is a duplicate, concurrent
// deliveries store one, and the window survives a restart.
func TestDedupe(t *testing.T) {
	dir := t.TempDir()
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	opts := Options{Dedupe: DedupeOptions{Window: time.Hour, Max: 3}, Now: clock}
	d, _ := openDisk(t, dir, opts)
	var stored atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup, err := d.Append(t.Context(), Entry{Key: "a", Body: body(1), Received: t0})
			if err != nil {
				t.Error(err)
			}
			if !dup {
				stored.Add(1)
			}
		}()
	}
	wg.Wait()
	if stored.Load() != 1 || d.Stats().Events != 1 {
		t.Fatalf("20 concurrent deliveries of one key stored %d times", stored.Load())
	}
	for _, k := range []string{"b", "c"} {
		if dup, _ := d.Append(t.Context(), Entry{Key: k, Body: body(2), Received: t0}); dup {
			t.Fatalf("%s reported as duplicate", k)
		}
	}
	d.Close()
	d, _ = openDisk(t, dir, opts)
	if dup, _ := d.Append(t.Context(), Entry{Key: "a", Body: body(1), Received: t0}); !dup {
		t.Error("after restart, a redelivered key was stored again")
	}
	// Max 3: a fourth key evicts the oldest ("a").
	if dup, _ := d.Append(t.Context(), Entry{Key: "d", Body: body(3), Received: t0}); dup {
		t.Fatal("d reported as duplicate")
	}
	if dup, _ := d.Append(t.Context(), Entry{Key: "a", Body: body(1), Received: t0}); dup {
		t.Error("a still a duplicate after eviction by count")
	}
	// Window: an hour later everything is forgotten, in storage too.
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if dup, _ := d.Append(t.Context(), Entry{Key: "b", Body: body(2), Received: t0}); dup {
		t.Error("b still a duplicate after the window")
	}
	d.Close()
	d, _ = openDisk(t, dir, opts)
	if n := d.DedupeKeys(); n != 1 {
		t.Errorf("after restart %d keys remembered, want 1 (b)", n)
	}
	// A failed append does not mark its key seen.
	small, _ := openDisk(t, t.TempDir(), Options{MaxBytes: 10, Dedupe: DedupeOptions{Window: time.Hour, Max: 10}})
	if _, err := small.Append(t.Context(), Entry{Key: "x", Body: body(1)}); !errors.Is(err, ErrFull) {
		t.Fatalf("want ErrFull, got %v", err)
	}
	small.maxBytes = 1 << 20
	if dup, err := small.Append(t.Context(), Entry{Key: "x", Body: body(1)}); dup || err != nil {
		t.Errorf("after a failed append the key is a duplicate (%v) or fails (%v)", dup, err)
	}
}

// TestGarbageFileMovedAside: a file that is not a bbolt database is moved
// aside and a new spool starts; nothing panics.
func TestGarbageFileMovedAside(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content func() []byte
	}{
		{"random", func() []byte { b := make([]byte, 64<<10); _, _ = rand.Read(b); return b }},
		{"text", func() []byte { return []byte(strings.Repeat("not a database\n", 1000)) }},
		{"short", func() []byte { return []byte("x") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, tc.content(), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			d, rec := openDisk(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if rec.MovedAside == "" || rec.Problem == nil {
				t.Fatalf("recovery %+v: want the file moved aside", rec)
			}
			if _, err := os.Stat(rec.MovedAside); err != nil {
				t.Errorf("moved-aside file: %v", err)
			}
			if !strings.Contains(logs.String(), "SPOOL DATABASE DAMAGED") {
				t.Errorf("no loud log line: %s", logs.String())
			}
			if _, err := d.Append(t.Context(), Entry{Body: body(1), Received: t0}); err != nil {
				t.Errorf("new spool unusable: %v", err)
			}
		})
	}
}

// fill makes a spool in dir with n records and closes it.
func fill(t *testing.T, dir string, n int) {
	t.Helper()
	d, _, err := Open(dir, Options{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := d.Append(t.Context(), Entry{Body: body(i), Received: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTornLastCommit: a crash in the middle of a commit leaves the newest
// meta page torn; bbolt falls back to the previous one, so the start-up
// recovers every record of the earlier commits.
func TestTornLastCommit(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 20) // 20 commits, one per append
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The meta page with the higher transaction id is the last commit's.
	txid := func(page int64) uint64 {
		b := make([]byte, 8)
		// meta: page header (16) + magic, version, pageSize, flags (16) + root (16) + freelist, pgid (16) → txid at 64
		if _, err := f.ReadAt(b, page*4096+16+56); err != nil {
			t.Fatal(err)
		}
		return binary.LittleEndian.Uint64(b)
	}
	newest := int64(0)
	if txid(1) > txid(0) {
		newest = 1
	}
	if _, err := f.WriteAt([]byte("torn write......"), newest*4096+16+20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	d, rec := openDisk(t, dir, Options{})
	if rec.MovedAside != "" {
		t.Fatalf("a torn meta page made the whole file unusable: %+v", rec)
	}
	n := len(readAll(t, d))
	if n != 19 && n != 20 {
		t.Errorf("recovered %d records, want the 19 or 20 of the commits before the torn one", n)
	}
	t.Logf("torn last commit: %d of 20 records recovered", n)
}

// TestTruncatedFile: the file lost its tail (e.g. copied while written):
// start-up moves the file aside, never panics, and salvages what it can
// read: the oldest records in order up to the first one it cannot reach
// (the cursor stops at the first page past the end), none invented,
// reordered or repeated. How many depends on where bbolt put the pages;
// with the largest cut some are always reachable.
func TestTruncatedFile(t *testing.T) {
	for _, tc := range []struct {
		keep    int64
		atLeast int
	}{{3 * 4096, 0}, {5 * 4096, 0}, {9 * 4096, 1}} {
		t.Run(fmt.Sprint(tc.keep), func(t *testing.T) {
			dir := t.TempDir()
			fill(t, dir, 200)
			path := filepath.Join(dir, FileName)
			info, _ := os.Stat(path)
			if err := os.Truncate(path, tc.keep); err != nil {
				t.Fatal(err)
			}
			d, rec := openDisk(t, dir, Options{})
			t.Logf("truncated to %d of %d bytes: moved aside %v, salvaged %d, problem: %v", tc.keep, info.Size(), rec.MovedAside != "", rec.Salvaged, rec.Problem)
			if rec.MovedAside == "" || rec.Problem == nil {
				t.Errorf("truncated file not recognised as damaged: %+v", rec)
			}
			recs := readAll(t, d)
			if len(recs) != rec.Salvaged || int64(len(recs)) != rec.Events {
				t.Errorf("readable %d, recovery %+v", len(recs), rec)
			}
			if len(recs) < tc.atLeast {
				t.Errorf("salvaged %d records, want at least %d", len(recs), tc.atLeast)
			}
			for i, r := range recs {
				if !bytes.Equal(r.Body, body(i)) {
					t.Fatalf("salvaged record %d is %q, want %q: the oldest records in order", i, r.Body, body(i))
				}
			}
			if _, err := d.Append(t.Context(), Entry{Body: body(1), Received: t0}); err != nil {
				t.Errorf("spool unusable after recovery: %v", err)
			}
		})
	}
}

// TestDamagedRecordQuarantined: a record whose bytes changed on disk fails
// its checksum on read; Quarantine moves it aside and the others read fine.
func TestDamagedRecordQuarantined(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 5)
	path := filepath.Join(dir, FileName)
	raw, _ := os.ReadFile(path)
	// Flip a byte in every copy (copy-on-write leaves stale ones in free
	// pages).
	n := 0
	for off := 0; ; {
		i := bytes.Index(raw[off:], []byte("id-000002"))
		if i < 0 {
			break
		}
		raw[off+i+3] ^= 0xff
		off += i + 1
		n++
	}
	if n == 0 {
		t.Fatal("record not found in the file")
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	d, _ := openDisk(t, dir, Options{})
	recs := readAll(t, d)
	var bad []Record
	for _, r := range recs {
		if r.Err != nil {
			bad = append(bad, r)
		}
	}
	if len(recs) != 5 || len(bad) != 1 || bad[0].Seq != 3 {
		t.Fatalf("%d records, bad %+v; want record 3 damaged", len(recs), bad)
	}
	if err := d.Quarantine(bad[0], bad[0].Err.Error()); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s.Events != 4 {
		t.Errorf("after quarantine %d events", s.Events)
	}
	var q int
	_ = d.db.View(func(tx *bolt.Tx) error { q = tx.Bucket(bucketQuarantine).Stats().KeyN; return nil })
	if q != 1 {
		t.Errorf("%d records in quarantine, want 1", q)
	}
}

func TestClosed(t *testing.T) {
	d, _, err := Open(t.TempDir(), Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := d.Append(t.Context(), Entry{Body: body(1)}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	d, _ := openDisk(t, dir, Options{})
	_ = d
	start := time.Now()
	_, _, err := Open(dir, Options{MaxBytes: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second Open: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil || time.Since(start) > 10*time.Second {
		t.Errorf("file touched or slow: %v", err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, FileName+".corrupt-*"))
	if len(matches) > 0 {
		t.Errorf("a locked spool was moved aside: %v", matches)
	}
}

func TestMemoryQueue(t *testing.T) {
	const size = 10 + memOverhead
	m := NewMemory(MemoryOptions{MaxBytes: 3 * size, MaxHintBytes: 2 * size, Dedupe: DedupeOptions{Window: time.Hour, Max: 100}})
	for i := range 3 {
		body := []byte(fmt.Sprintf("body-%05d", i))
		if dup, err := m.Append(t.Context(), Entry{Key: fmt.Sprint(i), Body: body, Hint: i, Received: t0}); dup || err != nil {
			t.Fatalf("append %d: %v %v", i, dup, err)
		}
	}
	if _, err := m.Append(t.Context(), Entry{Key: "x", Body: make([]byte, 10)}); !errors.Is(err, ErrFull) {
		t.Fatalf("want ErrFull, got %v", err)
	}
	if dup, _ := m.Append(t.Context(), Entry{Key: "1", Body: make([]byte, 10)}); !dup {
		t.Error("duplicate not recognised")
	}
	recs, _ := m.Read(0, 3, 1<<20)
	// The first two fit the hint budget and are kept decoded; the third is
	// kept as its body.
	if len(recs) != 3 || recs[0].Hint != 0 || recs[1].Hint != 1 || recs[0].Body != nil ||
		recs[2].Hint != nil || string(recs[2].Body) != "body-00002" {
		t.Fatalf("read %+v", recs)
	}
	if err := m.Delete(recs[:2]); err != nil {
		t.Fatal(err)
	}
	rest, _ := m.Read(0, 10, 1<<20)
	if len(rest) != 1 || rest[0].Seq != 3 || m.Stats().Events != 1 {
		t.Fatalf("after delete: %+v %+v", rest, m.Stats())
	}
	// Deleting hinted records frees the hint budget.
	if _, err := m.Append(t.Context(), Entry{Key: "y", Body: make([]byte, 10), Hint: "y"}); err != nil {
		t.Errorf("room after delete: %v", err)
	}
	if recs, _ := m.Read(3, 10, 1<<20); len(recs) != 1 || recs[0].Hint != "y" {
		t.Errorf("hint budget not freed by Delete: %+v", recs)
	}
	m.Close()
	if _, err := m.Append(t.Context(), Entry{Key: "z", Body: make([]byte, 10)}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
}

// BenchmarkAppendParallel measures durable appends with group commit.
func BenchmarkAppendParallel(b *testing.B) {
	d, _, err := Open(b.TempDir(), Options{MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	payload := bytes.Repeat([]byte("x"), 4096)
	b.SetParallelism(16)
	b.SetBytes(int64(len(payload)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := d.Append(context.Background(), Entry{Body: payload, Received: t0}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
