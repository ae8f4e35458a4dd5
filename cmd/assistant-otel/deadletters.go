package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/assistant-otel/assistant-otel/backfill"
	"github.com/assistant-otel/assistant-otel/deadletter"
	"github.com/assistant-otel/assistant-otel/exporter"
)

// deadLettersCmd lists or retries the events the OTLP endpoint refused,
// kept in <spool-dir>/dead-letters. Files, not the spool's database: both
// work while serve runs.
func deadLettersCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := backfill.ParseDeadLetterFlags(args, getenv, stdout)
	if err == nil && cfg.Action == backfill.DeadLettersRetry && cfg.Mapping.Via != "" {
		// serve's dedupe would take the event as a redelivery and drop it.
		err = errors.New("--via is not for dead letters: serve already saw these events; retry exports them directly")
	}
	if err == nil && cfg.Action == backfill.DeadLettersRetry {
		err = exporter.CheckEnv()
	}
	if code, stop := configured(stderr, "dead-letters", err); stop {
		return code
	}
	store, err := deadletter.Open(filepath.Join(cfg.SpoolDir, deadletter.DirName), 0)
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel dead-letters:", err)
		return 1
	}
	if cfg.Action == backfill.DeadLettersList {
		return listDeadLetters(store, stdout, stderr)
	}
	return runImport(ctx, "dead-letters retry", cfg.Mapping, cfg.Metrics, false, backfill.SourceDeadLetters, stdout, stderr,
		func(deps backfill.Deps) (backfill.Stats, error) {
			return backfill.RetryDeadLetters(ctx, store, cfg.Progress, deps)
		},
		"rerun dead-letters retry once the endpoint takes them")
}

func listDeadLetters(store *deadletter.Store, stdout, stderr io.Writer) int {
	list, err := store.List()
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel dead-letters:", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOG_ID\tTIME\tREASON\tSIZE\tFILE")
	var total int64
	for _, l := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", l.LogID, l.Time.UTC().Format(time.RFC3339), l.Reason, l.Size, l.Name)
		total += int64(l.Size)
	}
	_ = tw.Flush()
	fmt.Fprintf(stdout, "%d dead letters, %d bytes of bodies, in %s\n", len(list), total, store.Dir())
	return 0
}
