package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the database file in the spool directory.
const FileName = "spool.db"

// Buckets of the database.
var (
	bucketEvents     = []byte("events")     // seq (8 bytes, big endian) → record value
	bucketDedupe     = []byte("dedupe")     // accepted at (unix ns, 8 bytes) + key hash (8 bytes) → nothing
	bucketQuarantine = []byte("quarantine") // seq → reason length (2 bytes), reason, record value
)

// A record value: version, arrival time, CRC-32C of the body, body.
const (
	valueVersion = 1
	valueHeader  = 1 + 8 + 4
	keySize      = 8
	// recordOverhead is what a record counts against the limit beyond
	// its body.
	recordOverhead = keySize + valueHeader
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Commit batching limits: one transaction takes at most this many queued
// operations, or this many body bytes.
const (
	maxCommitOps   = 4096
	maxCommitBytes = 32 << 20
	// maxArena bounds the buffer of keys and values kept for the next
	// commit (Disk.arena); a larger one, after a commit of a backlog, is
	// dropped.
	maxArena = 1 << 20
)

// ErrUnavailable is wrapped by the errors of a Disk whose file was removed
// or replaced while it was open (see Disk.Err): nothing more can be made
// durable in it until the service restarts.
var ErrUnavailable = errors.New("spool: unavailable")

// errCorrupt marks a database file that cannot be used.
var errCorrupt = errors.New("spool: database damaged")

// Options configure Open.
type Options struct {
	// MaxBytes bounds the events held, counted as body plus a small
	// per-record overhead (required, positive). The file itself can be
	// larger: bbolt reuses freed pages but does not shrink the file.
	MaxBytes int64
	Dedupe   DedupeOptions
	// MaxHints and MaxHintBytes bound the decoded events (Entry.Hint) kept
	// in memory for the reader, in number and in body bytes (defaults 8192
	// and 4 MiB: about 16 MiB decoded); beyond them the reader decodes the
	// stored body.
	MaxHints     int
	MaxHintBytes int64
	// Logger receives recovery reports (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Recovery reports what Open found.
type Recovery struct {
	// Events and Bytes are what the spool held at start-up (to replay).
	Events int64
	Bytes  int64
	// Corrupt counts damaged records moved to quarantine at start-up.
	Corrupt int
	// MovedAside is where an unusable database file was moved, or "".
	MovedAside string
	// Salvaged counts the records copied from that file into the new one.
	Salvaged int
	// Problem is why the file was moved aside.
	Problem error
}

// Disk is the durable Queue, in a bbolt database.
type Disk struct {
	db       *bolt.DB
	path     string
	maxBytes int64
	maxHints int
	maxHintB int64
	now      func() time.Time
	log      *slog.Logger
	dd       *dedupe
	ch       chan struct{}
	// ident is the database file as opened: Err compares the file at path
	// with it.
	ident fs.FileInfo
	// gone is set, once, when the file at path is no longer the one open.
	gone atomic.Pointer[error]
	// writeErr is the error of the last commit, nil after a successful one.
	writeErr atomic.Pointer[error]
	// arena holds the keys and values a commit puts (bbolt keeps them
	// until the commit and copies them into its pages), reused by the next
	// commit: owned by commitLoop.
	arena []byte
	// afterCommit, when set (tests), runs after each successful commit,
	// before the file is checked again.
	afterCommit func()

	bytes  atomic.Int64 // held + reserved by Appends in progress
	events atomic.Int64

	hintsMu   sync.Mutex
	hints     map[uint64]hint
	hintBytes int64

	closeMu sync.RWMutex
	closed  bool
	ops     chan *op
	stopped chan struct{}
}

type opKind int

const (
	opAppend opKind = iota
	opDelete
	opQuarantine
)

type op struct {
	kind   opKind
	entry  Entry
	dedupe bool   // store hash in the dedupe window
	hash   uint64 // of entry.Key
	at     int64  // set by the commit: when the dedupe entry was recorded
	size   int64
	seqs   []uint64
	reason string
	done   chan error
}

// Open opens (or creates) the spool in dir. A database file that cannot be
// opened or fails its consistency check is moved aside (spool.db.corrupt-
// TIMESTAMP), whatever records can still be read from it are copied into a
// fresh one, and the Recovery says so; Open fails only for problems of the
// environment (permissions, a full disk, another process holding the
// spool).
func Open(dir string, o Options) (*Disk, Recovery, error) {
	var rec Recovery
	if o.MaxBytes <= 0 {
		return nil, rec, fmt.Errorf("spool: max bytes must be positive, got %d", o.MaxBytes)
	}
	if o.MaxHints <= 0 {
		o.MaxHints = 8192
	}
	if o.MaxHintBytes <= 0 {
		o.MaxHintBytes = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, rec, fmt.Errorf("spool: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := openChecked(path)
	if err != nil && !errors.Is(err, errCorrupt) {
		return nil, rec, err
	}
	if err != nil {
		rec.Problem = err
		salvaged := salvage(path, o.MaxBytes)
		aside := fmt.Sprintf("%s.corrupt-%s", path, o.Now().UTC().Format("20060102T150405.000000000Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, rec, fmt.Errorf("spool: moving damaged %s aside: %w (damage: %v)", path, rerr, err)
		}
		rec.MovedAside = aside
		o.Logger.Error("SPOOL DATABASE DAMAGED: moved aside, starting a new one",
			"path", path, "moved_to", aside, "problem", err, "records_salvaged", len(salvaged))
		if db, err = openChecked(path); err != nil {
			return nil, rec, fmt.Errorf("spool: creating a new database after moving the damaged one aside: %w", err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketEvents)
			for _, v := range salvaged {
				seq, err := b.NextSequence()
				if err != nil {
					return err
				}
				if err := b.Put(seqKey(seq), v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			_ = db.Close()
			return nil, rec, fmt.Errorf("spool: writing salvaged records: %w", err)
		}
		rec.Salvaged = len(salvaged)
	}

	ident, err := os.Stat(path)
	if err != nil {
		_ = db.Close()
		return nil, rec, fmt.Errorf("spool: %w", err)
	}
	d := &Disk{
		ident:    ident,
		db:       db,
		path:     path,
		maxBytes: o.MaxBytes,
		maxHints: o.MaxHints,
		maxHintB: o.MaxHintBytes,
		now:      o.Now,
		log:      o.Logger,
		dd:       newDedupe(o.Dedupe, o.Now, true),
		ch:       make(chan struct{}, 1),
		hints:    make(map[uint64]hint),
		ops:      make(chan *op, 1024),
		stopped:  make(chan struct{}),
	}
	corrupt, err := d.load()
	if err != nil {
		_ = db.Close()
		return nil, rec, err
	}
	rec.Corrupt = corrupt
	rec.Events, rec.Bytes = d.events.Load(), d.bytes.Load()
	if corrupt > 0 {
		o.Logger.Error("spool: damaged records moved to quarantine", "path", path, "records", corrupt)
	}
	go d.commitLoop()
	return d, rec, nil
}

// openChecked opens the database and checks its structure. Damage, even
// one that makes bbolt panic or fault on the mapped file (e.g. truncated),
// is returned as errCorrupt.
//
// The freelist is kept in the file (bbolt's default): with NoFreelistSync,
// Open would rebuild it by walking the file on a goroutine of its own, where
// a fault on a damaged file cannot be recovered and kills the process. Here
// the file is first walked on a guarded goroutine (sizes, every page of
// every bucket, the last byte of every value), and only then is bbolt's own
// consistency check run.
func openChecked(path string) (*bolt.DB, error) {
	var file *os.File
	opts := &bolt.Options{
		Timeout:      3 * time.Second,
		FreelistType: bolt.FreelistMapType,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	var db *bolt.DB
	err := guard(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, opts)
		if err != nil {
			return err
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		if err := db.View(func(tx *bolt.Tx) error {
			if tx.Size() > info.Size() {
				return fmt.Errorf("%w: file is %d bytes, its data needs %d (truncated?)", errCorrupt, info.Size(), tx.Size())
			}
			var sink byte
			for _, name := range [][]byte{bucketEvents, bucketDedupe, bucketQuarantine} {
				b := tx.Bucket(name)
				if b == nil {
					continue
				}
				c := b.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if len(v) > 0 {
						sink ^= v[len(v)-1]
					}
				}
			}
			touched.Store(int32(sink))
			return nil
		}); err != nil {
			return err
		}
		return db.Update(func(tx *bolt.Tx) error {
			var problems []error
			for err := range tx.Check() { // drain: the checker runs until it closes the channel
				problems = append(problems, err)
			}
			if len(problems) > 0 {
				return fmt.Errorf("%w: %d consistency problems, first: %v", errCorrupt, len(problems), problems[0])
			}
			for _, name := range [][]byte{bucketEvents, bucketDedupe, bucketQuarantine} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("%w: bucket %s: %v", errCorrupt, name, err)
				}
			}
			return nil
		})
	})
	if err == nil {
		return db, nil
	}
	if db != nil {
		_ = guard(db.Close)
	} else if file != nil {
		_ = file.Close()
	}
	switch {
	case errors.Is(err, errCorrupt):
		return nil, err
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("spool: %s is locked by another process (another assistant-otel on the same spool?)", path)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOENT):
		return nil, fmt.Errorf("spool: opening %s: %w", path, err)
	}
	return nil, fmt.Errorf("%w: %v", errCorrupt, err)
}

// touched keeps the walk's reads from being optimised away.
var touched atomic.Int32

// guard runs fn on a goroutine where a panic, or a memory fault on the
// mapped file (e.g. truncated), becomes an errCorrupt error.
func guard(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		debug.SetPanicOnFault(true)
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("%w: %v", errCorrupt, p)
			}
		}()
		done <- fn()
	}()
	return <-done
}

// salvage returns the record values that can still be read from a damaged
// database, oldest first, up to maxBytes.
func salvage(path string, maxBytes int64) [][]byte {
	var out [][]byte
	_ = guard(func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		var n int64
		return db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketEvents)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, v := c.First(); k != nil && n < maxBytes; k, v = c.Next() {
				// A fault here (a page past the end of a truncated file)
				// ends the salvage with what was read so far.
				if _, _, err := decodeValue(v, true); err != nil {
					continue
				}
				out = append(out, append([]byte(nil), v...))
				n += int64(len(k) + len(v))
			}
			return nil
		})
	})
	return out
}

// load counts the events, restores the dedupe window and quarantines
// records too short to be one.
func (d *Disk) load() (corrupt int, err error) {
	var bad [][]byte
	var keys []seenKey
	var badKeys [][]byte
	var events, bytes int64
	err = guard(func() error {
		return d.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketEvents).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(k) != keySize || len(v) < valueHeader || v[0] != valueVersion {
					bad = append(bad, append([]byte(nil), k...))
					continue
				}
				events++
				bytes += int64(len(k) + len(v))
			}
			return tx.Bucket(bucketDedupe).ForEach(func(k, _ []byte) error {
				if sk, ok := parseStorageKey(k); ok {
					keys = append(keys, sk)
				} else {
					badKeys = append(badKeys, append([]byte(nil), k...))
				}
				return nil
			})
		})
	})
	if err != nil {
		return 0, fmt.Errorf("spool: reading %s: %w", d.path, err)
	}
	d.events.Store(events)
	d.bytes.Store(bytes)
	dropped := d.dd.load(keys)
	if len(bad) == 0 && len(dropped) == 0 && len(badKeys) == 0 {
		return 0, nil
	}
	err = d.db.Update(func(tx *bolt.Tx) error {
		for _, k := range bad {
			if err := quarantineKey(tx, k, "damaged record found at start-up"); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketDedupe)
		for _, k := range dropped {
			if err := b.Delete(k.appendStorageKey(nil)); err != nil {
				return err
			}
		}
		for _, k := range badKeys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("spool: cleaning up %s at start-up: %w", d.path, err)
	}
	return len(bad), nil
}

// Path returns the database file.
func (d *Disk) Path() string { return d.path }

// DedupeKeys returns how many keys the dedupe window holds.
func (d *Disk) DedupeKeys() int { return d.dd.size() }

// Err returns the error wrapping ErrUnavailable once the database file was
// found removed or replaced (e.g. the spool directory was deleted), and nil
// before. It only reads a flag: the file is checked after every commit and
// by Check. From then on every Append fails with it (the event is not
// acknowledged); Read, Delete and Quarantine go on working on the open,
// orphaned file, so that what was acknowledged before can still be
// exported while the process runs, but it is lost when the process exits.
// It never clears: a restart opens (or creates) the spool again.
func (d *Disk) Err() error {
	if p := d.gone.Load(); p != nil {
		return *p
	}
	return nil
}

// Check returns Err after checking the file at its path again (one stat).
// When the last commit failed (e.g. a full or read-only disk), it tries an
// empty commit (a write and an fsync) and returns its error: readiness must
// recover without waiting for traffic, which a failing probe keeps away.
// It is meant for readiness probes.
func (d *Disk) Check() error {
	if err := d.checkFile(); err != nil {
		return err
	}
	if p := d.writeErr.Load(); p != nil {
		if err := d.db.Update(func(*bolt.Tx) error { return nil }); err != nil {
			return fmt.Errorf("spool: writes fail: %w", err)
		}
		d.writeErr.CompareAndSwap(p, nil)
	}
	return nil
}

// checkFile stats the database path and compares it with the file open:
// missing (the file or its directory deleted or renamed) or another file
// marks the spool gone, once, with an error log. Other stat errors (e.g.
// permissions of the directory changed) leave it as is: the open file is
// still the spool. It costs one stat(2).
func (d *Disk) checkFile() error {
	if err := d.Err(); err != nil {
		return err
	}
	fi, err := os.Stat(d.path)
	var why string
	switch {
	case err == nil && !os.SameFile(d.ident, fi):
		why = "replaced by another file"
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		why = "removed (the file or its directory)"
	default:
		return nil
	}
	gone := fmt.Errorf("%w: %s was %s while open: events can no longer be made durable; restart the service to open a new spool", ErrUnavailable, d.path, why)
	if d.gone.CompareAndSwap(nil, &gone) {
		d.log.Error("SPOOL GONE: refusing events until restart; events acknowledged before and not yet exported are lost at exit",
			"path", d.path, "problem", why, "events_held", d.events.Load())
	}
	return d.Err()
}

// Append implements Queue: it returns once the event is durable.
func (d *Disk) Append(ctx context.Context, e Entry) (bool, error) {
	if err := d.Err(); err != nil {
		return false, err
	}
	dup, h, finish, err := d.dd.begin(ctx, e.Key)
	if err != nil || dup {
		return dup, err
	}
	size := int64(len(e.Body)) + recordOverhead
	if !d.reserve(size) {
		finish(ErrFull, 0)
		return false, ErrFull
	}
	o := &op{kind: opAppend, entry: e, dedupe: e.Key != "" && d.dd.enabled(), hash: h, size: size, done: make(chan error, 1)}
	if err := d.submit(o); err != nil {
		d.bytes.Add(-size)
		finish(err, 0)
		return false, err
	}
	// Wait even if ctx ends: the body must stay valid until the commit.
	err = <-o.done
	if err != nil {
		d.bytes.Add(-size)
	} else {
		d.events.Add(1)
	}
	finish(err, o.at)
	if err == nil {
		notify(d.ch)
	}
	return false, err
}

// reserve counts size against the limit if it fits.
func (d *Disk) reserve(size int64) bool {
	for {
		cur := d.bytes.Load()
		if cur+size > d.maxBytes {
			return false
		}
		if d.bytes.CompareAndSwap(cur, cur+size) {
			return true
		}
	}
}

func (d *Disk) submit(o *op) error {
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	d.ops <- o
	return nil
}

// commitLoop is the single writer: it commits every operation queued while
// the previous commit was running in one transaction (group commit).
func (d *Disk) commitLoop() {
	defer close(d.stopped)
	var last int           // appends in the previous commit
	var took time.Duration // how long the previous commit took
	for o := range d.ops {
		batch, appends := d.gather(o, last, took)
		start := time.Now()
		err, appendErr := d.commit(batch)
		last, took = appends, time.Since(start)
		for _, o := range batch {
			if err == nil && o.kind == opAppend {
				o.done <- appendErr
				continue
			}
			o.done <- err
		}
	}
}

// gather takes first and what else is queued into one batch, and counts
// its appends. When the previous commit carried more appends (their callers
// were released together and are likely on their way back), it waits for
// up to as many, at most a quarter of that commit's duration: one fsync
// then covers them all, instead of a small commit now and a large one
// after. A lone caller (last 1) never waits, nor do deletions and
// quarantines (one reader).
func (d *Disk) gather(first *op, last int, took time.Duration) (batch []*op, appends int) {
	var n int64
	var linger <-chan time.Time
	for o, ok := first, true; ok; {
		batch = append(batch, o)
		n += o.size
		if o.kind == opAppend {
			appends++
		}
		if len(batch) >= maxCommitOps || n >= maxCommitBytes {
			break
		}
		select {
		case o, ok = <-d.ops:
			continue
		default:
		}
		if appends >= last {
			break
		}
		if linger == nil {
			t := time.NewTimer(took / 4)
			defer t.Stop()
			linger = t.C
		}
		select {
		case o, ok = <-d.ops:
		case <-linger:
			ok = false
		}
	}
	return batch, appends
}

// commit runs batch in one transaction. appendErr, when err is nil, fails the
// batch's appends only: the spool was gone before or right after the
// commit, so they must not be acknowledged (the deletions stand).
func (d *Disk) commit(batch []*op) (err, appendErr error) {
	// The file is checked after the fsync (appends written meanwhile are
	// taken out again, so that the open file holds exactly what was
	// acknowledged); before, only the flag of the checks after earlier
	// commits and by Check is read (appends are then not written at all):
	// one stat(2) per commit.
	goneBefore := d.Err()
	evicted := d.dd.takeEvicted()
	var hinted, appended []uint64
	arena := d.arena[:0]
	defer func() {
		if cap(arena) <= maxArena {
			d.arena = arena[:0]
		}
	}()
	err = d.db.Update(func(tx *bolt.Tx) error {
		events, dedupe := tx.Bucket(bucketEvents), tx.Bucket(bucketDedupe)
		for _, k := range evicted {
			arena = k.appendStorageKey(arena)
			if err := dedupe.Delete(arena[len(arena)-16:]); err != nil {
				return err
			}
		}
		at := d.now().UnixNano()
		for _, o := range batch {
			switch o.kind {
			case opAppend:
				if goneBefore != nil {
					continue
				}
				seq, err := events.NextSequence()
				if err != nil {
					return err
				}
				n := len(arena)
				arena = binary.BigEndian.AppendUint64(arena, seq)
				arena = appendValue(arena, o.entry.Received, o.entry.Body)
				if err := events.Put(arena[n:n+keySize], arena[n+keySize:]); err != nil {
					return err
				}
				appended = append(appended, seq)
				if o.dedupe {
					o.at = at
					arena = seenKey{h: o.hash, at: at}.appendStorageKey(arena)
					if err := dedupe.Put(arena[len(arena)-16:], nil); err != nil {
						return err
					}
				}
				// Set before the commit makes the record visible to Read.
				if o.entry.Hint != nil && d.addHint(seq, o.entry.Hint, o.size) {
					hinted = append(hinted, seq)
				}
			case opDelete:
				for _, seq := range o.seqs {
					arena = binary.BigEndian.AppendUint64(arena, seq)
					if err := events.Delete(arena[len(arena)-keySize:]); err != nil {
						return err
					}
				}
			case opQuarantine:
				for _, seq := range o.seqs {
					if err := quarantine(tx, seq, o.reason); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		for _, seq := range hinted {
			d.takeHint(seq)
		}
		d.log.Error("spool: commit failed", "operations", len(batch), "error", err)
		d.writeErr.Store(&err)
		return err, nil
	}
	d.writeErr.Store(nil)
	if d.afterCommit != nil {
		d.afterCommit()
	}
	// Durable only if the file is still the spool: checked after the fsync,
	// before anything is acknowledged.
	if appendErr = d.checkFile(); appendErr != nil {
		for _, seq := range hinted {
			d.takeHint(seq)
		}
		if len(appended) > 0 {
			if err := d.db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketEvents)
				for _, seq := range appended {
					if err := b.Delete(seqKey(seq)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				d.log.Error("spool: taking unacknowledged events out of the orphaned file failed", "events", len(appended), "error", err)
			}
		}
	}
	return nil, appendErr
}

// quarantine moves the record seq from the events bucket to quarantine.
func quarantine(tx *bolt.Tx, seq uint64, reason string) error {
	return quarantineKey(tx, seqKey(seq), reason)
}

func quarantineKey(tx *bolt.Tx, k []byte, reason string) error {
	events := tx.Bucket(bucketEvents)
	v := events.Get(k)
	if v == nil {
		return nil
	}
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	q := make([]byte, 0, 2+len(reason)+len(v))
	q = binary.BigEndian.AppendUint16(q, uint16(len(reason)))
	q = append(q, reason...)
	q = append(q, v...)
	if err := tx.Bucket(bucketQuarantine).Put(k, q); err != nil {
		return err
	}
	return events.Delete(k)
}

type hint struct {
	v    any
	size int64
}

func (d *Disk) addHint(seq uint64, v any, size int64) bool {
	d.hintsMu.Lock()
	defer d.hintsMu.Unlock()
	if len(d.hints) >= d.maxHints || d.hintBytes+size > d.maxHintB {
		return false
	}
	d.hints[seq] = hint{v, size}
	d.hintBytes += size
	return true
}

func (d *Disk) takeHint(seq uint64) any {
	d.hintsMu.Lock()
	defer d.hintsMu.Unlock()
	h, ok := d.hints[seq]
	if !ok {
		return nil
	}
	delete(d.hints, seq)
	d.hintBytes -= h.size
	return h.v
}

// Read implements Queue.
func (d *Disk) Read(after uint64, max int, maxBytes int64) ([]Record, error) {
	var out []Record
	var n int64
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && len(out) < max; k, v = c.Next() {
			size := int64(len(k) + len(v))
			if len(out) > 0 && n+size > maxBytes {
				break
			}
			n += size
			r := Record{Size: size}
			if len(k) == keySize {
				r.Seq = binary.BigEndian.Uint64(k)
			} else {
				r.Err = fmt.Errorf("spool: bad key length %d", len(k))
				out = append(out, r)
				continue
			}
			r.Hint = d.takeHint(r.Seq)
			var body []byte
			r.Received, body, r.Err = decodeValue(v, r.Hint == nil)
			if r.Hint == nil && r.Err == nil {
				r.Body = append([]byte(nil), body...)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Body returns the stored body of the record seq (verified against its
// checksum), for a reader that was handed the decoded event instead (Hint)
// and needs the body after all, e.g. to set the event aside.
func (d *Disk) Body(seq uint64) ([]byte, error) {
	var body []byte
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEvents).Get(seqKey(seq))
		if v == nil {
			return fmt.Errorf("spool: record %d not found", seq)
		}
		_, b, err := decodeValue(v, true)
		body = append([]byte(nil), b...)
		return err
	})
	return body, err
}

// Delete implements Queue.
func (d *Disk) Delete(recs []Record) error {
	return d.remove(opDelete, recs, "")
}

// Quarantine implements Queue: the record moves to a quarantine bucket of
// the database, with the reason, for inspection.
func (d *Disk) Quarantine(rec Record, reason string) error {
	return d.remove(opQuarantine, []Record{rec}, reason)
}

func (d *Disk) remove(kind opKind, recs []Record, reason string) error {
	if len(recs) == 0 {
		return nil
	}
	o := &op{kind: kind, reason: reason, done: make(chan error, 1)}
	var size int64
	for _, r := range recs {
		o.seqs = append(o.seqs, r.Seq)
		size += r.Size
	}
	if err := d.submit(o); err != nil {
		return err
	}
	if err := <-o.done; err != nil {
		return err
	}
	d.bytes.Add(-size)
	d.events.Add(-int64(len(recs)))
	return nil
}

// Notify implements Queue.
func (d *Disk) Notify() <-chan struct{} { return d.ch }

// Stats implements Queue.
func (d *Disk) Stats() Stats {
	s := Stats{Events: d.events.Load(), Bytes: d.bytes.Load(), MaxBytes: d.maxBytes}
	_ = d.db.View(func(tx *bolt.Tx) error {
		if _, v := tx.Bucket(bucketEvents).Cursor().First(); v != nil {
			s.Oldest, _, _ = decodeValue(v, false)
		}
		return nil
	})
	return s
}

// Close implements Queue: it waits for the commits in progress and closes
// the database. What it holds stays for the next Open.
func (d *Disk) Close() error {
	d.closeMu.Lock()
	if d.closed {
		d.closeMu.Unlock()
		return nil
	}
	d.closed = true
	close(d.ops)
	d.closeMu.Unlock()
	<-d.stopped
	return d.db.Close()
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, keySize), seq)
}

// appendValue appends the record value of body to dst.
func appendValue(dst []byte, received time.Time, body []byte) []byte {
	dst = append(dst, valueVersion)
	dst = binary.BigEndian.AppendUint64(dst, uint64(received.UnixNano()))
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(body, crcTable))
	return append(dst, body...)
}

// decodeValue returns a record value's arrival time and body (aliasing v);
// with verify, it checks the body's checksum.
func decodeValue(v []byte, verify bool) (time.Time, []byte, error) {
	if len(v) < valueHeader || v[0] != valueVersion {
		return time.Time{}, nil, fmt.Errorf("spool: record of %d bytes has no valid header", len(v))
	}
	received := time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9])))
	body := v[valueHeader:]
	if verify && crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(v[9:13]) {
		return received, nil, errors.New("spool: record checksum mismatch")
	}
	return received, body, nil
}
