package watson_test

import (
	"testing"

	"github.com/assistant-otel/assistant-otel/watson"
)

// TestDedupeKey: the keys stored state relies on (the spool's dedupe window,
// backfill's exported-keys files) keep their exact form.
func TestDedupeKey(t *testing.T) {
	for _, c := range []struct {
		ev   watson.Event
		want string
	}{
		{watson.Event{Log: &watson.Log{LogID: "l1"}}, "log:l1"},
		{watson.Event{CDR: &watson.CDR{GlobalSessionID: "g"}}, "cdr:g"},
		{watson.Event{Log: &watson.Log{}, CDR: &watson.CDR{GlobalSessionID: "g"}}, "cdr:g"},
		{watson.Event{Log: &watson.Log{}}, ""},
		{watson.Event{}, ""},
	} {
		if got := c.ev.DedupeKey(); got != c.want {
			t.Errorf("DedupeKey(%+v) = %q, want %q", c.ev, got, c.want)
		}
	}
}
