package backfill_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/assistant-otel/assistant-otel/backfill"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/watson"
	"go.opentelemetry.io/otel/attribute"
)

// corpusBodies returns the webhook bodies of the corpus (message_logged)
// and their payloads.
func corpusBodies(t *testing.T) (bodies, logs []json.RawMessage) {
	t.Helper()
	files, _ := filepath.Glob("../testdata/corpus/*.json")
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, compact(t, b))
	}
	for _, p := range payloads(t) {
		logs = append(logs, compact(t, p))
	}
	return bodies, logs
}

// sameEvent compares decoded events; Raw (the body decoded) is compared by
// what it decodes to, since a bare log's body is a synthesized envelope.
func sameEvent(t *testing.T, a, b watson.Event) bool {
	t.Helper()
	ra, rb := a.Raw, b.Raw
	a.Raw, b.Raw = nil, nil
	// The response context's JSON is kept as sent: the same context,
	// indented or not.
	a, b = compactContext(t, a), compactContext(t, b)
	if !reflect.DeepEqual(a, b) {
		return false
	}
	for _, raw := range [][]byte{ra, rb} {
		if raw == nil {
			continue
		}
		again, err := watson.Decode(raw)
		if err != nil {
			t.Errorf("Raw does not decode: %v", err)
			return false
		}
		again.Raw = nil
		if !reflect.DeepEqual(compactContext(t, again), a) {
			return false
		}
	}
	return true
}

// compactContext returns ev with its response context's JSON compacted (in
// a copy of the log).
func compactContext(t *testing.T, ev watson.Event) watson.Event {
	t.Helper()
	if ev.Log != nil && ev.Log.Response.Context.Raw != nil {
		l := *ev.Log
		l.Response.Context.Raw = compact(t, l.Response.Context.Raw)
		ev.Log = &l
	}
	return ev
}

func compact(t *testing.T, b []byte) json.RawMessage {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func joinLines(vs []json.RawMessage) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		b.Write(v)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func replay(t *testing.T, files ...string) (*sink, backfill.Stats, string, error) {
	t.Helper()
	sk := newSink()
	var logs bytes.Buffer
	d := deps(sk)
	d.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	st, err := backfill.Replay(t.Context(), backfill.ReplayConfig{Files: files, Progress: backfill.ProgressNone}, d)
	return sk, st, logs.String(), err
}

// wantCorpus checks that sk consumed exactly the corpus turns, decoded like
// the webhook decodes them.
func wantCorpus(t *testing.T, sk *sink, bodies []json.RawMessage) {
	t.Helper()
	var want []watson.Event
	for _, b := range bodies {
		ev, err := watson.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ev)
	}
	if len(sk.events) != len(want) {
		t.Fatalf("consumed %d events, want %d", len(sk.events), len(want))
	}
	for i := range want {
		if !sameEvent(t, sk.events[i], want[i]) {
			t.Errorf("event %d (%s) differs from the webhook decoding", i, want[i].DedupeKey())
		}
	}
}

func TestReplayFormats(t *testing.T) {
	bodies, logs := corpusBodies(t)
	array := func(vs []json.RawMessage) []byte { b, _ := json.MarshalIndent(vs, "", "  "); return b }
	page, _ := json.Marshal(map[string]any{"logs": logs, "pagination": map[string]any{}})
	for name, data := range map[string][]byte{
		"array of webhook bodies":    array(bodies),
		"array of bare logs":         array(logs),
		"JSON lines of bodies":       joinLines(bodies),
		"JSON lines of bare logs":    joinLines(logs),
		"mixed JSON lines with CRLF": bytes.ReplaceAll(joinLines(append(slices.Clone(bodies[:3]), logs[3:]...)), []byte("\n"), []byte("\r\n")),
		"gzip JSON lines":            gz(t, joinLines(bodies)),
		"gzip array":                 gz(t, array(logs)),
		"saved logs API page":        page,
		"concatenated pretty":        bytes.Join([][]byte{array(bodies[:4]), array(logs[4:])}, []byte("\n")),
	} {
		t.Run(name, func(t *testing.T) {
			sk, st, out, err := replay(t, write(t, "in", data))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			wantCorpus(t, sk, bodies)
			if st.Consumed != int64(len(bodies)) || st.Invalid != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestReplaySingleObjectAndCDR(t *testing.T) {
	bodies, logs := corpusBodies(t)
	pretty, _ := json.MarshalIndent(json.RawMessage(bodies[0]), "", "  ")
	cdr, err := os.ReadFile("../testdata/corpus/other-events/cdr_logged-phone-call-transfer.json")
	if err != nil {
		t.Fatal(err)
	}
	sk, st, out, err := replay(t, write(t, "one.json", pretty), write(t, "log.json", logs[1]), write(t, "cdr.json", cdr))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st.Consumed != 3 || sk.events[2].CDR == nil || !strings.HasPrefix(sk.events[2].DedupeKey(), "cdr:") {
		t.Errorf("stats %+v, events %v", st, sk.order)
	}
	wantCorpus(t, &sink{events: sk.events[:2]}, bodies[:2])
}

func TestReplayMalformedLineIsReportedAndSkipped(t *testing.T) {
	bodies, _ := corpusBodies(t)
	in := joinLines([]json.RawMessage{
		bodies[0],
		json.RawMessage(`{"event":{"name":"message_logged"},"payload":{"log_id":"private text`), // line 2: broken
		bodies[1],
		json.RawMessage(``),
		json.RawMessage(`{"hello":"world"}`), // line 5: not an entry
		json.RawMessage(`{"event":{"name":"message_received"},"payload":{}}`), // line 6: not a log webhook event
		json.RawMessage(`42`), // line 7
		bodies[2],
	})
	sk, st, out, err := replay(t, write(t, "in.jsonl", in))
	if !errors.Is(err, backfill.ErrInvalidEntries) {
		t.Fatalf("err = %v, want ErrInvalidEntries", err)
	}
	wantCorpus(t, sk, bodies[:3])
	if st.Invalid != 4 || st.Consumed != 3 {
		t.Errorf("stats %+v, want 4 invalid and 3 consumed", st)
	}
	for _, line := range []string{"line=2", "line=5", "line=6", "line=7"} {
		if !strings.Contains(out, line) {
			t.Errorf("the warnings do not name %s:\n%s", line, out)
		}
	}
	if strings.Contains(out, "private text") {
		t.Errorf("a warning quotes the input:\n%s", out)
	}
}

func TestReplayBrokenDocumentSkipsTheRestOfThatFile(t *testing.T) {
	bodies, _ := corpusBodies(t)
	doc := "[\n" + string(bodies[0]) + ",\n" + string(bodies[1]) + ",\n{\"event\": oops}\n,\n" + string(bodies[2]) + "\n]\n"
	sk, st, out, err := replay(t, write(t, "broken.json", []byte(doc)), write(t, "good.jsonl", joinLines(bodies[3:5])))
	if !errors.Is(err, backfill.ErrInvalidEntries) {
		t.Fatalf("err = %v", err)
	}
	if st.Consumed != 4 || st.Invalid != 1 || st.Pages != 2 {
		t.Errorf("stats %+v, want the 2 entries before the error and the 2 of the next file", st)
	}
	if !strings.Contains(out, "line=4") || !strings.Contains(out, "rest of the file is skipped") {
		t.Errorf("warning does not name line 4:\n%s", out)
	}
	wantCorpus(t, sk, append(slices.Clone(bodies[:2]), bodies[3:5]...))
}

func TestReplayDetectionEdgeCases(t *testing.T) {
	bodies, _ := corpusBodies(t)
	pretty, _ := json.MarshalIndent(json.RawMessage(bodies[0]), "", "  ")
	for _, tc := range []struct {
		name     string
		data     string
		consumed int
		badLines []string
	}{
		{"JSON lines with a broken first line", `{"event":` + "\n" + string(bodies[0]) + "\n" + string(bodies[1]) + "\n", 2, []string{"line=1"}},
		{"byte order mark and blank lines", "\xef\xbb\xbf\n\n" + string(bodies[0]) + "\n\n" + string(bodies[1]), 2, nil},
		{"blank lines before a pretty object", "\n\n" + string(pretty) + "\n", 1, nil},
		{"truncated pretty object", "\n\n" + string(pretty[:len(pretty)/2]), 0, []string{"line=3"}},
		{"array on one line", "[" + string(bodies[0]) + "," + string(bodies[1]) + "]", 2, nil},
		{"not JSON at all", "hello\nworld\n", 0, []string{"line=1"}},
		{"empty", "\n \n", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sk, st, out, err := replay(t, write(t, "in", []byte(tc.data)))
			if (len(tc.badLines) > 0) != errors.Is(err, backfill.ErrInvalidEntries) || (err != nil && !errors.Is(err, backfill.ErrInvalidEntries)) {
				t.Fatalf("err = %v\n%s", err, out)
			}
			if len(sk.order) != tc.consumed || st.Invalid != int64(len(tc.badLines)) {
				t.Errorf("consumed %d, %d invalid; want %d and %d\n%s", len(sk.order), st.Invalid, tc.consumed, len(tc.badLines), out)
			}
			for _, l := range tc.badLines {
				if !strings.Contains(out, l) {
					t.Errorf("warnings do not name %s:\n%s", l, out)
				}
			}
		})
	}
}

func TestSinkReportsAlreadyExported(t *testing.T) {
	bodies, _ := corpusBodies(t)
	sk := newSink()
	calls := 0
	sk.hook = func(int) error {
		calls++
		if calls%2 == 0 {
			return fmt.Errorf("spool: %w", backfill.ErrAlreadyExported)
		}
		return nil
	}
	cfg := backfill.ReplayConfig{Files: []string{write(t, "in.jsonl", joinLines(bodies[:6]))}, Progress: backfill.ProgressNone}
	st, err := backfill.Replay(t.Context(), cfg, deps(sk))
	if err != nil || st.Consumed != 3 || st.Skipped != 3 {
		t.Errorf("stats %+v, %v; want 3 consumed and 3 skipped", st, err)
	}
}

func TestReplayDeduplicates(t *testing.T) {
	bodies, logs := corpusBodies(t)
	seen := filepath.Join(t.TempDir(), "seen")
	// The same turns as bodies and as bare logs, twice over.
	f := write(t, "in.jsonl", joinLines(append(slices.Clone(bodies), logs...)))
	cfg := backfill.ReplayConfig{Files: []string{f, f}, DedupeFile: seen, Progress: backfill.ProgressNone}
	sk := newSink()
	st, err := backfill.Replay(t.Context(), cfg, deps(sk))
	if err != nil {
		t.Fatal(err)
	}
	wantCorpus(t, sk, bodies)
	if st.Skipped != int64(3*len(bodies)) {
		t.Errorf("skipped %d, want %d", st.Skipped, 3*len(bodies))
	}
	// A later run with the same dedupe file consumes nothing.
	sk = newSink()
	if st, err = backfill.Replay(t.Context(), cfg, deps(sk)); err != nil || len(sk.order) != 0 {
		t.Errorf("second run consumed %d (%v)", len(sk.order), err)
	}
	// A dry run counts without consuming or marking.
	dry := cfg
	dry.DryRun, dry.DedupeFile = true, ""
	if st, err = backfill.Replay(t.Context(), dry, deps(nil)); err != nil || st.Consumed != int64(len(bodies)) {
		t.Errorf("dry run: %+v, %v", st, err)
	}
}

func TestDecodeLogMatchesTheWebhook(t *testing.T) {
	bodies, logs := corpusBodies(t)
	for i := range bodies {
		want, err := watson.Decode(bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		got, err := backfill.DecodeLog(logs[i])
		if err != nil {
			t.Fatal(err)
		}
		if k := got.DedupeKey(); k != want.DedupeKey() || k == "" {
			t.Errorf("corpus %d: the log's key %q differs from the webhook body's %q", i, k, want.DedupeKey())
		}
		if !sameEvent(t, got, want) {
			t.Errorf("corpus %d: DecodeLog differs from watson.Decode", i)
		}
	}
	if _, err := backfill.DecodeLog(json.RawMessage(`[1]`)); !errors.Is(err, watson.ErrShape) {
		t.Errorf("array: %v", err)
	}
}

func TestImportedMetricsPolicy(t *testing.T) {
	_, logs := corpusBodies(t)
	m, err := mapping.New(mapping.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	ev, err := backfill.DecodeLog(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	tel := m.Map(ev, backfill.Received(ev, t0))
	if len(tel.Metrics) == 0 || len(tel.Spans) == 0 {
		t.Fatal("the corpus turn maps to no metrics or spans")
	}
	orig := slices.Clone(tel.Metrics[0].Attributes)

	off := backfill.Imported(tel, backfill.SourceBackfill, false)
	if off.Metrics != nil || !reflect.DeepEqual(off.Spans, tel.Spans) || !reflect.DeepEqual(off.Logs, tel.Logs) {
		t.Error("without --metrics: metrics should be dropped, spans and logs unchanged")
	}
	on := backfill.Imported(tel, backfill.SourceReplay, true)
	for _, ms := range on.Metrics {
		if last := ms.Attributes[len(ms.Attributes)-1]; last != attribute.String("watson_assistant.source", "replay") {
			t.Errorf("metric %v lacks the source label", ms.Instrument)
		}
	}
	if !reflect.DeepEqual(tel.Metrics[0].Attributes, orig) {
		t.Error("Imported changed the caller's attributes")
	}
	if !tel.Spans[0].Start.Equal(watson.ParseTime(ev.Log.RequestTimestamp)) {
		t.Errorf("span starts %v, want the original request_timestamp", tel.Spans[0].Start)
	}
}

func TestFileDeduper(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seen")
	d, err := backfill.OpenFileDeduper(p)
	if err != nil {
		t.Fatal(err)
	}
	d.Mark("a")
	d.Mark("b")
	d.Mark("a")
	d.Mark("bad\nkey")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "a\nb\n" {
		t.Errorf("file %q", b)
	}
	d, err = backfill.OpenFileDeduper(p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.Seen("a") || !d.Seen("b") || d.Seen("c") || d.Len() != 2 {
		t.Error("reopened dedupe file lost keys")
	}
}
