package service

import (
	"bytes"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/assistant-otel/assistant-otel/config"
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
		ApplyMemoryLimit(c.limit, func(k string) string { return c.env[k] }, logger)
		if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
			t.Errorf("%s: memory limit %d, want %d", c.name, got, c.wantLimit)
		}
		if got := debug.SetGCPercent(100); got != c.wantGC {
			t.Errorf("%s: GC percent %d, want %d", c.name, got, c.wantGC)
		}
	}
}

// TestQueueFitsTheDefaultLimit: with the defaults a full queue fits under
// the memory limit, and a larger queue is warned about.
func TestQueueFitsTheDefaultLimit(t *testing.T) {
	c, err := config.ParseServe(nil, func(k string) string {
		return map[string]string{config.EnvSecret: "s"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		queue   int64
		dir     string
		warning bool
	}{{c.Spool.MemoryMaxBytes, "", false}, {c.Spool.MemoryMaxBytes, "/spool", false}, {64 << 20, "", true}} {
		var out bytes.Buffer
		c.Spool.MemoryMaxBytes, c.Spool.Dir = tc.queue, tc.dir
		WarnIfQueueExceedsLimit(c, func(string) string { return "" }, slog.New(slog.NewTextHandler(&out, nil)))
		if got := strings.Contains(out.String(), "would not fit"); got != tc.warning {
			t.Errorf("queue %d dir %q: warning %v, want %v (%s)", tc.queue, tc.dir, got, tc.warning, out.String())
		}
	}
}
