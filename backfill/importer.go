package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// importer is what backfill and replay share: the sink, the Deduper, the
// progress display and the counts of one run.
type importer struct {
	name     string // "backfill" or "replay": prefixes errors and the progress
	dryRun   bool
	sink     Sink
	dedupe   Deduper
	logger   *slog.Logger
	now      func() time.Time
	progress *Progress
	st       *Stats
	// closeDedupe releases what opening the Deduper opened.
	closeDedupe func() error
}

// startImport prepares a run named name: deps with their defaults, the
// Deduper (dedupeFile unless deps has one; finish releases it) and the
// progress display in progressMode.
func startImport(name string, dryRun bool, dedupeFile, progressMode string, deps Deps, st *Stats) (*importer, error) {
	if deps.Sink == nil && !dryRun {
		return nil, fmt.Errorf("%s: no sink", name)
	}
	deps = deps.withDefaults()
	dedupe, closeDedupe, err := openDeduper(deps.Deduper, dedupeFile, dryRun)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	im := &importer{name: name, dryRun: dryRun, sink: deps.Sink, dedupe: dedupe, logger: deps.Logger, now: deps.Now, st: st, closeDedupe: closeDedupe}
	im.progress = NewProgress(deps.Progress, progressMode, name)
	return im, nil
}

// finish releases the Deduper; its error becomes *err unless there is one.
func (im *importer) finish(err *error) {
	if cerr := im.closeDedupe(); cerr != nil && *err == nil {
		*err = fmt.Errorf("%s: %w", im.name, cerr)
	}
}

// detail is the progress detail of consumed and skipped events.
func (im *importer) detail(consumed, skipped int64) string {
	verb := "consumed"
	if im.dryRun {
		verb = "to consume"
	}
	return fmt.Sprintf("%d %s, %d already exported", consumed, verb, skipped)
}

// offer hands ev, whose dedupe key is key, to the sink unless seen reports
// it exported already, and marks it exported. It counts the event in the
// run's Stats as consumed or skipped (a sink may answer
// ErrAlreadyExported); skipped reports which. In a dry run nothing is
// consumed, and marks stay in memory.
func (im *importer) offer(ctx context.Context, ev watson.Event, key string, seen func(string) bool) (skipped bool, err error) {
	if key != "" && seen(key) {
		im.st.Skipped++
		return true, nil
	}
	if !im.dryRun {
		err := im.sink.Consume(ctx, ev, Received(ev, im.now()))
		if errors.Is(err, ErrAlreadyExported) {
			im.dedupe.Mark(key)
			im.st.Skipped++
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	if key != "" {
		im.dedupe.Mark(key)
	}
	im.st.Consumed++
	return false, nil
}
