package mapping_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/watson"
)

// fuzzMargin is how far beyond MaxTextLength a string may go: fixed
// prefixes such as a span name's operation.
const fuzzMargin = 64

// metricLabelCap is the length mapping cuts metric attribute values to.
const metricLabelCap = 256

// FuzzDecodeAndMap decodes any body and maps it: never a panic; every
// exported string valid UTF-8 and within MaxTextLength (plus a small margin;
// a gen_ai.*.messages value is JSON whose every part is within it); and with
// CaptureContent off, the user's input text appears nowhere.
func FuzzDecodeAndMap(f *testing.F) {
	var files []string
	for _, p := range []string{"../testdata/corpus/*.json", "../testdata/corpus/other-events/*.json", "testdata/edge/*.json"} {
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
	f.Add([]byte(`{"event":{"name":"message_logged"},"payload":{"request":{"input":{"text":"\xff\xfe invalid utf8 input text"}}}}`))
	f.Add([]byte(`{"event":{"name":"message_logged"},"payload":{"request":{"input":{"text":"` + strings.Repeat("長い", 100) + `"}}}}`))

	def := mapping.DefaultOptions()
	short := mapping.DefaultOptions()
	short.MaxTextLength = 32
	noContent := mapping.DefaultOptions()
	noContent.CaptureContent = false
	noContent.PseudonymKey = []byte("fuzz-key")
	var mappers []*mapping.Mapper
	var limits []int
	for _, o := range []mapping.Options{def, short, noContent} {
		m, err := mapping.New(o)
		if err != nil {
			f.Fatal(err)
		}
		mappers = append(mappers, m)
		limits = append(limits, o.MaxTextLength)
	}
	received := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := watson.Decode(body)
		if err != nil {
			return
		}
		for i, m := range mappers {
			tel := m.Map(ev, received)
			limit := limits[i]
			forEachString(tel, func(where, s string) {
				if !utf8.ValidString(s) {
					t.Fatalf("options %d: %s is not valid UTF-8: %q", i, where, s)
				}
				if strings.HasSuffix(where, ".messages") {
					checkMessages(t, where, s, limit)
					return
				}
				bound := limit
				if strings.HasPrefix(where, "metric ") {
					// Metric labels have their own fixed cap, whatever
					// MaxTextLength says (found by this fuzzer; see
					// testdata/fuzz/FuzzDecodeAndMap).
					bound = max(limit, metricLabelCap)
				}
				if n := utf8.RuneCountInString(s); n > bound+fuzzMargin {
					t.Fatalf("options %d: %s has %d characters, limit %d", i, where, n, bound)
				}
			})
			if i == 2 && ev.Log != nil {
				text := ev.Log.Request.Input.Text
				// Only a text that appears once in the body can only have
				// come from the input (not from an id or intent equal to it).
				if len(text) >= 8 && strings.Count(string(body), text) == 1 {
					forEachString(tel, func(where, s string) {
						if strings.Contains(s, text) {
							t.Fatalf("capture off: %s contains the input text %q", where, text)
						}
					})
				}
			}
		}
	})
}

func checkMessages(t *testing.T, where, s string, limit int) {
	t.Helper()
	var msgs []struct {
		Parts []struct {
			Content string `json:"content"`
		} `json:"parts"`
	}
	if err := json.Unmarshal([]byte(s), &msgs); err != nil {
		t.Fatalf("%s is not JSON: %v", where, err)
	}
	for _, m := range msgs {
		for _, p := range m.Parts {
			if n := utf8.RuneCountInString(p.Content); n > limit+fuzzMargin {
				t.Fatalf("%s: a part has %d characters, limit %d", where, n, limit)
			}
		}
	}
}

// forEachString calls f for every string the telemetry exports.
func forEachString(tel mapping.Telemetry, f func(where, s string)) {
	attrs := func(prefix string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			where := prefix + " " + string(kv.Key)
			switch kv.Value.Type() {
			case attribute.STRING:
				f(where, kv.Value.AsString())
			case attribute.STRINGSLICE:
				for _, s := range kv.Value.AsStringSlice() {
					f(where, s)
				}
			}
		}
	}
	for _, sp := range tel.Spans {
		f("span name", sp.Name)
		f("span status", sp.StatusDescription)
		attrs("span "+sp.Name, sp.Attributes)
		for _, e := range sp.Events {
			f("event name", e.Name)
			attrs("event "+e.Name, e.Attributes)
		}
		for _, l := range sp.Links {
			attrs("link", l.Attributes)
		}
	}
	for _, l := range tel.Logs {
		f("log event name", l.EventName)
		f("log severity", l.SeverityText)
		f("log body", l.Body)
		attrs("log", l.Attributes)
	}
	for _, m := range tel.Metrics {
		attrs("metric", m.Attributes)
	}
}
