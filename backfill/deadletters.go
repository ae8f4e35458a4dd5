package backfill

import (
	"context"
	"errors"
	"fmt"

	"github.com/assistant-otel/assistant-otel/deadletter"
	"github.com/assistant-otel/assistant-otel/watson"
)

// RetryDeadLetters exports the dead letters of store again, oldest first,
// through deps.Sink (as replay does its entries) and removes each once the
// sink accepted it. A letter refused again (ErrRefused) stays, is counted
// Invalid and reported; the others go on. Any other sink error stops the
// run (the endpoint is still down): what was exported is removed already.
// It works while serve runs: serve only adds files.
func RetryDeadLetters(ctx context.Context, store *deadletter.Store, progressMode string, deps Deps) (Stats, error) {
	st := Stats{Total: -1}
	if deps.Sink == nil {
		return st, errors.New("dead letters: no sink")
	}
	deps = deps.withDefaults()
	list, err := store.List()
	if err != nil {
		return st, err
	}
	st.Total = int64(len(list))
	progress := NewProgress(deps.Progress, progressMode, "dead letters")
	defer progress.Finish()
	for _, head := range list {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Fetched++
		progress.Add(1)
		l, err := store.Read(head.Name)
		if err != nil {
			st.Invalid++
			deps.Logger.Warn("dead letters: cannot read a dead letter; it stays", "file", head.Name, "error", err)
			continue
		}
		ev, err := watson.Decode(l.Body)
		if err != nil {
			st.Invalid++
			deps.Logger.Warn("dead letters: the body does not decode; it stays", "file", l.Name, "log_id", l.LogID, "error", err)
			continue
		}
		err = deps.Sink.Consume(ctx, ev, l.Received)
		switch {
		case errors.Is(err, ErrRefused):
			st.Invalid++
			deps.Logger.Error("dead letters: refused again; it stays", "file", l.Name, "log_id", l.LogID, "error", err)
			continue
		case errors.Is(err, ErrAlreadyExported):
			st.Skipped++
		case err != nil:
			return st, fmt.Errorf("dead letters: exporting %s (log_id %s): %w", l.Name, l.LogID, err)
		default:
			st.Consumed++
		}
		if err := store.Remove(l.Name); err != nil {
			return st, err
		}
		deps.Logger.Info("dead letters: exported and removed", "file", l.Name, "log_id", l.LogID)
	}
	if st.Invalid > 0 {
		return st, fmt.Errorf("dead letters: %d could not be exported and stay (see above)", st.Invalid)
	}
	return st, nil
}
