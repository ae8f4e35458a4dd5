package pump

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

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
	in, err := NewIntake(q, nil)
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
