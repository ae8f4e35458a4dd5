package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
	"github.com/assistant-otel/assistant-otel/watsonapi"
)

// cursorMaxAge is how old a saved cursor may be to be used on resume: the
// service invalidates cursors after 5 minutes [listLogs documentation].
const cursorMaxAge = 4*time.Minute + 30*time.Second

// Lister lists pages of logs (a *watsonapi.Client).
type Lister interface {
	ListLogs(ctx context.Context, q watsonapi.Query) (watsonapi.Page, error)
}

// Deps are what a run needs besides its Config.
type Deps struct {
	// Sink takes the events (required unless DryRun).
	Sink Sink
	// Deduper skips events already exported, e.g. the service's dedupe
	// store. nil: a FileDeduper on Config.DedupeFile if set, else a
	// MemoryDeduper.
	Deduper Deduper
	// Progress receives the progress display (nil: os.Stderr).
	Progress io.Writer
	// Logger receives notices (nil: slog.Default()). Credentials are never
	// logged.
	Logger *slog.Logger
	// Lister replaces the API client built from Config (for tests).
	Lister Lister
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// withDefaults fills what the caller left nil: slog.Default, time.Now and
// standard error for progress.
func (d Deps) withDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Progress == nil {
		d.Progress = os.Stderr
	}
	return d
}

// Stats counts what one run did.
type Stats struct {
	Pages    int   // pages fetched (backfill) or files read (replay)
	Fetched  int64 // logs listed or entries read
	Consumed int64 // handed to the Sink; in a dry run, that would have been
	Skipped  int64 // already exported (Deduper), not consumed again
	Invalid  int64 // could not be decoded, reported and skipped
	Total    int64 // pagination.matched, -1 when unknown
	Resumed  bool  // continued from a checkpoint
}

func (s Stats) String() string {
	return fmt.Sprintf("%d fetched, %d consumed, %d already exported, %d invalid", s.Fetched, s.Consumed, s.Skipped, s.Invalid)
}

// NewClient builds the logs API client of cfg.
func NewClient(cfg Config, onRetry func(int, time.Duration, error)) (*watsonapi.Client, error) {
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	var tokens watsonapi.TokenSource
	if cfg.APIKey != "" {
		iam, err := watsonapi.NewIAM(string(cfg.APIKey), cfg.IAMURL,
			watsonapi.WithIAMHTTPClient(&http.Client{Timeout: min(timeout, time.Minute)}))
		if err != nil {
			return nil, err
		}
		tokens = iam
	} else {
		tokens = watsonapi.StaticToken(cfg.BearerToken)
	}
	maxRetries := cfg.MaxRetries
	if maxRetries == 0 {
		maxRetries = -1 // watsonapi: 0 means the default
	}
	return watsonapi.New(watsonapi.Config{
		ServiceURL:  cfg.ServiceURL,
		AssistantID: cfg.PathID(),
		Version:     cfg.Version,
		Tokens:      tokens,
		HTTPClient:  &http.Client{Timeout: timeout},
		MaxRetries:  maxRetries,
		UserAgent:   "assistant-otel-backfill",
		OnRetry:     onRetry,
	})
}

// Run imports the logs cfg selects: it lists them page by page (oldest
// first), hands every log not yet exported to deps.Sink as the
// message_logged event the webhook would have delivered, and checkpoints
// after each page. Interrupted (ctx cancelled), it checkpoints what was
// consumed and returns ctx's error; run it again with the same checkpoint to
// continue.
func Run(ctx context.Context, cfg Config, deps Deps) (_ Stats, err error) {
	st := Stats{Total: -1}
	lister := deps.Lister
	if lister == nil && (deps.Sink != nil || cfg.DryRun) { // else startImport refuses the run
		logger := deps.withDefaults().Logger
		c, err := NewClient(cfg, func(attempt int, wait time.Duration, err error) {
			logger.Warn("backfill: retrying a page", "attempt", attempt, "wait", wait.String(), "error", err)
		})
		if err != nil {
			return st, fmt.Errorf("backfill: %w", err)
		}
		lister = c
	}
	im, err := startImport("backfill", cfg.DryRun, cfg.DedupeFile, cfg.Progress, deps, &st)
	if err != nil {
		return st, err
	}
	defer im.finish(&err)
	j := &job{
		importer: im, cfg: cfg, lister: lister,
		base: cfg.BaseFilter(), seen: map[string]struct{}{}, boundary: map[string]struct{}{}, page: map[string]struct{}{},
	}
	j.progress.Detail = func() string { return im.detail(j.cp.Consumed, j.cp.Skipped) }
	err = j.run(ctx)
	j.progress.Finish()
	return st, err
}

// dryRun wraps a Deduper for a dry run: it is consulted but never written;
// marks go to memory so that each id is still counted once.
func dryRun(d Deduper) Deduper { return &dryDeduper{base: d, mem: NewMemoryDeduper()} }

type dryDeduper struct {
	base Deduper
	mem  *MemoryDeduper
}

func (d *dryDeduper) Seen(k string) bool { return d.mem.Seen(k) || d.base.Seen(k) }
func (d *dryDeduper) Mark(k string)      { d.mem.Mark(k) }

type job struct {
	*importer
	cfg    Config
	lister Lister

	base string     // the run's filter
	cp   Checkpoint // the state, saved as the checkpoint
	// seen: ids from the checkpoint; boundary: ids handled at cp's last
	// request_timestamp; page: ids handled on the current page.
	seen, boundary, page map[string]struct{}
	lastTS               time.Time
	pagesDone            int // pages fully consumed in this run
}

func (j *job) run(ctx context.Context) error {
	q := watsonapi.Query{Filter: j.base, Sort: watsonapi.SortAscending, PageLimit: j.cfg.PageLimit}
	cursorAt := time.Time{}
	j.cp = Checkpoint{ServiceURL: j.cfg.ServiceURL, PathID: j.cfg.PathID(), Identity: j.cfg.Identity(), Filter: j.base, Total: -1}
	if j.cfg.Checkpoint != "" {
		prev, err := LoadCheckpoint(j.cfg.Checkpoint)
		if err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		if prev != nil {
			same := prev.Identity == j.cp.Identity
			if prev.Identity == "" {
				same = prev.Filter == j.cp.Filter
			}
			if prev.ServiceURL != j.cp.ServiceURL || prev.PathID != j.cp.PathID || !same {
				return fmt.Errorf("backfill: checkpoint %s belongs to another backfill (path id %q, filter %q); use another --checkpoint file or delete it",
					j.cfg.Checkpoint, prev.PathID, prev.Filter)
			}
			identity, base := j.cp.Identity, j.cp.Filter
			j.cp = *prev
			j.cp.Identity, j.cp.Filter = identity, base
			j.cp.Done = false
			j.st.Resumed = true
			for _, id := range prev.SeenIDs {
				j.seen[id] = struct{}{}
				j.boundary[id] = struct{}{} // until a newer log is handled
			}
			j.lastTS = watson.ParseTime(prev.LastRequestTimestamp)
			switch {
			case prev.Cursor != "" && !prev.Done && j.now().Sub(prev.CursorSavedAt) < cursorMaxAge:
				q.Cursor, cursorAt = prev.Cursor, prev.CursorSavedAt
				j.logger.Info("backfill: resuming from the checkpoint's cursor", "checkpoint", j.cfg.Checkpoint, "consumed_before", prev.Consumed)
			case !j.lastTS.IsZero():
				q.Filter = j.restartFilter()
				j.logger.Info("backfill: resuming from the last request_timestamp (cursors expire after 5 minutes)",
					"checkpoint", j.cfg.Checkpoint, "from", prev.LastRequestTimestamp, "consumed_before", prev.Consumed, "completed_before", prev.Done)
			default:
				j.logger.Info("backfill: the checkpoint has no position yet; starting over", "checkpoint", j.cfg.Checkpoint)
			}
			if q.Cursor != "" {
				j.progress.SetTotal(prev.Total)
			}
		}
	}
	j.progress.Resume(j.cp.Fetched)
	j.logger.Info("backfill: listing logs", "path_id", j.cfg.PathID(), "filter", q.Filter, "dry_run", j.cfg.DryRun)

	cursorRetry := true // one restart per page when the service refuses a cursor
	firstOfQuery := q.Cursor == ""
	fetchedBeforeQuery := j.cp.Fetched
	for {
		page, err := j.lister.ListLogs(ctx, q)
		if err != nil {
			var ae *watsonapi.APIError
			if q.Cursor != "" && cursorRetry && errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 &&
				ae.StatusCode != http.StatusUnauthorized && ae.StatusCode != http.StatusForbidden && ae.StatusCode != http.StatusTooManyRequests {
				j.logger.Warn("backfill: the service refused the cursor (cursors expire after 5 minutes); restarting from the last request_timestamp", "error", err)
				cursorRetry = false
				q.Cursor, q.Filter = "", j.restartFilter()
				firstOfQuery, fetchedBeforeQuery = true, j.cp.Fetched
				continue
			}
			return j.stop(q.Cursor, cursorAt, fmt.Errorf("backfill: %w", err))
		}
		received := j.now()
		cursorRetry = true
		j.st.Pages++
		if firstOfQuery && page.Matched >= 0 {
			j.cp.Total = fetchedBeforeQuery + page.Matched
			j.st.Total = page.Matched
			j.progress.SetTotal(j.cp.Total)
		}
		firstOfQuery = false
		for _, raw := range page.Logs {
			if err := ctx.Err(); err != nil {
				return j.stop(q.Cursor, cursorAt, err)
			}
			if err := j.handle(ctx, raw); err != nil {
				return j.stop(q.Cursor, cursorAt, err)
			}
			j.progress.Add(1)
		}
		clear(j.page)
		if page.NextCursor == "" {
			j.cp.Done = true
			if err := j.save("", time.Time{}, false); err != nil {
				return err
			}
			j.logger.Info("backfill: done", "stats", j.st.String())
			return nil
		}
		j.pagesDone++
		q.Cursor, cursorAt = page.NextCursor, received
		if err := j.save(q.Cursor, cursorAt, false); err != nil {
			return err
		}
	}
}

// handle consumes one log unless it was exported already.
func (j *job) handle(ctx context.Context, raw []byte) error {
	j.st.Fetched++
	j.cp.Fetched++
	ev, err := DecodeLog(raw)
	if err != nil {
		j.st.Invalid++
		j.cp.Invalid++
		j.logger.Warn("backfill: skipping a log that cannot be decoded", "error", err)
		return nil
	}
	id, t := ev.DedupeKey(), watson.ParseTime(ev.Log.RequestTimestamp)
	skipped, err := j.offer(ctx, ev, id, j.isSeen)
	if err != nil {
		return fmt.Errorf("backfill: consuming log %s: %w", ev.Log.LogID, err)
	}
	j.track(id, t)
	if skipped {
		j.cp.Skipped++
	} else {
		j.cp.Consumed++
	}
	return nil
}

func (j *job) isSeen(id string) bool {
	if _, ok := j.seen[id]; ok {
		return true
	}
	return j.dedupe.Seen(id)
}

// track records that id (requested at t) is handled on this page, and keeps
// the ids at the newest request_timestamp for a restart from it.
func (j *job) track(id string, t time.Time) {
	if id == "" {
		return
	}
	j.page[id] = struct{}{}
	switch {
	case t.IsZero():
	case t.After(j.lastTS):
		j.lastTS = t
		clear(j.boundary)
		j.boundary[id] = struct{}{}
	case t.Equal(j.lastTS):
		j.boundary[id] = struct{}{}
	}
}

// restartFilter lists from the newest request_timestamp handled (inclusive;
// the ids handled at it are in boundary/seen), within the run's window.
func (j *job) restartFilter() string {
	from := j.cfg.From
	if j.lastTS.After(from) {
		from = j.lastTS
	}
	return watsonapi.BuildFilter(from, j.cfg.To, j.cfg.Filter)
}

// stop saves the position of a run that ends early: the cursor of the page
// being consumed and the ids already handled on it.
func (j *job) stop(cursor string, cursorAt time.Time, cause error) error {
	if err := j.save(cursor, cursorAt, true); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// save writes the checkpoint (not in dry runs). partial means the page that
// cursor designates was partly consumed: its handled ids are kept.
func (j *job) save(cursor string, cursorAt time.Time, partial bool) error {
	j.cp.Cursor, j.cp.CursorSavedAt = cursor, cursorAt
	if !j.lastTS.IsZero() {
		j.cp.LastRequestTimestamp = j.lastTS.UTC().Format(time.RFC3339Nano)
	}
	ids := maps.Clone(j.boundary)
	if partial {
		maps.Copy(ids, j.page)
		if j.pagesDone == 0 {
			// The checkpoint's ids may still be on the page to fetch.
			maps.Copy(ids, j.seen)
		}
	}
	j.cp.SeenIDs = slices.Sorted(maps.Keys(ids))
	j.cp.UpdatedAt = j.now().UTC()
	if j.cfg.DryRun || j.cfg.Checkpoint == "" {
		return nil
	}
	if s, ok := j.dedupe.(Syncer); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
	}
	if err := j.cp.Save(j.cfg.Checkpoint); err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	return nil
}

// openDeduper returns the Deduper of a run: the given one, else a
// FileDeduper on file if set, else a MemoryDeduper; wrapped so that a dry
// run marks nothing. close releases what it opened.
func openDeduper(given Deduper, file string, dry bool) (d Deduper, close func() error, err error) {
	d, close = given, func() error { return nil }
	switch {
	case d != nil:
	case file != "":
		fd, err := OpenFileDeduper(file)
		if err != nil {
			return nil, nil, err
		}
		d, close = fd, fd.Close
	default:
		d = NewMemoryDeduper()
	}
	if dry {
		d = dryRun(d)
	}
	return d, close, nil
}
