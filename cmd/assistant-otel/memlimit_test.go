package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

// TestApplyMemoryLimit: the limit and GC percent are set unless 0 or the
// standard variables took them.
func TestApplyMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	logger := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		name      string
		limit     int64
		env       map[string]string
		wantLimit int64
		wantGC    int
	}{
		{"default", 64 << 20, nil, 64 << 20, limitedGCPercent},
		{"GOGC set", 64 << 20, map[string]string{"GOGC": "100"}, 64 << 20, 100},
		{"GOMEMLIMIT set", 64 << 20, map[string]string{"GOMEMLIMIT": "1GiB"}, math.MaxInt64, 100},
		{"off", 0, nil, math.MaxInt64, 100},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		debug.SetGCPercent(100)
		applyMemoryLimit(c.limit, func(k string) string { return c.env[k] }, logger)
		if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
			t.Errorf("%s: memory limit %d, want %d", c.name, got, c.wantLimit)
		}
		if got := debug.SetGCPercent(100); got != c.wantGC {
			t.Errorf("%s: GC percent %d, want %d", c.name, got, c.wantGC)
		}
	}
}
