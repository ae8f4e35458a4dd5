package service

import (
	"log/slog"
	"path/filepath"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/deadletter"
	"github.com/assistant-otel/assistant-otel/pump"
	"github.com/assistant-otel/assistant-otel/spool"
)

// openQueue opens the durable spool, or an in-memory queue without
// --spool-dir, and reports what start-up recovered.
func openQueue(c config.Spool, logger *slog.Logger) (spool.Queue, error) {
	dedupe := spool.DedupeOptions{Window: c.DedupeWindow, Max: c.DedupeMax}
	if c.Dir == "" {
		logger.Warn("no --spool-dir: accepted events are queued in memory only and LOST if the process dies or cannot export them before the drain timeout")
		return spool.NewMemory(spool.MemoryOptions{MaxBytes: c.MemoryMaxBytes, Dedupe: dedupe}), nil
	}
	d, rec, err := spool.Open(c.Dir, spool.Options{MaxBytes: c.MaxBytes, Dedupe: dedupe, Logger: logger})
	if err != nil {
		return nil, err
	}
	attrs := []any{"path", d.Path(), "events_to_replay", rec.Events, "bytes", rec.Bytes,
		"dedupe_ids", d.DedupeKeys(), "max_bytes", c.MaxBytes}
	if rec.Corrupt > 0 || rec.MovedAside != "" {
		attrs = append(attrs, "corrupt_records_quarantined", rec.Corrupt, "damaged_file_moved_to", rec.MovedAside,
			"records_salvaged", rec.Salvaged, "problem", rec.Problem)
		logger.Error("spool opened after recovering from damage", attrs...)
	} else {
		logger.Info("spool opened", attrs...)
	}
	return d, nil
}

// openDeadLetters opens the dead-letter store in the spool directory.
// Without a spool there is none: refused events are counted and logged,
// not kept (the in-memory queue does not keep anything across a restart
// either).
func openDeadLetters(c config.Spool, logger *slog.Logger) (pump.DeadLetters, error) {
	if c.Dir == "" {
		return nil, nil
	}
	s, err := deadletter.Open(filepath.Join(c.Dir, deadletter.DirName), c.DeadLetterMaxBytes)
	if err != nil {
		return nil, err
	}
	if list, err := s.List(); err == nil && len(list) > 0 {
		logger.Warn("dead letters are waiting: events the OTLP endpoint refused; see assistant-otel dead-letters list",
			"count", len(list), "dir", s.Dir())
	}
	return s, nil
}

func describeSpool(c config.Spool) string {
	if c.Dir == "" {
		return "memory (not durable)"
	}
	return c.Dir
}
