package main

import (
	"log/slog"
	"runtime/debug"
)

// limitedGCPercent is the GC percent used under --memory-limit: with the
// heap capped by the limit, the collector can run half as often below it
// (with the limit, peak RSS stays under 100 MiB at peak rate at no CPU
// cost; docs/performance.md).
const limitedGCPercent = 200

// applyMemoryLimit sets the Go runtime's soft memory limit to limit bytes
// and the GC percent to limitedGCPercent, unless limit is 0 or the standard
// GOMEMLIMIT / GOGC variables set them already (the runtime has read those).
func applyMemoryLimit(limit int64, getenv func(string) string, logger *slog.Logger) {
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
