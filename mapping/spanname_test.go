package mapping

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTurnSpanName: the convention's name by default; the descriptive option
// tells the three turns of the corpus conversation apart, bounded in length.
func TestTurnSpanName(t *testing.T) {
	files := []string{"14a-multiturn-welcome", "14b-multiturn-ask-order", "14c-multiturn-answer-with-callout"}
	names := func(mode string) []string {
		opts := DefaultOptions()
		opts.TurnSpanName = mode
		m, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range files {
			out = append(out, m.Map(decodeFile(t, "../testdata/corpus/"+f+".json"), goldenReceived).Spans[0].Name)
		}
		return out
	}
	for _, mode := range []string{"", TurnSpanNameConvention} {
		for i, n := range names(mode) {
			if !strings.HasPrefix(n, OperationInvokeAgent+" ") {
				t.Errorf("mode %q, %s: span name %q, want %q + agent", mode, files[i], n, OperationInvokeAgent)
			}
		}
	}
	got := names(TurnSpanNameDescriptive)
	want := []string{"turn 1: Greet customer", "turn 2: Check order status", "turn 3: Check order status"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("descriptive, %s: span name %q, want %q", files[i], got[i], want[i])
		}
	}

	long := DefaultOptions()
	long.TurnSpanName = TurnSpanNameDescriptive
	m, err := New(long)
	if err != nil {
		t.Fatal(err)
	}
	f := turnFacts{turnCount: 12, actionTitle: strings.Repeat("Ask about the order status ", 10)}
	if n := m.turnSpanName(&f, 4096); utf8.RuneCountInString(n) > MaxDescriptiveSpanName || !strings.HasSuffix(n, "…") {
		t.Errorf("long action title: span name %q (%d characters), want at most %d ending in …", n, utf8.RuneCountInString(n), MaxDescriptiveSpanName)
	}

	bad := DefaultOptions()
	bad.TurnSpanName = "fancy"
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepted TurnSpanName \"fancy\"")
	}
}
