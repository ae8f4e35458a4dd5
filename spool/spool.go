// Package spool holds accepted webhook events until they have been exported:
// the queue between the receiver, which must answer quickly, and the pump,
// which maps and exports and may have to wait for the OTLP endpoint.
//
// Two implementations share the Queue interface:
//
//   - Disk (Open) keeps events durably in a bbolt database in a directory.
//     Append returns only after the event is fsync'd, and concurrent Appends
//     are group-committed: one writer goroutine commits everything that queued
//     up while the previous transaction was syncing, in one transaction with
//     one fsync. After a commit of several appends, whose callers come back
//     together, it waits for up to as many, at most a quarter of that
//     commit's duration; a lone request pays one fsync and no wait.
//     Whatever is left at exit is there at the next start.
//   - Memory (NewMemory) keeps events in memory, bounded, for running without
//     a spool directory: nothing survives the process.
//
// Both are bounded in bytes (ErrFull when an Append would exceed the limit)
// and both drop redelivered events: an Entry whose Key was appended within
// the dedupe window is reported as a duplicate and not stored again. Disk
// keeps the window in the same transaction as the events, so it survives a
// restart.
//
// A Disk checks, after every commit's fsync and before acknowledging it,
// that the file at its path is still the one it has open (one stat(2),
// about 7 µs on the development VM, per group commit). When the file or
// its directory was removed, renamed or replaced, the spool is gone: the
// batch's appends are refused (and taken out of the orphaned file), every
// later Append fails with an error wrapping ErrUnavailable, Err reports it,
// and one error is logged. It does not recover: a restart opens a new
// spool. What was acknowledged before stays readable in the open file and
// can still be exported while the process runs.
//
// Records are numbered by arrival (Seq, increasing) and read back oldest
// first. The pump deletes them once every signal built from them was
// acknowledged.
//
// Imports: it imports no package of this module: it stores bodies and opaque
// hints, and knows nothing of Watson or OpenTelemetry.
package spool

import (
	"context"
	"errors"
	"time"
)

// Errors of Append.
var (
	// ErrFull means the queue is at its size limit; retry later.
	ErrFull = errors.New("spool: full")
	// ErrClosed means the queue has been closed (the service is stopping).
	ErrClosed = errors.New("spool: closed")
)

// Entry is an event to append.
type Entry struct {
	// Key identifies the event for deduplication (e.g. its log_id); empty
	// means never a duplicate.
	Key string
	// Body is the raw webhook body. Disk stores it; it must stay unchanged
	// until Append returns and is not kept after.
	Body []byte
	// Received is when the event arrived.
	Received time.Time
	// Hint is a decoded form of Body, handed back by Read while the record
	// is still in memory, so that the reader need not decode Body again.
	Hint any
}

// Record is an appended event read back.
type Record struct {
	Seq      uint64
	Received time.Time
	// Body is the raw body; nil when Hint is set and the body was not needed.
	Body []byte
	// Hint is the Entry's Hint while it is in memory (nil after a restart).
	Hint any
	// Size is the number of bytes the record counts against the limit.
	Size int64
	// Err is set when the stored record is damaged (e.g. a checksum
	// mismatch): pass it to Quarantine.
	Err error
}

// Stats describe what a queue holds.
type Stats struct {
	Events   int64
	Bytes    int64
	MaxBytes int64
	// Oldest is the arrival time of the oldest event; zero when empty.
	Oldest time.Time
}

// Queue is what the receiver appends to and the pump reads from. Its
// methods are safe for concurrent use.
type Queue interface {
	// Append stores e, or reports that its Key was seen within the dedupe
	// window (dup true, nothing stored). Disk returns after the event is
	// durable. Errors: ErrFull, ErrClosed, or a storage failure.
	Append(ctx context.Context, e Entry) (dup bool, err error)
	// Read returns up to max records with Seq > after, oldest first, and
	// at most maxBytes of them (but at least one).
	Read(after uint64, max int, maxBytes int64) ([]Record, error)
	// Delete removes records, e.g. once exported.
	Delete(recs []Record) error
	// Quarantine removes a record that cannot be exported (damaged, or not
	// decodable), keeping it aside where the implementation can.
	Quarantine(rec Record, reason string) error
	// Notify is signalled (without blocking) after each successful Append.
	Notify() <-chan struct{}
	// Stats returns the current depth.
	Stats() Stats
	// Close releases the queue; later Appends fail with ErrClosed.
	Close() error
}

// DedupeOptions bound the window of keys remembered to recognise
// redelivered events. A zero Window or Max turns deduplication off.
type DedupeOptions struct {
	// Window is how long a key is remembered.
	Window time.Duration
	// Max is how many keys are remembered at most (the oldest go first).
	Max int
}

// notify signals ch without blocking.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
