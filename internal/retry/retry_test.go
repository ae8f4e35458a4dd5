package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

// noSleep records the waits instead of waiting.
func noSleep(waits *[]time.Duration) func(context.Context, time.Duration) bool {
	return func(ctx context.Context, d time.Duration) bool {
		*waits = append(*waits, d)
		return ctx.Err() == nil
	}
}

func TestDo(t *testing.T) {
	boom := errors.New("boom")
	t.Run("until success, backoff growing within bounds", func(t *testing.T) {
		var waits []time.Duration
		n := 0
		err := Do(t.Context(), Policy{Min: 100 * time.Millisecond, Max: time.Second, Sleep: noSleep(&waits)}, func(context.Context) error {
			if n++; n < 8 {
				return boom
			}
			return nil
		})
		if err != nil || n != 8 || len(waits) != 7 {
			t.Fatalf("Do = %v after %d calls, %d waits", err, n, len(waits))
		}
		if waits[0] < 80*time.Millisecond || waits[0] > 120*time.Millisecond || waits[6] > 1200*time.Millisecond || waits[6] < 800*time.Millisecond {
			t.Errorf("waits %v", waits)
		}
	})
	t.Run("server delay replaces the backoff, capped", func(t *testing.T) {
		var waits []time.Duration
		n := 0
		_ = Do(t.Context(), Policy{MaxAfter: 10 * time.Second, Sleep: noSleep(&waits)}, func(context.Context) error {
			n++
			switch n {
			case 1:
				return After(boom, 3*time.Second)
			case 2:
				return After(boom, time.Hour)
			}
			return nil
		})
		if len(waits) != 2 || waits[0] != 3*time.Second || waits[1] != 10*time.Second {
			t.Errorf("waits %v", waits)
		}
	})
	t.Run("permanent", func(t *testing.T) {
		n := 0
		err := Do(t.Context(), Policy{}, func(context.Context) error { n++; return Permanent(boom) })
		if err != boom || n != 1 {
			t.Errorf("Do = %v after %d calls", err, n)
		}
	})
	t.Run("attempts", func(t *testing.T) {
		var waits []time.Duration
		var told []int
		n := 0
		err := Do(t.Context(), Policy{MaxAttempts: 3, Sleep: noSleep(&waits), OnRetry: func(a int, _ time.Duration, _ error) { told = append(told, a) }},
			func(context.Context) error { n++; return boom })
		if !errors.Is(err, ErrAttempts) || !errors.Is(err, boom) || n != 3 || len(told) != 2 {
			t.Errorf("Do = %v after %d calls, told %v", err, n, told)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		err := Do(ctx, Policy{}, func(context.Context) error {
			if n++; n == 2 {
				cancel()
			}
			return boom
		})
		if !errors.Is(err, context.Canceled) || n != 2 {
			t.Errorf("Do = %v after %d calls", err, n)
		}
	})
	t.Run("attempt timeout", func(t *testing.T) {
		err := Do(t.Context(), Policy{Timeout: time.Millisecond, MaxAttempts: 1}, func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Do = %v", err)
		}
	})
}
