package watson_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/assistant-otel/assistant-otel/watson"
)

// FuzzDecode: any body decodes or fails with ErrShape / ErrUnknownEvent,
// never panics, yields exactly one of Log and CDR on success, and its error
// stays short.
func FuzzDecode(f *testing.F) {
	var files []string
	for _, p := range []string{"../testdata/corpus/*.json", "../testdata/corpus/other-events/*.json", "../mapping/testdata/edge/*.json"} {
		m, _ := filepath.Glob(p)
		files = append(files, m...)
	}
	if len(files) < 10 {
		f.Fatalf("only %d seed files", len(files))
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "null", "[]", `{"event":null}`, `{"event":{"name":""},"payload":{}}`,
		`{"event":{"name":"message_logged"},"payload":[]}`, `{"event":{"name":"cdr_logged"},"payload":{"call":7}}`,
		`{"event":{"name":"message_logged"},"payload":{"response":{"output":{"intents":[{"confidence":"0.5"}]}}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := watson.Decode(body)
		if err != nil {
			if !errors.Is(err, watson.ErrShape) && !errors.Is(err, watson.ErrUnknownEvent) {
				t.Fatalf("error %v wraps neither ErrShape nor ErrUnknownEvent", err)
			}
			if msg := err.Error(); utf8.RuneCountInString(msg) > 200 {
				t.Fatalf("error of %d characters: %.80q…", len(msg), msg)
			}
			return
		}
		if (ev.Log == nil) == (ev.CDR == nil) {
			t.Fatalf("event %q: want exactly one of Log and CDR", ev.Name)
		}
		if ev.Name != watson.EventMessageLogged && ev.Name != watson.EventCDRLogged {
			t.Fatalf("accepted event name %q", ev.Name)
		}
	})
}
