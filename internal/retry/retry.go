// Package retry calls an operation again, with exponential backoff and
// jitter, until it succeeds, fails for good, runs out of attempts or its
// context ends. It is the one retry loop of the service: the export pump,
// the logs API client and backfill's --via posts use it.
//
// The operation says what a failure means by wrapping its error: After
// (the server asked for a delay: it replaces the backoff, capped) or
// Permanent (no retry). Any other error is retried after the backoff.
//
// Imports: it imports no package of this module: the pump, watsonapi and the
// backfill's --via sink use it.
package retry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy is how Do retries. The zero value retries until the context ends,
// waiting 200ms doubling up to 5s between attempts.
type Policy struct {
	// Min and Max bound the backoff (defaults 200ms and 5s; each wait is
	// within ±20% of the exponential value).
	Min, Max time.Duration
	// MaxAttempts bounds the attempts (0: no bound).
	MaxAttempts int
	// MaxAfter caps a delay asked for by the server (default 5 min).
	MaxAfter time.Duration
	// Timeout bounds each attempt (0: none).
	Timeout time.Duration
	// OnRetry, when set, is told about each failed attempt that will be
	// retried: the attempt number (1 for the first), the wait before the
	// next one and the error.
	OnRetry func(attempt int, wait time.Duration, err error)
	// Sleep waits d or until ctx ends (false); nil: a timer. Tests inject
	// a clock here.
	Sleep func(ctx context.Context, d time.Duration) bool
}

// afterError asks for a delay before the next attempt.
type afterError struct {
	err   error
	after time.Duration
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// After wraps err with the delay the server asked for before the next
// attempt (d <= 0: none, the backoff applies). A nil err stays nil.
func After(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &afterError{err: err, after: d}
}

// permanentError is not retried.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that Do returns it at once. A nil err stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// ErrAttempts is wrapped by Do's error when MaxAttempts ran out.
var ErrAttempts = errors.New("gave up")

// Do calls op until it returns nil (Do returns nil), a Permanent error
// (returned unwrapped), MaxAttempts ran out (an error wrapping ErrAttempts
// and the last error) or ctx ends (ctx's error).
func Do(ctx context.Context, p Policy, op func(ctx context.Context) error) error {
	bo := p.backoff()
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	for attempt := 1; ; attempt++ {
		err := p.call(ctx, op)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var pe *permanentError
		if errors.As(err, &pe) {
			return pe.err
		}
		wait := bo.NextBackOff()
		var ae *afterError
		if errors.As(err, &ae) {
			err = ae.err
			if ae.after > 0 {
				wait = min(ae.after, p.maxAfter())
			}
		}
		if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrAttempts, attempt, err)
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, wait, err)
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

func (p Policy) call(ctx context.Context, op func(ctx context.Context) error) error {
	if p.Timeout <= 0 {
		return op(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	return op(actx)
}

func (p Policy) maxAfter() time.Duration {
	if p.MaxAfter <= 0 {
		return 5 * time.Minute
	}
	return p.MaxAfter
}

func (p Policy) backoff() *backoff.ExponentialBackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = p.Min
	if bo.InitialInterval <= 0 {
		bo.InitialInterval = 200 * time.Millisecond
	}
	bo.MaxInterval = max(p.Max, bo.InitialInterval)
	if p.Max <= 0 {
		bo.MaxInterval = max(5*time.Second, bo.InitialInterval)
	}
	bo.Multiplier = 2
	bo.RandomizationFactor = 0.2
	bo.Reset()
	return bo
}

// Sleep waits d or until ctx ends (false).
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
