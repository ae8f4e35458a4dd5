package mapping

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/assistant-otel/assistant-otel/watson"
)

const cdrCorpus = "../testdata/corpus/other-events/cdr_logged-phone-call-transfer.json"

// fixture maps a corpus ("NN-name") or edge-case ("name") file by its name.
func fixture(t *testing.T, m *Mapper, name string) Telemetry {
	t.Helper()
	path := "testdata/edge/" + name + ".json"
	switch {
	case name == "cdr":
		path = cdrCorpus
	case len(name) > 2 && name[0] >= '0' && name[0] <= '9':
		path = "../testdata/corpus/" + name + ".json"
	}
	return m.Map(decodeFile(t, path), goldenReceived)
}

// measured lists the measurements of one instrument as "value {attrs}".
func measured(tel Telemetry, in Instrument) []string {
	var out []string
	for _, ms := range tel.Metrics {
		if ms.Instrument == in {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(
				formatFloat(ms.Value)+" {"+inline(ms.Attributes), ", "), ", ")+"}")
		}
	}
	sort.Strings(out)
	return out
}

func formatFloat(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func expectMeasured(t *testing.T, name string, tel Telemetry, in Instrument, want ...string) {
	t.Helper()
	got := measured(tel, in)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: %s measured\n  %s\nwant\n  %s", name, in.Spec().Name,
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func attrOf(kvs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestWeakUnderstandingTurns(t *testing.T) {
	m := goldenMapper(t)
	tel := fixture(t, m, "03-no-intent-anything-else")
	if got := measured(tel, WeakUnderstandingTurns); len(got) != 1 || !strings.Contains(got[0], `watson_assistant.skill.type="dialog"`) {
		t.Errorf("03: weak understanding measured %v, want one dialog turn", got)
	}
	if v, _ := attrOf(tel.Logs[0].Attributes, AttrWeakUnderstanding); !v.AsBool() {
		t.Error("03: the log record does not say weak understanding")
	}
	// Recognised an intent; recognised only an entity; said nothing (welcome).
	for _, name := range []string{"01-dialog-clear-intent-two-entities", "missing-request-timestamp", "14a-multiturn-welcome"} {
		expectMeasured(t, name, fixture(t, m, name), WeakUnderstandingTurns)
	}
}

func TestFallbackTurns(t *testing.T) {
	m := goldenMapper(t)
	for _, name := range []string{"03-no-intent-anything-else", "recognition-error-without-intent", "generative-ai-and-spelling", "conversational-search-idk"} {
		if got := measured(fixture(t, m, name), FallbackTurns); len(got) != 1 {
			t.Errorf("%s: fallback measured %v, want once", name, got)
		}
	}
	// 16: the error forced the fallback after order_total (0.91) was recognised.
	for _, name := range []string{"01-dialog-clear-intent-two-entities", "02-actions-skill-turn", "04-low-confidence-alternates", "action-finished-max-retries", "16-debug-log-messages-errors"} {
		expectMeasured(t, name, fixture(t, m, name), FallbackTurns)
	}
	// Coverage over the corpus: 1 - fallback / turns must be a proper share.
	var turns, fallbacks float64
	for _, f := range corpusFiles(t) {
		for _, ms := range m.Map(decodeFile(t, f), goldenReceived).Metrics {
			switch ms.Instrument {
			case Turns:
				turns += ms.Value
			case FallbackTurns:
				fallbacks += ms.Value
			}
		}
	}
	if turns == 0 || fallbacks == 0 || fallbacks >= turns {
		t.Errorf("corpus: %v fallback turns of %v turns; coverage cannot be computed", fallbacks, turns)
	}
}

func TestAmbiguousTurns(t *testing.T) {
	m := goldenMapper(t)
	tel := fixture(t, m, "ambiguous-intents")
	expectMeasured(t, "ambiguous-intents", tel, AmbiguousTurns,
		`1 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068", watson_assistant.intent="pay_bill"}`)
	if v, ok := attrOf(tel.Spans[0].Attributes, AttrIntentMargin); !ok || math.Abs(v.AsFloat64()-0.04) > 1e-9 {
		t.Errorf("ambiguous-intents: margin attribute %v, want 0.04", v.AsFloat64())
	}
	if v, _ := attrOf(tel.Logs[0].Attributes, AttrAmbiguous); !v.AsBool() {
		t.Error("ambiguous-intents: the log record does not say ambiguous")
	}
	// One intent only: no runner-up, no margin.
	tel = fixture(t, m, "01-dialog-clear-intent-two-entities")
	expectMeasured(t, "01", tel, AmbiguousTurns)
	if _, ok := attrOf(tel.Spans[0].Attributes, AttrIntentMargin); ok {
		t.Error("01: margin without a runner-up")
	}

	turn := func(top, second float64) watson.Event {
		body := `{"event":{"name":"message_logged"},"payload":{"log_id":"amb","request":{"input":{"text":"x"}},` +
			`"response":{"output":{"intents":[{"intent":"a","confidence":` + formatFloat(top) +
			`},{"intent":"b","confidence":` + formatFloat(second) + `}]}}}}`
		ev, err := watson.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	for _, tc := range []struct {
		margin, top, second float64
		want                bool
	}{
		{0.1, 0.5, 0.4, false}, // exactly the margin (0.5-0.4 rounds below 0.1 in floats)
		{0.1, 0.5, 0.41, true},
		{0.1, 0.9, 0.2, false},
		{0.1, 0.7, 0.7, true},
		{0.3, 0.9, 0.65, true},
		{0, 0.7, 0.7, false}, // 0 disables
	} {
		opts := DefaultOptions()
		opts.AmbiguityMargin = tc.margin
		mm, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		got := len(measured(mm.Map(turn(tc.top, tc.second), goldenReceived), AmbiguousTurns)) == 1
		if got != tc.want {
			t.Errorf("margin %v, intents %v/%v: ambiguous %v, want %v", tc.margin, tc.top, tc.second, got, tc.want)
		}
	}
	if DefaultOptions().AmbiguityMargin != 0.1 {
		t.Errorf("default ambiguity margin %v, want 0.1", DefaultOptions().AmbiguityMargin)
	}
	for _, bad := range []float64{-0.01, 1.5, math.NaN()} {
		opts := DefaultOptions()
		opts.AmbiguityMargin = bad
		if _, err := New(opts); err == nil {
			t.Errorf("ambiguity margin %v accepted", bad)
		}
	}
}

func TestActionsFinished(t *testing.T) {
	m := goldenMapper(t)
	const agent = `gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068"`
	// The welcome system action is not counted; an unknown reason is "other".
	expectMeasured(t, "max-retries", fixture(t, m, "action-finished-max-retries"), ActionsFinished,
		`1 {`+agent+`, watson_assistant.action.title="Book a visit", watson_assistant.action="action_501", watson_assistant.reason="max_retries_reached"}`,
		`1 {`+agent+`, watson_assistant.action.title="unknown", watson_assistant.action="action_777", watson_assistant.reason="other"}`)
	expectMeasured(t, "14c", fixture(t, m, "14c-multiturn-answer-with-callout"), ActionsFinished,
		`1 {`+agent+`, watson_assistant.action.title="Check order status", watson_assistant.action="action_4207", watson_assistant.reason="all_steps_done"}`)
	if got := measured(fixture(t, m, "10-connect-to-agent"), ActionsFinished); len(got) != 1 || !strings.Contains(got[0], `reason="connect_to_agent"`) {
		t.Errorf("10: actions finished %v, want one connect_to_agent", got)
	}
	// The welcome action finishing is not a user action.
	expectMeasured(t, "14a", fixture(t, m, "14a-multiturn-welcome"), ActionsFinished)
	expectMeasured(t, "callout-server-error", fixture(t, m, "callout-server-error"), ActionsFinished,
		`1 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068", watson_assistant.action.title="Order status", watson_assistant.action="action_7", watson_assistant.reason="ended_by_step"}`)
}

func TestSearches(t *testing.T) {
	m := goldenMapper(t)
	for name, want := range map[string]string{
		"search-skill":               SearchAnswered,
		"search-no-results":          SearchNoResults,
		"conversational-search-idk":  SearchIDK,
		"generative-ai-and-spelling": SearchAnswered,
	} {
		tel := fixture(t, m, name)
		got := measured(tel, Searches)
		if len(got) != 1 || !strings.Contains(got[0], `watson_assistant.search.outcome="`+want+`"`) {
			t.Errorf("%s: searches %v, want one %s", name, got, want)
		}
		if v, _ := attrOf(tel.Logs[0].Attributes, AttrSearchOutcome); v.AsString() != want {
			t.Errorf("%s: log search outcome %q, want %q", name, v.AsString(), want)
		}
	}
	for _, name := range []string{"01-dialog-clear-intent-two-entities", "02-actions-skill-turn", "03-no-intent-anything-else"} {
		tel := fixture(t, m, name)
		expectMeasured(t, name, tel, Searches)
		if _, ok := attrOf(tel.Spans[0].Attributes, AttrSearchOutcome); ok {
			t.Errorf("%s: search outcome on a turn that did not search", name)
		}
	}
	failed := `{"event":{"name":"message_logged"},"payload":{"log_id":"s-err","request":{"input":{"text":"x"}},` +
		`"response":{"output":{"generic":[{"response_type":"search","primary_results":[{"id":"1"}]}],` +
		`"debug":{"turn_events":[{"event":"search","error":{"message":"index unavailable"}}]}}}}}`
	ev, err := watson.Decode([]byte(failed))
	if err != nil {
		t.Fatal(err)
	}
	if got := measured(m.Map(ev, goldenReceived), Searches); len(got) != 1 || !strings.Contains(got[0], `"error"`) {
		t.Errorf("failed search: %v, want one error", got)
	}
}

func TestExtensionCalls(t *testing.T) {
	m := goldenMapper(t)
	const agent = `gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068"`
	expectMeasured(t, "mixed", fixture(t, m, "extension-success-and-failure"), ExtensionCalls,
		`1 {`+agent+`, watson_assistant.extension.outcome="success"}`,
		`1 {`+agent+`, watson_assistant.extension.outcome="failure"}`)
	expectMeasured(t, "server-error", fixture(t, m, "callout-server-error"), ExtensionCalls,
		`2 {`+agent+`, watson_assistant.extension.outcome="failure"}`)
	if got := measured(fixture(t, m, "14c-multiturn-answer-with-callout"), ExtensionCalls); len(got) != 1 || !strings.Contains(got[0], `"success"`) {
		t.Errorf("14c: extension calls %v, want one success", got)
	}
	expectMeasured(t, "01", fixture(t, m, "01-dialog-clear-intent-two-entities"), ExtensionCalls)
}

func TestTurnMetricsCarryTheTurnSpan(t *testing.T) {
	m := goldenMapper(t)
	for _, name := range []string{"ambiguous-intents", "action-finished-max-retries", "search-no-results", "extension-success-and-failure"} {
		tel := fixture(t, m, name)
		for _, ms := range tel.Metrics {
			if ms.TraceID != tel.Spans[0].TraceID || ms.SpanID != tel.Spans[0].SpanID {
				t.Errorf("%s: %s not tied to the turn span (no exemplar)", name, ms.Instrument.Spec().Name)
			}
		}
	}
}

func TestCallSpan(t *testing.T) {
	m := goldenMapper(t)
	tel := fixture(t, m, "cdr")
	if len(tel.Spans) != 1 {
		t.Fatalf("%d spans, want one call span", len(tel.Spans))
	}
	s := tel.Spans[0]
	if s.TraceID.String() != "3f7a9c216e4b4d08b1f59a2c7e0d8b34" || s.SpanID != CallSpanID("3f7a9c21-6e4b-4d08-b1f5-9a2c7e0d8b34") {
		t.Errorf("call span ids %s/%s, want the global session id's", s.TraceID, s.SpanID)
	}
	if s.ParentID.IsValid() {
		t.Error("call span has a parent")
	}
	if ts(s.Start) != "2025-03-18T16:02:11.406Z" || ts(s.End) != "2025-03-18T16:03:09.918Z" {
		t.Errorf("call span %s - %s, want the call's start and stop", ts(s.Start), ts(s.End))
	}
	if s.Status != codes.Unset {
		t.Errorf("status %v for a call that did not fail", s.Status)
	}
	for key, want := range map[attribute.Key]string{
		AttrCallEndReason: "assistant_transfer", AttrCallTransfer: "true", AttrCallFailure: "false",
		AttrCallOutbound: "false", AttrCallTurnCount: "2", AttrCallMaxAssistantMS: "412",
	} {
		if v, ok := attrOf(s.Attributes, key); !ok || v.String() != want {
			t.Errorf("call span %s = %q, want %q", key, v.String(), want)
		}
	}
	session := ConversationTraceID("b8e1f4a7-3c2d-4e95-a0b6-7f9d2c5e1a38")
	wantLinks := []string{
		session.String() + "/" + TurnSpanID("c2d9e7a1-4b3f-4a6e-9c08-5e1f7b3d2a64").String(),
		session.String() + "/" + TurnSpanID("7e5b3a9d-1f2c-4d80-b6e4-c9a0d8f1e257").String(),
	}
	var gotLinks []string
	for _, l := range s.Links {
		gotLinks = append(gotLinks, l.TraceID.String()+"/"+l.SpanID.String())
	}
	if strings.Join(gotLinks, " ") != strings.Join(wantLinks, " ") {
		t.Errorf("links %v, want %v", gotLinks, wantLinks)
	}
	if len(tel.Logs) != 2 || tel.Logs[0].EventName != EventNameCall || tel.Logs[0].SpanID != s.SpanID {
		t.Errorf("want the call record (on the call span) and one warning record, got %d records", len(tel.Logs))
	}

	// Several summaries, a repeated and an empty log id, a stateless turn,
	// only the stop time and the duration known.
	tel = fixture(t, m, "cdr-multiple-summaries-stateless")
	s = tel.Spans[0]
	if s.TraceID != CallTraceID("voice-gw-session-0042") {
		t.Errorf("non-UUID global session: trace id %s", s.TraceID)
	}
	if got := s.End.Sub(s.Start); got != 125500*time.Millisecond {
		t.Errorf("call span lasts %s, want 2m5.5s from milliseconds_elapsed", got)
	}
	if len(s.Links) != 2 {
		t.Fatalf("%d links, want 2 (repeated and empty log ids dropped)", len(s.Links))
	}
	if s.Links[1].TraceID != StatelessTraceID("stateless-log-0001") || s.Links[1].SpanID != TurnSpanID("stateless-log-0001") {
		t.Errorf("stateless turn link %s/%s, want the stateless turn's own trace", s.Links[1].TraceID, s.Links[1].SpanID)
	}

	// No global session id: the ids come from the first turn; end reason
	// failed makes the span an error even without failure_occurred.
	tel = fixture(t, m, "cdr-no-global-session")
	if len(tel.Spans) != 1 || !tel.Spans[0].TraceID.IsValid() {
		t.Fatal("call without a global session id has no span")
	}
	if tel.Spans[0].Status != codes.Error {
		t.Errorf("end reason failed: status %v, want error", tel.Spans[0].Status)
	}
	again := fixture(t, m, "cdr-no-global-session")
	if again.Spans[0].TraceID != tel.Spans[0].TraceID || again.Spans[0].SpanID != tel.Spans[0].SpanID {
		t.Error("call ids not deterministic")
	}

	// Nothing to derive ids from: no span, but the record and metrics stay.
	tel = fixture(t, m, "cdr-minimal")
	if len(tel.Spans) != 0 || len(tel.Logs) != 2 || len(measured(tel, Calls)) != 1 {
		t.Errorf("cdr-minimal: %d spans, %d records, calls %v", len(tel.Spans), len(tel.Logs), measured(tel, Calls))
	}
}

// TestCallLinksResolveToTurnSpans maps the turns a call lists as
// message_logged events and checks that each link names a real turn span.
func TestCallLinksResolveToTurnSpans(t *testing.T) {
	m := goldenMapper(t)
	call := fixture(t, m, "cdr-multiple-summaries-stateless").Spans[0]
	turnBody := func(logID, session string) watson.Event {
		p := map[string]any{"log_id": logID, "request": map[string]any{"input": map[string]any{"text": "hi"}}}
		if session != "" {
			p["session_id"] = session
		}
		b, _ := json.Marshal(map[string]any{"event": map[string]any{"name": "message_logged"}, "payload": p})
		ev, err := watson.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	turns := []Span{
		m.Map(turnBody("11111111-2222-4333-8444-555555555551", "b8e1f4a7-3c2d-4e95-a0b6-7f9d2c5e1a38"), goldenReceived).Spans[0],
		m.Map(turnBody("stateless-log-0001", ""), goldenReceived).Spans[0],
	}
	for i, turn := range turns {
		if i >= len(call.Links) || call.Links[i].TraceID != turn.TraceID || call.Links[i].SpanID != turn.SpanID {
			t.Errorf("turn %d (%s/%s) is not linked from the call", i, turn.TraceID, turn.SpanID)
		}
	}
}

func TestCallWarningRecords(t *testing.T) {
	m := goldenMapper(t)
	tel := fixture(t, m, "cdr-multiple-summaries-stateless")
	var got []string
	for _, r := range tel.Logs[1:] {
		code, _ := attrOf(r.Attributes, AttrCallWarningCode)
		got = append(got, code.AsString()+":"+r.SeverityText)
		if r.EventName != EventNameCallWarning || r.TraceID != tel.Spans[0].TraceID || r.SpanID != tel.Spans[0].SpanID {
			t.Errorf("%s: record not an event of the call span", code.AsString())
		}
	}
	want := "CWSMR0033W:WARN CWSGW0123E:ERROR CWSMR9999I:WARN"
	if strings.Join(got, " ") != want {
		t.Errorf("warning records %v, want %s", got, want)
	}
	if tel.Logs[0].SeverityText != "WARN" {
		t.Errorf("call record %s, want WARN for a call with warnings", tel.Logs[0].SeverityText)
	}
	// Capture off: no message text at all.
	opts := DefaultOptions()
	opts.CaptureContent = false
	off, _ := New(opts)
	out := render(fixture(t, off, "cdr-multiple-summaries-stateless"))
	if strings.Contains(out, "jitter") || strings.Contains(out, string(AttrCallWarningMessage)) {
		t.Error("warning message exported with capture off")
	}
}

// TestCallNeverExportsPhoneData: phone numbers, SIP headers, trunk ids and
// injected custom data never leave, whatever the capture setting.
func TestCallNeverExportsPhoneData(t *testing.T) {
	m := goldenMapper(t)
	secrets := []string{
		"8005550199", "4155550143", "8005550100", "555-0143", "sip:+", "pstn", "40981732_118840231", "1234@10.0.0.1",
		"CA8f2e4b6c1d9a0e7f3b5c8d2a4e6f1b09", "CA0000000000000000000000000000000001", "retail", "refund", "99887766",
		"account_number", "caller_segment",
	}
	for _, name := range []string{"cdr", "cdr-multiple-summaries-stateless", "cdr-no-global-session", "cdr-minimal"} {
		out := render(fixture(t, m, name))
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: exported %q", name, s)
			}
		}
	}
	if got := redactPhone("call +1 (415) 555-0143 from sip:alice@example.com, code 42, at 10:03"); got != "call *** from sip:***, code 42, at 10:03" {
		t.Errorf("redactPhone = %q", got)
	}
}

func TestCallMetrics(t *testing.T) {
	m := goldenMapper(t)
	const agent = `gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068"`
	tel := fixture(t, m, "cdr")
	expectMeasured(t, "cdr", tel, Calls, `1 {`+agent+`, watson_assistant.call.end_reason="assistant_transfer"}`)
	expectMeasured(t, "cdr", tel, CallDuration, `58.512 {`+agent+`, watson_assistant.call.end_reason="assistant_transfer"}`)
	expectMeasured(t, "cdr", tel, CallTransfers, `1 {`+agent+`}`)
	expectMeasured(t, "cdr", tel, CallFailures)
	expectMeasured(t, "cdr", tel, CallMaxResponseTime,
		`0.412 {`+agent+`, watson_assistant.call.component="assistant"}`,
		`0.498 {`+agent+`, watson_assistant.call.component="text_to_speech"}`,
		`0.731 {`+agent+`, watson_assistant.call.component="speech_to_text"}`)
	for _, ms := range tel.Metrics {
		if ms.TraceID != tel.Spans[0].TraceID || ms.SpanID != tel.Spans[0].SpanID {
			t.Errorf("%s not tied to the call span", ms.Instrument.Spec().Name)
		}
	}

	tel = fixture(t, m, "cdr-multiple-summaries-stateless")
	expectMeasured(t, "multi", tel, Calls, `1 {`+agent+`, watson_assistant.call.end_reason="other"}`)
	expectMeasured(t, "multi", tel, CallTransfers)
	expectMeasured(t, "multi", tel, CallMaxResponseTime,
		`1.25 {`+agent+`, watson_assistant.call.component="assistant"}`,
		`0.32 {`+agent+`, watson_assistant.call.component="text_to_speech"}`)

	tel = fixture(t, m, "cdr-no-global-session")
	expectMeasured(t, "no-global", tel, CallFailures, `1 {gen_ai.agent.name="unknown"}`)
	expectMeasured(t, "no-global", tel, CallDuration, `42.5 {gen_ai.agent.name="unknown", watson_assistant.call.end_reason="failed"}`)

	tel = fixture(t, m, "cdr-minimal")
	expectMeasured(t, "minimal", tel, CallDuration)
	expectMeasured(t, "minimal", tel, CallFailures, `1 {gen_ai.agent.name="unknown"}`)
}

func TestInstrumentNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, in := range Instruments() {
		spec := in.Spec()
		if spec.Name == "" || seen[spec.Name] {
			t.Errorf("instrument %d: empty or repeated name %q", in, spec.Name)
		}
		seen[spec.Name] = true
		if (spec.Kind == Histogram) != (len(spec.Buckets) > 0) {
			t.Errorf("%s: buckets only and always for histograms", spec.Name)
		}
	}
}

// TestClarification: corpus 09 asked "Did you mean" with three candidates;
// the next turn carries the user's pick, a candidate or "None of the above".
func TestClarification(t *testing.T) {
	m := goldenMapper(t)
	tel := fixture(t, m, "09-options-and-suggestion-disambiguation")
	span := tel.Spans[0].Attributes
	if v, _ := attrOf(span, AttrAmbiguous); !v.AsBool() {
		t.Error("09: not ambiguous")
	}
	if v, _ := attrOf(span, AttrOutcome); v.AsString() != OutcomeClarification {
		t.Errorf("09: outcome %q", v.AsString())
	}
	if v, _ := attrOf(span, AttrRunnerUpIntent); v.AsString() != "report_lost_card" {
		t.Errorf("09: runner-up %q, want report_lost_card", v.AsString())
	}
	v, _ := attrOf(tel.Logs[0].Attributes, AttrClarificationConfidences)
	if got := v.AsFloat64Slice(); len(got) != 3 || got[0] < 0.61 || got[2] > 0.56 {
		t.Errorf("09: candidate confidences %v", got)
	}
	if got := measured(tel, Clarifications); len(got) != 1 {
		t.Errorf("09: clarifications measured %v", got)
	}
	if v, _ := attrOf(tel.Logs[0].Attributes, AttrClarificationLabels); len(v.AsStringSlice()) != 3 || v.AsStringSlice()[1] != "Report a lost or stolen card" {
		t.Errorf("09: candidate labels %v", v.AsStringSlice())
	}
	actions := fixture(t, m, "clarification-asked-actions")
	if v, _ := attrOf(actions.Spans[0].Attributes, AttrClarificationLabels); len(v.AsStringSlice()) != 2 || v.AsStringSlice()[0] != "Book an appointment" {
		t.Errorf("clarification-asked-actions: labels %v", v.AsStringSlice())
	}
	expectMeasured(t, "09", tel, Requests) // the pick decides recognition
	expectMeasured(t, "09", tel, ClarificationPicks)
	other := fixture(t, m, "01-dialog-clear-intent-two-entities")
	expectMeasured(t, "01", other, Clarifications)
	expectMeasured(t, "01", other, ClarificationPicks)
	for name, want := range map[string]struct{ pick, choice, recognition string }{
		"clarification-pick-suggestion":   {"activate_card", ChoiceSuggestion, RecognitionRecognized},
		"clarification-none-of-the-above": {PickNoneOfTheAbove, ChoiceNoneOfTheAbove, RecognitionNotRecognized},
	} {
		tel := fixture(t, m, name)
		for _, attrs := range [][]attribute.KeyValue{tel.Spans[0].Attributes, tel.Logs[0].Attributes} {
			if v, _ := attrOf(attrs, AttrClarificationPick); v.AsString() != want.pick {
				t.Errorf("%s: pick %q, want %q", name, v.AsString(), want.pick)
			}
			if v, _ := attrOf(attrs, AttrSuggestionID); v.AsString() == "" {
				t.Errorf("%s: no suggestion id", name)
			}
			if v, _ := attrOf(attrs, AttrRecognition); v.AsString() != want.recognition {
				t.Errorf("%s: recognition %q, want %q", name, v.AsString(), want.recognition)
			}
		}
		if got := measured(tel, ClarificationPicks); len(got) != 1 || !strings.Contains(got[0], `choice="`+want.choice+`"`) {
			t.Errorf("%s: picks measured %v", name, got)
		}
		expectMeasured(t, name, tel, Clarifications)
	}
}

// TestActionsByName: an actions turn names its action by id and title on the
// span, the log record and its metrics, and its intent by the action title
// (corpus 02: action_13852_intent_24011 is "Book an appointment").
func TestActionsByName(t *testing.T) {
	m := goldenMapper(t)
	tel := fixture(t, m, "02-actions-skill-turn")
	for _, attrs := range [][]attribute.KeyValue{tel.Spans[0].Attributes, tel.Logs[0].Attributes} {
		if v, _ := attrOf(attrs, AttrActionTitle); v.AsString() != "Book an appointment" {
			t.Errorf("02: action title %q", v.AsString())
		}
		if v, _ := attrOf(attrs, AttrAction); v.AsString() != "action_13852" {
			t.Errorf("02: action %q", v.AsString())
		}
		if v, _ := attrOf(attrs, AttrIntentActionTitle); v.AsString() != "Book an appointment" {
			t.Errorf("02: intent action title %q", v.AsString())
		}
	}
	expectMeasured(t, "02", tel, IntentConfidence, `0.9463027477264404 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068", watson_assistant.action.title="Book an appointment", watson_assistant.action="action_13852", watson_assistant.intent="action_13852_intent_24011"}`)
	expectMeasured(t, "14c", fixture(t, m, "14c-multiturn-answer-with-callout"), ActionsFinished,
		`1 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068", watson_assistant.action.title="Check order status", watson_assistant.action="action_4207", watson_assistant.reason="all_steps_done"}`)
	if tel := fixture(t, m, "14c-multiturn-answer-with-callout"); tel.Spans[1].Name != "callout Check order status" {
		t.Errorf("14c: callout span named %q", tel.Spans[1].Name)
	}
	// Without titles in the log: the id only; a dialog turn: no action at all.
	untitled := fixture(t, m, "actions-without-titles")
	if _, ok := attrOf(untitled.Spans[0].Attributes, AttrActionTitle); ok {
		t.Error("actions-without-titles: an action title was invented")
	}
	if _, ok := attrOf(untitled.Spans[0].Attributes, AttrIntentActionTitle); ok {
		t.Error("actions-without-titles: an intent title was invented")
	}
	if _, ok := attrOf(fixture(t, m, "01-dialog-clear-intent-two-entities").Logs[0].Attributes, AttrAction); ok {
		t.Error("01: a dialog turn names an action")
	}
}

// TestPhoneCallMeetsItsTurns: the phone fixture's call summary and its two
// turns belong together: the call's links resolve to the turn spans, and a
// search by conversation id finds the call with the turns.
func TestPhoneCallMeetsItsTurns(t *testing.T) {
	m := goldenMapper(t)
	call := fixture(t, m, "phone-call-summary")
	turns := map[string]Span{}
	var conv string
	for _, name := range []string{"phone-turn-1-welcome", "phone-turn-2-transfer"} {
		s := fixture(t, m, name).Spans[0]
		turns[s.TraceID.String()+"/"+s.SpanID.String()] = s
		v, _ := attrOf(s.Attributes, AttrGenAIConversationID)
		conv = v.AsString()
	}
	if len(call.Spans[0].Links) != 2 {
		t.Fatalf("%d links, want 2", len(call.Spans[0].Links))
	}
	for _, l := range call.Spans[0].Links {
		if _, ok := turns[l.TraceID.String()+"/"+l.SpanID.String()]; !ok {
			t.Errorf("link %s/%s resolves to no turn span", l.TraceID, l.SpanID)
		}
	}
	for _, attrs := range [][]attribute.KeyValue{call.Spans[0].Attributes, call.Logs[0].Attributes, call.Logs[1].Attributes} {
		if v, _ := attrOf(attrs, AttrGenAIConversationID); v.AsString() != conv || conv == "" {
			t.Errorf("call conversation id %q, turns %q", v.AsString(), conv)
		}
	}
	if v, _ := attrOf(call.Spans[0].Attributes, AttrCallGlobalSessionID); v.AsString() != "3f7a9c21-6e4b-4d08-b1f5-9a2c7e0d8b34" {
		t.Errorf("global session id %q", v.AsString())
	}
	// Call quality: STT confidence, SIP set-up, packet loss and jitter.
	expectMeasured(t, "call", call, CallSTTConfidence, `0.87 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068"}`)
	expectMeasured(t, "call", call, CallSIPSetupTime, `1.795 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068"}`)
	expectMeasured(t, "call", call, CallJitter,
		`0 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068", watson_assistant.call.direction="outbound"}`,
		`0.041 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068", watson_assistant.call.direction="inbound"}`)
	if got := measured(call, CallPacketLoss); len(got) != 2 || !strings.HasPrefix(got[1], "0.00104") {
		t.Errorf("packet loss %v", got)
	}
	// A summary without sessions keeps its global session id as conversation.
	bare := fixture(t, m, "cdr-minimal")
	if len(bare.Logs) > 0 {
		if v, ok := attrOf(bare.Logs[0].Attributes, AttrSessionID); ok {
			t.Errorf("cdr-minimal: session.id %q invented", v.AsString())
		}
	}
}

// TestGenerativeConventions: a generative AI call is a gen_ai inference span
// (operation, provider, model, token usage), its HAP detection a flag and a
// counter, and its search/LLM callout is not an extension call.
func TestGenerativeConventions(t *testing.T) {
	m := goldenMapper(t)
	tel := fixture(t, m, "generative-ai-hap-detected")
	if len(tel.Spans) != 2 {
		t.Fatalf("%d spans, want the turn and its generative call", len(tel.Spans))
	}
	g := tel.Spans[1]
	if g.Name != "text_completion ibm/granite-3-8b-instruct" {
		t.Errorf("generative span named %q", g.Name)
	}
	for key, want := range map[attribute.Key]string{
		AttrGenAIOperationName: OperationTextCompletion, AttrGenAIProviderName: ProviderWatsonxAI,
		AttrGenAIRequestModel: "ibm/granite-3-8b-instruct",
	} {
		if v, _ := attrOf(g.Attributes, key); v.AsString() != want {
			t.Errorf("%s = %q, want %q", key, v.AsString(), want)
		}
	}
	if v, _ := attrOf(g.Attributes, AttrGenAIUsageInputTokens); v.AsInt64() != 912 {
		t.Errorf("input tokens %v", v.AsInt64())
	}
	if v, _ := attrOf(g.Attributes, AttrGenAIUsageOutputTokens); v.AsInt64() != 17 {
		t.Errorf("output tokens %v", v.AsInt64())
	}
	for _, attrs := range [][]attribute.KeyValue{g.Attributes, tel.Spans[0].Attributes, tel.Logs[0].Attributes} {
		if v, _ := attrOf(attrs, AttrGenAIHAPDetected); !v.AsBool() {
			t.Error("HAP detection not flagged")
		}
	}
	expectMeasured(t, "hap", tel, HAPDetected, `1 {gen_ai.agent.name="0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068"}`)
	expectMeasured(t, "hap", tel, ExtensionCalls)
	// No HAP, no token counts: the model from llm_metadata, no usage invented.
	other := fixture(t, m, "generative-ai-and-spelling")
	expectMeasured(t, "generative-ai-and-spelling", other, HAPDetected)
	if _, ok := attrOf(other.Spans[0].Attributes, AttrGenAIHAPDetected); ok {
		t.Error("generative-ai-and-spelling: HAP flagged on the turn")
	}
	if v, _ := attrOf(other.Spans[1].Attributes, AttrGenAIRequestModel); v.AsString() != "ibm/granite-13b" {
		t.Errorf("model %q from llm_metadata", v.AsString())
	}
	if _, ok := attrOf(other.Spans[1].Attributes, AttrGenAIUsageInputTokens); ok {
		t.Error("token usage invented")
	}
}
