package filewatch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/filewatch"
)

// source stands for files: what they hold, and whether reading or applying
// them fails.
type source struct {
	mu       sync.Mutex
	content  string
	readErr  error
	applyErr error
	applied  []string
	reported []string
}

func (s *source) read() (string, filewatch.Stamp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readErr != nil {
		return "", filewatch.Stamp{}, s.readErr
	}
	var st filewatch.Stamp
	copy(st[:], s.content)
	return s.content, st, nil
}

func (s *source) apply(v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.applyErr != nil {
		return s.applyErr
	}
	s.applied = append(s.applied, v)
	return nil
}

func (s *source) report(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reported = append(s.reported, err.Error())
}

func (s *source) set(f func(*source)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *source) counts() (applied, reported int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.applied), len(s.reported)
}

func (s *source) watcher() *filewatch.Watcher[string] {
	return &filewatch.Watcher[string]{Read: s.read, Apply: s.apply, Report: s.report}
}

func want(t *testing.T, s *source, applied, reported int) {
	t.Helper()
	if a, r := s.counts(); a != applied || r != reported {
		t.Fatalf("applied %d times and reported %d failures, want %d and %d (applied %q, reported %q)",
			a, r, applied, reported, s.applied, s.reported)
	}
}

func TestPollAppliesOnlyChanges(t *testing.T) {
	s := &source{content: "v1"}
	w := s.watcher()
	if err := w.Load(); err != nil {
		t.Fatal(err)
	}
	want(t, s, 1, 0)
	w.Poll()
	w.Poll()
	want(t, s, 1, 0) // unchanged
	if err := w.Load(); err != nil {
		t.Fatal(err)
	}
	want(t, s, 2, 0) // Load applies even unchanged files
	s.set(func(s *source) { s.content = "v2" })
	w.Poll()
	w.Poll()
	want(t, s, 3, 0)
	if s.applied[2] != "v2" {
		t.Errorf("applied %q, want v2", s.applied[2])
	}
}

func TestFailuresReportedOnceUntilTheyChange(t *testing.T) {
	s := &source{content: "v1"}
	w := s.watcher()
	if err := w.Load(); err != nil {
		t.Fatal(err)
	}
	s.set(func(s *source) { s.readErr = errors.New("file missing") })
	for range 3 {
		w.Poll()
	}
	want(t, s, 1, 1)
	s.set(func(s *source) { s.readErr = errors.New("file empty") })
	w.Poll()
	w.Poll()
	want(t, s, 1, 2) // a new message is reported

	// Load returns its failure for the caller to report; polls then stay
	// quiet about it.
	s.set(func(s *source) { s.readErr = errors.New("file unreadable") })
	if err := w.Load(); err == nil || err.Error() != "file unreadable" {
		t.Fatalf("Load = %v, want the read failure", err)
	}
	w.Poll()
	want(t, s, 1, 2)
	if err := w.Load(); err == nil {
		t.Fatal("a second forced Load hid its failure")
	}

	// An apply failure is retried, and reported again when the files change.
	s.set(func(s *source) { s.readErr, s.applyErr, s.content = nil, errors.New("refused"), "v2" })
	w.Poll()
	w.Poll()
	want(t, s, 1, 3)
	s.set(func(s *source) { s.content = "v3" })
	w.Poll()
	want(t, s, 1, 4)

	// Recovery applies, and clears the memory of the failure.
	s.set(func(s *source) { s.applyErr = nil })
	w.Poll()
	want(t, s, 2, 4)
	// A failure that comes back after unchanged files read fine is news.
	s.set(func(s *source) { s.readErr = errors.New("file missing") })
	w.Poll()
	want(t, s, 2, 5)
	s.set(func(s *source) { s.readErr = nil })
	w.Poll()
	s.set(func(s *source) { s.readErr = errors.New("file missing") })
	w.Poll()
	want(t, s, 2, 6)
}

func TestPollIfDueHonoursTheInterval(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); clock = clock.Add(d) }

	s := &source{content: "v1"}
	w := s.watcher()
	w.Clock = now
	if err := w.Load(); err != nil {
		t.Fatal(err)
	}
	s.set(func(s *source) { s.content = "v2" })
	w.PollIfDue(time.Minute)
	want(t, s, 1, 0) // the Load was just now
	advance(59 * time.Second)
	w.PollIfDue(time.Minute)
	want(t, s, 1, 0)
	advance(time.Second)
	w.PollIfDue(time.Minute)
	want(t, s, 2, 0)
	s.set(func(s *source) { s.content = "v3" })
	advance(time.Hour)
	w.PollIfDue(0)
	want(t, s, 2, 0) // no interval: never
}

func TestRunPollsUntilCancelled(t *testing.T) {
	s := &source{content: "v1"}
	w := s.watcher()
	if err := w.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, time.Millisecond); close(done) }()
	s.set(func(s *source) { s.content = "v2" })
	deadline := time.Now().Add(10 * time.Second)
	for a, _ := s.counts(); a != 2; a, _ = s.counts() {
		if time.Now().After(deadline) {
			t.Fatal("Run did not apply the change")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done

	stopped := make(chan struct{})
	go func() { w.Run(context.Background(), 0); close(stopped) }()
	<-stopped // without an interval Run returns at once
}

func TestStatStamp(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mtime := time.Now().Add(-time.Hour)
	write := func(name, content string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	stamp := func() filewatch.Stamp {
		t.Helper()
		st, err := filewatch.StatStamp(a, b)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	write(a, "one", mtime)
	write(b, "two", mtime)
	first := stamp()
	if stamp() != first {
		t.Fatal("stamp of unchanged files changed")
	}
	write(b, "two", mtime.Add(time.Second))
	second := stamp()
	if second == first {
		t.Error("a new modification time kept the stamp")
	}
	write(b, "three", mtime.Add(time.Second))
	if stamp() == second {
		t.Error("a new size kept the stamp")
	}
	if _, err := filewatch.StatStamp(a, filepath.Join(dir, "missing")); err == nil {
		t.Error("stamp of a missing file")
	}
}
