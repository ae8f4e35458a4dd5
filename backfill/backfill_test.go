package backfill_test

// The backfill runs against watsonapitest, a local HTTP server implementing
// the logs API and IAM contracts (documented in that package): a stand-in for
// IBM Cloud, which these machines cannot reach.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/backfill"
	"github.com/assistant-otel/assistant-otel/watson"
	"github.com/assistant-otel/assistant-otel/watsonapi"
	"github.com/assistant-otel/assistant-otel/watsonapi/watsonapitest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func payloads(t *testing.T) []json.RawMessage {
	t.Helper()
	p, err := watsonapitest.CorpusPayloads("../testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// logsAt makes n logs, log i requested at at(i).
func logsAt(t *testing.T, n int, at func(int) time.Time) []watsonapitest.Log {
	t.Helper()
	logs, err := watsonapitest.SynthesizeAt(payloads(t), n, at)
	if err != nil {
		t.Fatal(err)
	}
	return logs
}

func minutes(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }

func server(t *testing.T, logs []watsonapitest.Log) *watsonapitest.Server {
	t.Helper()
	s := watsonapitest.New(logs)
	t.Cleanup(s.Close)
	return s
}

func config(t *testing.T, s *watsonapitest.Server) backfill.Config {
	return backfill.Config{
		ServiceURL:     s.URL,
		AssistantID:    s.AssistantID,
		APIKey:         backfill.Secret(s.APIKey),
		IAMURL:         s.IAMURL,
		Version:        watsonapi.DefaultVersion,
		PageLimit:      10,
		Progress:       backfill.ProgressNone,
		MaxRetries:     3,
		RequestTimeout: 10 * time.Second,
		Checkpoint:     filepath.Join(t.TempDir(), "checkpoint.json"),
	}
}

// sink records what it consumes; hook runs after each consumed event.
type sink struct {
	mu     sync.Mutex
	counts map[string]int
	order  []string
	events []watson.Event
	recv   []time.Time
	hook   func(n int) error
}

func newSink() *sink { return &sink{counts: map[string]int{}} }

func (s *sink) Consume(_ context.Context, ev watson.Event, received time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ev.DedupeKey()
	if s.hook != nil {
		if err := s.hook(len(s.order) + 1); err != nil {
			return err
		}
	}
	s.counts[id]++
	s.order = append(s.order, id)
	s.events = append(s.events, ev)
	s.recv = append(s.recv, received)
	return nil
}

func deps(sk backfill.Sink) backfill.Deps {
	return backfill.Deps{Sink: sk, Progress: io.Discard, Logger: slog.New(slog.DiscardHandler)}
}

// exactlyOnce checks that the sinks together consumed ids 0..n-1 (except
// skip) once each.
func exactlyOnce(t *testing.T, n int, skip map[string]bool, sinks ...*sink) {
	t.Helper()
	total := map[string]int{}
	for _, s := range sinks {
		for id, c := range s.counts {
			total[id] += c
		}
	}
	for i := range n {
		id := key(i)
		want := 1
		if skip[id] {
			want = 0
		}
		if total[id] != want {
			t.Errorf("log %s consumed %d times, want %d", id, total[id], want)
		}
		delete(total, id)
	}
	for id, c := range total {
		t.Errorf("unexpected id %q consumed %d times", id, c)
	}
}

func TestBackfillConsumesEveryPageOnce(t *testing.T) {
	logs := logsAt(t, 95, minutes)
	s := server(t, logs)
	sk := newSink()
	cfg := config(t, s)
	st, err := backfill.Run(t.Context(), cfg, deps(sk))
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, 95, nil, sk)
	if st.Pages != 10 || st.Fetched != 95 || st.Consumed != 95 || st.Skipped != 0 || st.Total != 95 {
		t.Errorf("stats %+v, want 10 pages, 95 fetched and consumed, total 95", st)
	}
	for i, id := range sk.order {
		if id != key(i) {
			t.Fatalf("consumed %s at %d: want oldest first", id, i)
		}
	}
	// Each event is what the webhook would have delivered for that log,
	// received at its response_timestamp.
	for i, ev := range sk.events {
		want, err := watson.Decode(envelope(logs[i].Raw))
		if err != nil {
			t.Fatal(err)
		}
		if !sameEvent(t, ev, want) {
			t.Fatalf("event %d differs from the webhook decoding of the same log", i)
		}
		if wantT := minutes(i).Add(800 * time.Millisecond); !sk.recv[i].Equal(wantT) {
			t.Errorf("event %d received %v, want its response_timestamp %v", i, sk.recv[i], wantT)
		}
	}
	cp, err := backfill.LoadCheckpoint(cfg.Checkpoint)
	if err != nil || cp == nil || !cp.Done || cp.Consumed != 95 || cp.LastRequestTimestamp != "2026-03-01T10:34:00Z" {
		t.Errorf("checkpoint %+v, %v: want done after 95 with the last request_timestamp", cp, err)
	}
	for _, r := range s.Requests() {
		if r.Sort != "request_timestamp" || r.PageLimit != 10 || r.Filter != "" {
			t.Errorf("request %+v: want sort request_timestamp, page_limit 10, no filter", r)
		}
	}
}

// key is the dedupe key of synthetic log i.
func key(i int) string { return "log:" + watsonapitest.SyntheticID(i) }

func envelope(payload []byte) []byte {
	return []byte(`{"event":{"name":"message_logged"},"payload":` + string(payload) + `}`)
}

func TestBackfillHonoursTheWindowAndRawFilter(t *testing.T) {
	s := server(t, logsAt(t, 60, minutes))
	sk := newSink()
	cfg := config(t, s)
	cfg.From, cfg.To = minutes(10), minutes(35)
	st, err := backfill.Run(t.Context(), cfg, deps(sk))
	if err != nil {
		t.Fatal(err)
	}
	if st.Consumed != 25 || sk.order[0] != key(10) || sk.order[24] != key(34) {
		t.Errorf("consumed %d (%v..%v), want logs 10..34", st.Consumed, sk.order[0], sk.order[len(sk.order)-1])
	}
	want := "request_timestamp>=2026-03-01T09:10:00.000Z,request_timestamp<2026-03-01T09:35:00.000Z"
	if f := s.Requests()[0].Filter; f != want {
		t.Errorf("filter %q, want %q", f, want)
	}

	// A raw filter is passed through, ANDed with the window.
	sk = newSink()
	cfg = config(t, s)
	cfg.From, cfg.Filter = minutes(50), "log_id::"+watsonapitest.SyntheticID(55)
	if _, err := backfill.Run(t.Context(), cfg, deps(sk)); err != nil {
		t.Fatal(err)
	}
	if len(sk.order) != 1 || sk.order[0] != key(55) {
		t.Errorf("consumed %v, want only log 55", sk.order)
	}
}

func TestInterruptAfterAPageThenResume(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stopAt int // cancel after consuming this many logs
	}{
		{"between pages", 20}, // the end of page 2
		{"mid page", 25},      // half of page 3
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := server(t, logsAt(t, 73, minutes))
			cfg := config(t, s)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			first := newSink()
			first.hook = func(n int) error {
				if n == tc.stopAt {
					cancel()
				}
				return nil
			}
			// No persistent dedupe: the checkpoint alone must make the
			// resume exact.
			st, err := backfill.Run(ctx, cfg, deps(first))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
			}
			if st.Consumed != int64(tc.stopAt) {
				t.Errorf("interrupted run consumed %d, want %d", st.Consumed, tc.stopAt)
			}
			cp, err := backfill.LoadCheckpoint(cfg.Checkpoint)
			if err != nil || cp == nil || cp.Done || cp.Cursor == "" {
				t.Fatalf("checkpoint after the interruption: %+v, %v", cp, err)
			}
			second := newSink()
			st, err = backfill.Run(t.Context(), cfg, deps(second))
			if err != nil {
				t.Fatal(err)
			}
			if !st.Resumed {
				t.Error("second run did not resume")
			}
			exactlyOnce(t, 73, nil, first, second)
		})
	}
}

func TestResumeWhenTheCursorExpired(t *testing.T) {
	// Three logs share each request_timestamp, so a restart from the last
	// timestamp lists logs that were already consumed.
	at := func(i int) time.Time { return minutes(i / 3) }
	for _, tc := range []struct {
		name string
		prep func(s *watsonapitest.Server, d *backfill.Deps)
	}{
		// Our clock says the saved cursor is too old to try.
		{"stale by the clock", func(_ *watsonapitest.Server, d *backfill.Deps) {
			d.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
		}},
		// The service refuses it.
		{"refused by the service", func(s *watsonapitest.Server, _ *backfill.Deps) { s.CursorTTL = time.Nanosecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := server(t, logsAt(t, 64, at))
			cfg := config(t, s)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			first := newSink()
			first.hook = func(n int) error {
				if n == 17 { // mid page 2, mid a group of equal timestamps
					cancel()
				}
				return nil
			}
			if _, err := backfill.Run(ctx, cfg, deps(first)); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			second := newSink()
			d := deps(second)
			tc.prep(s, &d)
			st, err := backfill.Run(t.Context(), cfg, d)
			if err != nil {
				t.Fatal(err)
			}
			exactlyOnce(t, 64, nil, first, second)
			if st.Skipped == 0 {
				t.Error("the restart from the last timestamp listed no consumed log again; the test does not test it")
			}
			var restart string
			for _, r := range s.Requests() {
				if r.Filter != "" {
					restart = r.Filter
					break
				}
			}
			if restart != "request_timestamp>=2026-03-01T09:05:00.000Z" {
				t.Errorf("restart filter %q, want from the last request_timestamp 09:05", restart)
			}
		})
	}
}

func TestSecondRunConsumesNothingNew(t *testing.T) {
	s := server(t, logsAt(t, 42, minutes))

	// With a persistent dedupe file and no checkpoint.
	cfg := config(t, s)
	cfg.Checkpoint = ""
	cfg.DedupeFile = filepath.Join(t.TempDir(), "seen")
	first, second := newSink(), newSink()
	if _, err := backfill.Run(t.Context(), cfg, deps(first)); err != nil {
		t.Fatal(err)
	}
	st, err := backfill.Run(t.Context(), cfg, deps(second))
	if err != nil {
		t.Fatal(err)
	}
	if len(second.order) != 0 || st.Skipped != 42 {
		t.Errorf("second run consumed %d and skipped %d, want 0 and 42", len(second.order), st.Skipped)
	}

	// With only the checkpoint: the second run lists from the last
	// timestamp and finds nothing new; later logs are picked up.
	cfg = config(t, s)
	first, second = newSink(), newSink()
	if _, err := backfill.Run(t.Context(), cfg, deps(first)); err != nil {
		t.Fatal(err)
	}
	if st, err = backfill.Run(t.Context(), cfg, deps(second)); err != nil {
		t.Fatal(err)
	}
	if len(second.order) != 0 || st.Skipped != 1 || st.Fetched != 1 {
		t.Errorf("second run: %+v, consumed %v; want only the last log listed again and skipped", st, second.order)
	}
	s.SetLogs(logsAt(t, 50, minutes)) // 8 newer logs arrive
	third := newSink()
	if _, err := backfill.Run(t.Context(), cfg, deps(third)); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, 50, nil, first, second, third)
}

func TestLogsSeenByTheWebhookAreNotConsumedAgain(t *testing.T) {
	s := server(t, logsAt(t, 30, minutes))
	seen := backfill.NewMemoryDeduper()
	skip := map[string]bool{}
	for _, i := range []int{0, 7, 8, 19, 29} {
		id := key(i)
		seen.Mark(id) // as the webhook path would have
		skip[id] = true
	}
	sk := newSink()
	d := deps(sk)
	d.Deduper = seen
	st, err := backfill.Run(t.Context(), config(t, s), d)
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, 30, skip, sk)
	if st.Skipped != 5 || st.Consumed != 25 || seen.Len() != 30 {
		t.Errorf("stats %+v, dedupe has %d: want 5 skipped, 25 consumed, all 30 marked", st, seen.Len())
	}
}

func TestDryRunOnlyCounts(t *testing.T) {
	s := server(t, logsAt(t, 30, minutes))
	seen := backfill.NewMemoryDeduper()
	seen.Mark(key(3))
	cfg := config(t, s)
	cfg.DryRun = true
	cfg.Progress = backfill.ProgressPlain
	var progress bytes.Buffer
	d := deps(nil)
	d.Deduper, d.Progress = seen, &progress
	st, err := backfill.Run(t.Context(), cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if st.Consumed != 29 || st.Skipped != 1 || st.Fetched != 30 {
		t.Errorf("stats %+v, want 29 to consume, 1 skipped", st)
	}
	if !strings.Contains(progress.String(), "29 to consume, 1 already exported") {
		t.Errorf("progress %q, want the counts of a dry run", progress.String())
	}
	if seen.Len() != 1 {
		t.Errorf("a dry run marked %d ids", seen.Len()-1)
	}
	if _, err := os.Stat(cfg.Checkpoint); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run wrote a checkpoint (%v)", err)
	}
}

func TestNoSinkIsRefused(t *testing.T) {
	s := server(t, logsAt(t, 1, minutes))
	if _, err := backfill.Run(t.Context(), config(t, s), deps(nil)); err == nil || err.Error() != "backfill: no sink" {
		t.Errorf("backfill without a sink: %v", err)
	}
	if _, err := backfill.Replay(t.Context(), backfill.ReplayConfig{Files: []string{"-"}}, deps(nil)); err == nil || err.Error() != "replay: no sink" {
		t.Errorf("replay without a sink: %v", err)
	}
}

func TestSinkErrorStopsAndResumes(t *testing.T) {
	s := server(t, logsAt(t, 33, minutes))
	cfg := config(t, s)
	first := newSink()
	boom := errors.New("exporter queue full")
	first.hook = func(n int) error {
		if n == 15 {
			return boom
		}
		return nil
	}
	if _, err := backfill.Run(t.Context(), cfg, deps(first)); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the sink's error", err)
	}
	second := newSink()
	if _, err := backfill.Run(t.Context(), cfg, deps(second)); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, 33, nil, first, second)
}

func TestCheckpointOfAnotherRunIsRefused(t *testing.T) {
	s := server(t, logsAt(t, 5, minutes))
	cfg := config(t, s)
	if _, err := backfill.Run(t.Context(), cfg, deps(newSink())); err != nil {
		t.Fatal(err)
	}
	cfg.From = minutes(2)
	_, err := backfill.Run(t.Context(), cfg, deps(newSink()))
	if err == nil || !strings.Contains(err.Error(), "belongs to another backfill") {
		t.Errorf("err = %v, want a refused checkpoint", err)
	}
	info, err := os.Stat(cfg.Checkpoint)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint mode %v, %v; want 0600", info.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(cfg.Checkpoint))
	if len(entries) != 1 {
		t.Errorf("the checkpoint directory holds %d files, want 1 (no temporary leftovers)", len(entries))
	}
}

func TestBackfillProgressIsPlainOffATerminal(t *testing.T) {
	s := server(t, logsAt(t, 25, minutes))
	cfg := config(t, s)
	cfg.Progress = backfill.ProgressAuto
	var out bytes.Buffer
	d := deps(newSink())
	d.Progress = &out
	if _, err := backfill.Run(t.Context(), cfg, d); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Contains(got, "\r") || !strings.HasPrefix(got, "backfill: 25/25 (100%)") ||
		!strings.Contains(got, "25 consumed, 0 already exported") {
		t.Errorf("progress output %q, want a final plain line", got)
	}
}

func TestUnauthorizedIsClear(t *testing.T) {
	s := server(t, logsAt(t, 5, minutes))
	cfg := config(t, s)
	cfg.APIKey = "not-the-key-4711"
	_, err := backfill.Run(t.Context(), cfg, deps(newSink()))
	if !errors.Is(err, watsonapi.ErrUnauthorized) || strings.Contains(err.Error(), "not-the-key-4711") {
		t.Errorf("err = %v, want ErrUnauthorized without the key", err)
	}
}

// TestCheckpointWithoutIdentityStillResumes: a checkpoint written before the
// identity field existed is matched on its filter, as before.
func TestCheckpointWithoutIdentityStillResumes(t *testing.T) {
	s := server(t, logsAt(t, 6, minutes))
	cfg := config(t, s)
	cfg.From = t0 // an identity to drop
	cfg.Checkpoint = filepath.Join(t.TempDir(), "cp.json")
	sk := newSink()
	if _, err := backfill.Run(context.Background(), cfg, deps(sk)); err != nil {
		t.Fatal(err)
	}
	cp, err := backfill.LoadCheckpoint(cfg.Checkpoint)
	if err != nil || cp == nil || cp.Identity == "" {
		t.Fatalf("checkpoint %+v, %v: want an identity", cp, err)
	}
	cp.Identity = ""
	if err := cp.Save(cfg.Checkpoint); err != nil {
		t.Fatal(err)
	}
	st, err := backfill.Run(context.Background(), cfg, deps(sk))
	if err != nil || !st.Resumed || st.Consumed != 0 {
		t.Fatalf("rerun on an old checkpoint: %v, %+v (want resumed, nothing consumed)", err, st)
	}
}
