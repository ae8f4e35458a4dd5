package service

import (
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/assistant-otel/assistant-otel/config"
)

// limitedGCPercent is the GC percent used under --memory-limit: with the
// heap capped by the limit, the collector can run half as often below it
// (measured: less CPU per event than GOGC 100 under the same limit, and a
// peak RSS under 100 MiB at peak rate; docs/performance.md).
const limitedGCPercent = 200

// ApplyMemoryLimit sets the Go runtime's soft memory limit to limit bytes
// and the GC percent to limitedGCPercent, unless limit is 0 or the standard
// GOMEMLIMIT / GOGC variables set them already (the runtime has read those).
func ApplyMemoryLimit(limit int64, getenv func(string) string, logger *slog.Logger) {
	switch {
	case getenv("GOMEMLIMIT") != "":
		if limit > 0 {
			logger.Info("GOMEMLIMIT is set: --memory-limit is ignored", "GOMEMLIMIT", getenv("GOMEMLIMIT"))
		}
		return
	case limit <= 0:
		return
	}
	debug.SetMemoryLimit(limit)
	if getenv("GOGC") == "" {
		debug.SetGCPercent(limitedGCPercent)
	}
}

// baselineHeap is roughly the heap the service needs besides its queue: the
// decoders, the deduplication set at its cap, request buffers.
const baselineHeap = 24 << 20

// queueHeap estimates the heap of a full queue: the in-memory queue keeps
// its first quarter decoded (about 4× the body) and the rest as bodies; the
// disk spool keeps at most 4 MiB of bodies decoded.
func queueHeap(c config.Spool) int64 {
	if c.Dir != "" {
		return 4 * (4 << 20)
	}
	return c.MemoryMaxBytes/4*4 + c.MemoryMaxBytes*3/4
}

// WarnIfQueueExceedsLimit warns when a full queue would not fit under the
// memory limit: the garbage collector would then run hard (up to half the
// CPU) exactly when the export falls behind.
func WarnIfQueueExceedsLimit(c config.Serve, getenv func(string) string, logger *slog.Logger) {
	if c.MemoryLimit <= 0 || getenv("GOMEMLIMIT") != "" {
		return
	}
	if need := baselineHeap + queueHeap(c.Spool); need > c.MemoryLimit {
		logger.Warn("a full queue would not fit under --memory-limit: raise it or lower --memory-queue-bytes",
			"memory_limit_bytes", c.MemoryLimit, "estimated_bytes", need)
	}
}

// inflightCost is the peak heap a webhook request takes per byte of its
// body, measured for maximum-size bodies: the body, the decoder's copies of
// it, then the spool's record value and bbolt's page for it. Measured with
// goccy/go-json (four copies); watson's own decoder makes one, so the bound
// is now generous.
const inflightCost = 4

// effectiveMemoryLimit is the Go runtime's memory limit in force
// (--memory-limit or GOMEMLIMIT), 0 when there is none.
func effectiveMemoryLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return l
	}
	return 0
}

// inflightBudget is --max-inflight-bytes, or, when 0, what is left of the
// memory limit after the baseline heap and a full queue, divided by the
// peak cost of a body byte, but at least one maximum-size body (else such a
// body could never be accepted). Without a memory limit there is no budget
// unless one is set.
func inflightBudget(c config.Serve, memLimit int64) int64 {
	if n := c.Security.HTTP.MaxInflightBytes; n > 0 {
		return n
	}
	if memLimit <= 0 {
		return 0
	}
	return max(c.MaxBodyBytes, (memLimit-baselineHeap-queueHeap(c.Spool))/inflightCost)
}
