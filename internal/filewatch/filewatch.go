// Package filewatch keeps something loaded from files in step with them, by
// polling: the one file watcher of the service, used for the assistants file
// and secret files (package auth) and the TLS certificate (package receiver).
//
// A Watcher reads the files (Read returns what they hold and a Stamp that
// changes when they do) and applies what it read when the stamp differs from
// the one last applied (Run, Poll, PollIfDue), or always (Load, Reload).
// Polling sees Kubernetes' symlink swaps of mounted secrets, which
// file-system notifications miss. A failed poll keeps what was applied and
// is reported once, until its message or the stamp it failed on changes.
//
// It imports only the standard library.
package filewatch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is a sensible polling period.
const DefaultInterval = 5 * time.Second

// Stamp identifies one version of the watched files: equal stamps mean
// unchanged files.
type Stamp [sha256.Size]byte

// StatStamp returns a stamp of files made of their sizes and modification
// times: cheap, for files replaced whole (certificates). Content stamps are
// made by the caller while it reads the files anyway.
func StatStamp(files ...string) (Stamp, error) {
	h := sha256.New()
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return Stamp{}, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", f, fi.Size(), fi.ModTime().UnixNano())
	}
	var s Stamp
	h.Sum(s[:0])
	return s, nil
}

// Watcher polls files through Read and applies what changed with Apply.
// Set its fields before first use and do not change them after. It is safe
// for concurrent use: reads and applies are serialised.
type Watcher[T any] struct {
	// Read reads the files: what they hold, and a stamp of them.
	Read func() (T, Stamp, error)
	// Apply installs what Read returned.
	Apply func(T) error
	// Report is told of a poll's failure (nil: nowhere). It is called with
	// the watcher's lock held.
	Report func(error)
	// Clock is the time source of PollIfDue (nil: time.Now).
	Clock func() time.Time

	mu       sync.Mutex // serialises reads and applies; guards applied, lastFail
	applied  Stamp
	lastFail failure
	lastPoll atomic.Int64 // unix nanoseconds of the last poll or load
}

// failure is what a reported failure is remembered by.
type failure struct {
	stamp Stamp
	msg   string
}

// Load reads and applies the files whether or not they changed, and returns
// the failure for the caller to report: polls then stay quiet about the same
// failure.
func (w *Watcher[T]) Load() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastPoll.Store(w.now())
	return w.update(true)
}

// Reload is Load for a reload the operator asked for (SIGHUP): its failure
// also goes to Report.
func (w *Watcher[T]) Reload() error {
	err := w.Load()
	if err != nil && w.Report != nil {
		w.Report(err)
	}
	return err
}

// Poll reads the files now and applies them if they changed; a failure goes
// to Report. It is what Run does on every tick.
func (w *Watcher[T]) Poll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lastPoll.Store(w.now())
	w.poll()
}

// PollIfDue, for callers on a hot path (TLS handshakes), polls if interval
// has passed since the last poll or load, and returns at once, without
// polling, while another poll is under way or if interval is not positive.
func (w *Watcher[T]) PollIfDue(interval time.Duration) {
	now, last := w.now(), w.lastPoll.Load()
	if interval <= 0 || now-last < int64(interval) || !w.lastPoll.CompareAndSwap(last, now) || !w.mu.TryLock() {
		return
	}
	defer w.mu.Unlock()
	w.poll()
}

// Run polls every interval until ctx ends. It returns at once if interval is
// not positive.
func (w *Watcher[T]) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Poll()
		}
	}
}

func (w *Watcher[T]) now() int64 {
	if w.Clock == nil {
		return time.Now().UnixNano()
	}
	return w.Clock().UnixNano()
}

// poll updates and reports a failure; w.mu must be held.
func (w *Watcher[T]) poll() {
	if err := w.update(false); err != nil && w.Report != nil {
		w.Report(err)
	}
}

// update reads and, if forced or changed, applies. It returns a failure only
// when it is to be reported: a poll failure is remembered and not returned
// again until its message or stamp changes; a forced one always is. w.mu
// must be held.
func (w *Watcher[T]) update(force bool) error {
	v, stamp, err := w.Read()
	if err == nil {
		if !force && stamp == w.applied {
			w.lastFail = failure{}
			return nil
		}
		if err = w.Apply(v); err == nil {
			w.applied, w.lastFail = stamp, failure{}
			return nil
		}
	} else {
		stamp = Stamp{}
	}
	f := failure{stamp: stamp, msg: err.Error()}
	if !force && f == w.lastFail {
		return nil
	}
	w.lastFail = f
	return err
}
