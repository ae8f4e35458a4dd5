package spool

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/assistant-otel/assistant-otel/internal/testlog"
)

type lockedBuffer = testlog.Buffer

// TestDiskGone: once the spool's directory is removed, or its file
// replaced, no Append is acknowledged any more, Err and Check say so, one
// error is logged, and what was acknowledged before can still be read and
// deleted from the open file.
func TestDiskGone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(t *testing.T, dir string)
	}{
		{"directory removed", func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"file replaced", func(t *testing.T, dir string) {
			tmp := filepath.Join(dir, "other")
			if err := os.WriteFile(tmp, []byte("not the spool"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(dir, FileName)); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory renamed", func(t *testing.T, dir string) {
			if err := os.Rename(dir, dir+".moved"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "spool")
			logs := &lockedBuffer{}
			d, _ := openDisk(t, dir, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			ctx := context.Background()
			for i := range 5 {
				if _, err := d.Append(ctx, Entry{Key: string(body(i)), Body: body(i), Received: t0}); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Check(); err != nil || d.Err() != nil {
				t.Fatalf("healthy spool: Check %v, Err %v", err, d.Err())
			}
			tc.remove(t, dir)
			// The next append is refused although its commit succeeds on
			// the open file: the check after the fsync catches it.
			for i := 5; i < 10; i++ {
				dup, err := d.Append(ctx, Entry{Key: string(body(i)), Body: body(i), Received: t0})
				if !errors.Is(err, ErrUnavailable) || dup {
					t.Fatalf("append %d after the spool went: dup %v, err %v; want ErrUnavailable", i, dup, err)
				}
			}
			if err := d.Err(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Err after the spool went: %v", err)
			}
			if err := d.Check(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Check after the spool went: %v", err)
			}
			if n := strings.Count(logs.String(), "SPOOL GONE"); n != 1 {
				t.Errorf("logged %d times, want once:\n%s", n, logs)
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("not logged as an error:\n%s", logs)
			}
			// What was acknowledged before is still readable and
			// deletable, to be exported while the process runs.
			recs := readAll(t, d)
			if len(recs) != 5 {
				t.Fatalf("read %d records from the orphaned file, want the 5 acknowledged before", len(recs))
			}
			if err := d.Delete(recs); err != nil {
				t.Errorf("delete on the orphaned file: %v", err)
			}
			if s := d.Stats(); s.Events != 0 {
				t.Errorf("after deleting everything: %+v", s)
			}
		})
	}
}

// TestDiskGoneDuringCommit: the spool removed while a commit is being
// written: the check after the fsync refuses the batch's appends and takes
// them out of the file again.
func TestDiskGoneDuringCommit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	d, _ := openDisk(t, dir, Options{})
	ctx := context.Background()
	for i := range 3 {
		if _, err := d.Append(ctx, Entry{Body: body(i), Received: t0}); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	d.afterCommit = func() { once.Do(func() { _ = os.RemoveAll(dir) }) }
	if _, err := d.Append(ctx, Entry{Body: body(3), Received: t0}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append whose commit saw the spool go: %v, want ErrUnavailable", err)
	}
	if recs := readAll(t, d); len(recs) != 3 {
		t.Errorf("the orphaned file holds %d records, want the 3 acknowledged", len(recs))
	}
	if s := d.Stats(); s.Events != 3 {
		t.Errorf("stats: %+v, want 3 events", s)
	}
}

// TestDiskCheckHealthy: the checks do not fire on a healthy spool.
func TestDiskCheckHealthy(t *testing.T) {
	d, _ := openDisk(t, t.TempDir(), Options{})
	for i := range 50 {
		if _, err := d.Append(context.Background(), Entry{Body: body(i), Received: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCheckFile is the cost of the check made after every commit.
func BenchmarkCheckFile(b *testing.B) {
	d, _, err := Open(b.TempDir(), Options{MaxBytes: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	for b.Loop() {
		if err := d.checkFile(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDiskCheckAfterWriteFailure: after a failed commit, Check tries an
// empty commit: it reports the failure while writes fail and clears once
// one succeeds, without waiting for an Append.
func TestDiskCheckAfterWriteFailure(t *testing.T) {
	d, _, err := Open(t.TempDir(), Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	failed := errors.New("no space left on device")
	d.writeErr.Store(&failed)
	if err := d.Check(); err != nil {
		t.Errorf("Check with writes working again: %v", err)
	}
	if d.writeErr.Load() != nil {
		t.Error("the failure was not cleared by the successful trial commit")
	}
	d.writeErr.Store(&failed)
	if err := d.Close(); err != nil { // every write fails from now on
		t.Fatal(err)
	}
	if err := d.Check(); err == nil || !strings.Contains(err.Error(), "writes fail") {
		t.Errorf("Check while writes fail: %v", err)
	}
}
