// Package deadletter keeps the events the OTLP endpoint refused for what
// they hold, so that they are not lost and do not block the others: one
// file per event in a directory (by default <spool-dir>/dead-letters),
// holding a header line (log_id, when, why, size) and the raw webhook body.
//
// Files, not the spool's database: `assistant-otel dead-letters` lists and
// retries them while serve runs, without its lock. A file is written to a
// temporary name, synced and renamed, so a reader never sees half of one.
// The store is bounded in bytes: a Put that would exceed the bound fails
// with ErrFull (the caller counts and logs it) and nothing is written.
//
// Imports: it imports no package of this module: the pump and the
// dead-letters command use it.
package deadletter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DirName is the store's directory inside the spool directory.
const DirName = "dead-letters"

// DefaultMaxBytes is the default bound of a store (256 MiB).
const DefaultMaxBytes = 256 << 20

// ext is the extension of a dead letter's file.
const ext = ".deadletter"

// ErrFull means a Put would exceed the store's bound.
var ErrFull = errors.New("dead-letter store full")

// Letter is one refused event.
type Letter struct {
	// LogID is the event's id (log_id, or the call's global session id).
	LogID string `json:"log_id"`
	// Time is when it was set aside.
	Time time.Time `json:"time"`
	// Received is when the webhook delivered it.
	Received time.Time `json:"received"`
	// Reason is why, in a word (e.g. http_400), and Message the endpoint's
	// answer.
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
	// Size is the body's size in bytes.
	Size int `json:"size"`
	// Body is the raw webhook body (not in the header line).
	Body []byte `json:"-"`
	// Name is the file's name in the store (set by List and Read).
	Name string `json:"-"`
}

// Store is a dead-letter directory. Its methods are safe for concurrent
// use; other processes may remove files meanwhile.
type Store struct {
	dir string
	max int64

	mu   sync.Mutex
	used int64 // bytes of the files, as of the last scan plus what was put since
}

// Open opens (creating it) the store in dir, bounded to maxBytes (<= 0:
// DefaultMaxBytes).
func Open(dir string, maxBytes int64) (*Store, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	s := &Store{dir: dir, max: maxBytes}
	used, err := s.scan()
	if err != nil {
		return nil, err
	}
	s.used = used
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// MaxBytes is the store's bound.
func (s *Store) MaxBytes() int64 { return s.max }

// scan sums the sizes of the files.
func (s *Store) scan() (int64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("dead letters: %w", err)
	}
	var n int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ext) {
			continue
		}
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n, nil
}

// Put writes l durably. It fails with ErrFull when the store would exceed
// its bound (counting what was removed since, e.g. by a retry).
func (s *Store) Put(l Letter) (string, error) {
	l.Size = len(l.Body)
	if l.Time.IsZero() {
		l.Time = time.Now()
	}
	head, err := json.Marshal(l)
	if err != nil {
		return "", fmt.Errorf("dead letters: %w", err)
	}
	size := int64(len(head) + 1 + len(l.Body))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used+size > s.max {
		used, err := s.scan() // files may have been retried away
		if err != nil {
			return "", err
		}
		s.used = used
		if s.used+size > s.max {
			return "", fmt.Errorf("%w (%d of %d bytes used, %s)", ErrFull, s.used, s.max, s.dir)
		}
	}
	name := fmt.Sprintf("%s-%s%s", l.Time.UTC().Format("20060102T150405.000000000Z"), safe(l.LogID), ext)
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("dead letters: %w", err)
	}
	_, werr := tmp.Write(append(append(head, '\n'), l.Body...))
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), filepath.Join(s.dir, name))
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("dead letters: writing %s: %w", name, werr)
	}
	if d, err := os.Open(s.dir); err == nil { // make the rename durable
		_ = d.Sync()
		_ = d.Close()
	}
	s.used += size
	return name, nil
}

// safe keeps the characters of id fit for a file name (at most 64).
func safe(id string) string {
	var b strings.Builder
	for _, r := range id {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "event"
	}
	return b.String()
}

// List returns the letters (header only, no body), oldest first.
func (s *Store) List() ([]Letter, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	var out []Letter
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ext) {
			continue
		}
		l, err := s.read(e.Name(), false)
		if errors.Is(err, os.ErrNotExist) {
			continue // retried away meanwhile
		}
		if err != nil {
			return out, err
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Read returns the letter in the file name, with its body.
func (s *Store) Read(name string) (Letter, error) { return s.read(name, true) }

func (s *Store) read(name string, body bool) (Letter, error) {
	if filepath.Base(name) != name || !strings.HasSuffix(name, ext) {
		return Letter{}, fmt.Errorf("dead letters: %q is not a dead letter's name", name)
	}
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		return Letter{}, fmt.Errorf("dead letters: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, err := br.ReadBytes('\n')
	if err != nil {
		return Letter{}, fmt.Errorf("dead letters: %s: no header line: %w", name, err)
	}
	var l Letter
	if err := json.Unmarshal(bytes.TrimSpace(head), &l); err != nil {
		return Letter{}, fmt.Errorf("dead letters: %s: bad header: %w", name, err)
	}
	l.Name = name
	if body {
		if l.Body, err = io.ReadAll(br); err != nil {
			return Letter{}, fmt.Errorf("dead letters: %s: %w", name, err)
		}
		if len(l.Body) != l.Size {
			return Letter{}, fmt.Errorf("dead letters: %s: body of %d bytes, header says %s", name, len(l.Body), strconv.Itoa(l.Size))
		}
	}
	return l, nil
}

// Remove deletes the letter in the file name (once it was exported). A
// file already gone is not an error.
func (s *Store) Remove(name string) error {
	if filepath.Base(name) != name || !strings.HasSuffix(name, ext) {
		return fmt.Errorf("dead letters: %q is not a dead letter's name", name)
	}
	err := os.Remove(filepath.Join(s.dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("dead letters: %w", err)
	}
	return nil
}
