package backfill

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Deduper remembers which events were exported, by key
// (watson.Event.DedupeKey: "log:" + log_id for turns). The service wires its persistent dedupe store here so
// that a turn that arrived through the webhook is not exported again.
type Deduper interface {
	Seen(key string) bool
	Mark(key string)
}

// Syncer is implemented by Dedupers that buffer: Sync makes every Mark so
// far durable. The job calls it before writing a checkpoint, so the
// checkpoint never runs ahead of the dedupe record.
type Syncer interface {
	Sync() error
}

// MemoryDeduper is a Deduper for one process. The zero value is not usable;
// call NewMemoryDeduper.
type MemoryDeduper struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// NewMemoryDeduper returns an empty MemoryDeduper.
func NewMemoryDeduper() *MemoryDeduper { return &MemoryDeduper{seen: map[string]struct{}{}} }

// Seen reports whether key was marked.
func (d *MemoryDeduper) Seen(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.seen[key]
	return ok
}

// Mark records key.
func (d *MemoryDeduper) Mark(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[key] = struct{}{}
}

// Len is the number of keys marked.
func (d *MemoryDeduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

// FileDeduper is a MemoryDeduper backed by an append-only file of keys, one
// per line, for standalone runs. It loads the file when opened, appends each
// Mark (buffered) and makes it durable on Sync and Close. It grows without
// bound (about 37 bytes per log); delete it to start over.
type FileDeduper struct {
	*MemoryDeduper
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	err error
}

// OpenFileDeduper opens (creating, mode 0600) the file at path.
func OpenFileDeduper(path string) (*FileDeduper, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dedupe file: %w", err)
	}
	d := &FileDeduper{MemoryDeduper: NewMemoryDeduper(), f: f}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" {
			d.seen[k] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("dedupe file %s: %w", path, err)
	}
	d.w = bufio.NewWriter(f)
	return d, nil
}

// Mark records key in memory and appends it to the file. Write errors are
// reported by Sync and Close.
func (d *FileDeduper) Mark(key string) {
	if key == "" || strings.ContainsAny(key, "\r\n") || d.Seen(key) {
		return
	}
	d.MemoryDeduper.Mark(key)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		_, d.err = d.w.WriteString(key + "\n")
	}
}

// Sync flushes and fsyncs the file.
func (d *FileDeduper) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return fmt.Errorf("dedupe file: %w", d.err)
	}
	if err := d.w.Flush(); err != nil {
		d.err = err
		return fmt.Errorf("dedupe file: %w", err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("dedupe file: %w", err)
	}
	return nil
}

// Close syncs and closes the file.
func (d *FileDeduper) Close() error {
	err := d.Sync()
	return errors.Join(err, d.f.Close())
}
