package intake_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/redact"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// TestIntakeKeepsContextNotBody: the queued event carries no copy of the
// body, yet the mapping finds the allowed context variables in it (kept
// from the one decode).
func TestIntakeKeepsContextNotBody(t *testing.T) {
	body, err := os.ReadFile("../testdata/corpus/14c-multiturn-answer-with-callout.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := watson.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 20})
	in, err := intake.New(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Consume(context.Background(), ev, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := range body { // the request's buffer is reused after Consume
		body[i] = ' '
	}
	recs, _ := q.Read(0, 1, 1<<20)
	hint, ok := recs[0].Hint.(watson.Event)
	if !ok || hint.Raw != nil {
		t.Fatalf("queued event %T, raw body %d bytes: want the decoded event without the body", recs[0].Hint, len(hint.Raw))
	}
	allow, err := redact.NewContextAllowList("skills.actions skill.skill_variables.last_order_id")
	if err != nil {
		t.Fatal(err)
	}
	opts := mapping.DefaultOptions()
	opts.ContextAllow = allow
	m, err := mapping.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tel := m.Map(hint, time.Now())
	found := false
	for _, s := range tel.Spans {
		for _, a := range s.Attributes {
			if strings.HasPrefix(string(a.Key), mapping.AttrContextPrefix) && a.Value.AsString() == "A-1042" {
				found = true
			}
		}
	}
	if !found {
		t.Error("the allowed context variable is missing from the spans")
	}
}

// TestIntake: a redelivery (same key) is acknowledged without storing it
// again, the stored event is keyed by its DedupeKey, and a full or closed
// queue is ErrOverloaded.
func TestIntake(t *testing.T) {
	q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 300, MaxHintBytes: 300, Dedupe: spool.DedupeOptions{Window: time.Hour, Max: 10}})
	in, err := intake.New(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := watson.Decode([]byte(`{"event":{"name":"message_logged"},"payload":{"log_id":"a"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := in.Consume(t.Context(), ev, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if q.Stats().Events != 1 {
		t.Errorf("a redelivered event was stored: %d events", q.Stats().Events)
	}
	recs, _ := q.Read(0, 1, 1<<20)
	if h, ok := recs[0].Hint.(watson.Event); !ok || h.Raw != nil || h.Log.LogID != "a" {
		t.Errorf("hint %+v: want the decoded event without the request's body", recs[0].Hint)
	}
	ev2, err := watson.Decode([]byte(`{"event":{"name":"message_logged"},"payload":{"log_id":"b","x":"` + strings.Repeat("x", 300) + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Consume(t.Context(), ev2, time.Now()); !errors.Is(err, intake.ErrOverloaded) || !errors.Is(err, spool.ErrFull) {
		t.Errorf("a full queue: %v, want ErrOverloaded wrapping spool.ErrFull", err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Consume(t.Context(), ev2, time.Now()); !errors.Is(err, intake.ErrOverloaded) {
		t.Errorf("a closed queue: %v, want ErrOverloaded", err)
	}
}
