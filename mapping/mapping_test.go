package mapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/assistant-otel/assistant-otel/watson"
)

func decodeFile(t *testing.T, path string) watson.Event {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := watson.Decode(body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ev
}

func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/corpus/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	return files
}

func TestConversationIsOneTrace(t *testing.T) {
	m := goldenMapper(t)
	const session = "5b2e7c903f1a4d6b8e25a9c4d1f7e063"
	seenSpans := map[string]bool{}
	var starts []time.Time
	for _, name := range []string{"14a-multiturn-welcome", "14b-multiturn-ask-order", "14c-multiturn-answer-with-callout"} {
		tel := m.Map(decodeFile(t, "../testdata/corpus/"+name+".json"), goldenReceived)
		turn := tel.Spans[0]
		if turn.TraceID.String() != session {
			t.Errorf("%s: trace id %s, want the session UUID %s", name, turn.TraceID, session)
		}
		if turn.ParentID.IsValid() {
			t.Errorf("%s: turn span has a parent %s; a turn must be a root so no parent goes missing", name, turn.ParentID)
		}
		if seenSpans[turn.SpanID.String()] {
			t.Errorf("%s: span id %s reused", name, turn.SpanID)
		}
		seenSpans[turn.SpanID.String()] = true
		for _, child := range tel.Spans[1:] {
			if child.TraceID != turn.TraceID || child.ParentID != turn.SpanID {
				t.Errorf("%s: child %q is not under the turn span", name, child.Name)
			}
		}
		if tel.Logs[0].TraceID != turn.TraceID || tel.Logs[0].SpanID != turn.SpanID {
			t.Errorf("%s: log record not correlated with the turn span", name)
		}
		starts = append(starts, turn.Start)
	}
	for i := 1; i < len(starts); i++ {
		if !starts[i].After(starts[i-1]) {
			t.Errorf("turn %d starts at %s, not after turn %d at %s", i+1, starts[i], i, starts[i-1])
		}
	}
}

func TestMappingIsDeterministic(t *testing.T) {
	m := goldenMapper(t)
	for _, f := range corpusFiles(t) {
		a := render(m.Map(decodeFile(t, f), goldenReceived))
		b := render(m.Map(decodeFile(t, f), goldenReceived.Add(time.Hour)))
		if a != b {
			t.Errorf("%s: mapping the same event twice differs", f)
		}
	}
}

func TestStatelessTurnGetsItsOwnTrace(t *testing.T) {
	m := goldenMapper(t)
	ev := decodeFile(t, "../testdata/corpus/07-stateless-no-session-id.json")
	tel := m.Map(ev, goldenReceived)
	want := StatelessTraceID(ev.Log.LogID)
	if !tel.Spans[0].TraceID.IsValid() {
		t.Fatal("stateless turn has no trace id")
	}
	if got := tel.Spans[0].TraceID; got != want {
		t.Errorf("trace id %s, want the one derived from the log id %s", got, want)
	}
	for _, kv := range tel.Spans[0].Attributes {
		if kv.Key == AttrSessionID || kv.Key == AttrGenAIConversationID {
			t.Errorf("stateless turn carries %s", kv.Key)
		}
	}
}

func TestIDs(t *testing.T) {
	upper := ConversationTraceID("5B2E7C90-3F1A-4D6B-8E25-A9C4D1F7E063")
	lower := ConversationTraceID("5b2e7c90-3f1a-4d6b-8e25-a9c4d1f7e063")
	bare := ConversationTraceID("5b2e7c903f1a4d6b8e25a9c4d1f7e063")
	if upper != lower || lower != bare || lower.String() != "5b2e7c903f1a4d6b8e25a9c4d1f7e063" {
		t.Errorf("UUID forms disagree: %s %s %s", upper, lower, bare)
	}
	for _, s := range []string{"not-a-uuid", "00000000-0000-0000-0000-000000000000", "5b2e7c90_3f1a-4d6b-8e25-a9c4d1f7e063", "zz2e7c903f1a4d6b8e25a9c4d1f7e063", ""} {
		id := ConversationTraceID(s)
		if !id.IsValid() {
			t.Errorf("%q: invalid trace id", s)
		}
		if id != ConversationTraceID(s) {
			t.Errorf("%q: not deterministic", s)
		}
	}
	if ConversationTraceID("a") == ConversationTraceID("b") {
		t.Error("different sessions share a trace id")
	}
	if StatelessTraceID("x") == ConversationTraceID("x") {
		t.Error("stateless and session hashes collide for the same string")
	}
	if x1, x2 := TurnSpanID("x"), TurnSpanID("x"); TurnSpanID("x") == TurnSpanID("y") || x1 != x2 {
		t.Error("turn span ids not deterministic and distinct")
	}
	if ChildSpanID("x", 0) == ChildSpanID("x", 1) || ChildSpanID("x", 0) == TurnSpanID("x") {
		t.Error("child span ids collide")
	}
}

// contentOf lists texts of a body that must never leave the process when
// content capture is off.
func contentOf(t *testing.T, ev watson.Event) []string {
	t.Helper()
	var texts []string
	add := func(s string) {
		if len(strings.TrimSpace(s)) >= 4 {
			texts = append(texts, s)
		}
	}
	l := ev.Log
	add(l.Request.Input.Text)
	for _, s := range outputTexts(l.Response.Output.Generic) {
		add(s)
	}
	for _, g := range l.Response.Output.Generic {
		add(g.Text)
	}
	for _, e := range l.Response.Output.Entities {
		add(e.Value)
	}
	for _, lm := range l.Response.Output.Debug.LogMessages {
		add(lm.Message)
	}
	return texts
}

func TestCaptureContentOffRemovesEveryText(t *testing.T) {
	opts := DefaultOptions()
	opts.CaptureContent = false
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range corpusFiles(t) {
		ev := decodeFile(t, f)
		out := render(m.Map(ev, goldenReceived))
		texts := contentOf(t, ev)
		for _, s := range texts {
			if strings.Contains(out, s) || strings.Contains(out, jsonQuoted(s)) {
				t.Errorf("%s: content %q exported with capture off", filepath.Base(f), s)
			}
		}
		for _, key := range []attribute.Key{AttrGenAIInputMessages, AttrGenAIOutputMessages, AttrInputText, AttrOutputText, AttrEntityValues, AttrLogMessage, AttrURLPath} {
			if strings.Contains(out, string(key)+" =") {
				t.Errorf("%s: %s exported with capture off", filepath.Base(f), key)
			}
		}
	}
	// And the test can fail: with capture on, the same texts are there.
	on := goldenMapper(t)
	ev := decodeFile(t, "../testdata/corpus/01-dialog-clear-intent-two-entities.json")
	if out := render(on.Map(ev, goldenReceived)); !strings.Contains(out, ev.Log.Request.Input.Text) {
		t.Error("capture on does not export the user's text")
	}
}

func jsonQuoted(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// TestNeverExported checks what no setting may export: state blobs, client IP
// addresses and raw user ids.
func TestNeverExported(t *testing.T) {
	m := goldenMapper(t)
	files := append(corpusFiles(t), "testdata/edge/masked-private-values.json", "testdata/edge/callout-server-error.json")
	checked := 0
	defer func() {
		if checked < 30 {
			t.Errorf("only %d never-export values checked; the walk is broken", checked)
		}
	}()
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatal(err)
		}
		var secrets []string
		walk(raw, "", func(path, v string) {
			switch {
			case strings.HasSuffix(path, ".state"), strings.HasSuffix(path, "client_ip_address"),
				strings.Contains(path, "ip_address_list"), strings.HasSuffix(path, "user_id"),
				strings.HasSuffix(path, "customer_id"), strings.Contains(path, "source.id"):
				if len(v) >= 4 {
					secrets = append(secrets, v)
				}
			}
		})
		out := render(m.Map(decodeFile(t, f), goldenReceived))
		checked += len(secrets)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: exported %q", filepath.Base(f), s)
			}
		}
		if strings.Contains(out, "pw@") || strings.Contains(out, "user:pw") {
			t.Errorf("%s: exported URL credentials", filepath.Base(f))
		}
	}
}

func walk(v any, path string, visit func(path, v string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			walk(c, path+"."+k, visit)
		}
	case []any:
		for _, c := range x {
			walk(c, path+"[]", visit)
		}
	case string:
		visit(path, x)
	}
}

func TestHugeInputsMapAndTruncate(t *testing.T) {
	m := goldenMapper(t)
	huge := strings.Repeat("ä漢🙂", 7000) // 20+ KB of mixed-width characters
	bigContext := map[string]any{}
	for i := 0; i < 3000; i++ {
		bigContext[strings.Repeat("k", 10)+itoa(i)] = strings.Repeat("v", 100)
	}
	payload := map[string]any{
		"log_id":     "huge-1",
		"session_id": "huge-session",
		"request":    map[string]any{"input": map[string]any{"text": huge}, "context": map[string]any{"skills": map[string]any{"main skill": map[string]any{"user_defined": bigContext}}}},
		"response": map[string]any{
			"output":  map[string]any{"generic": []any{map[string]any{"response_type": "text", "text": huge}}},
			"context": map[string]any{"skills": map[string]any{"main skill": map[string]any{"user_defined": bigContext, "system": map[string]any{"state": huge}}}},
		},
	}
	body, err := json.Marshal(map[string]any{"event": map[string]any{"name": "message_logged"}, "payload": payload})
	if err != nil {
		t.Fatal(err)
	}
	if len(body) < 300_000 {
		t.Fatalf("body only %d bytes", len(body))
	}
	ev, err := watson.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	tel := m.Map(ev, goldenReceived)
	limit := DefaultOptions().MaxTextLength
	check := func(where string, kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			if kv.Key == AttrGenAIInputMessages || kv.Key == AttrGenAIOutputMessages {
				continue // JSON around one truncated text
			}
			if n := len([]rune(kv.Value.String())); n > limit+8 {
				t.Errorf("%s: %s is %d characters, limit %d", where, kv.Key, n, limit)
			}
		}
	}
	check("span", tel.Spans[0].Attributes)
	check("log", tel.Logs[0].Attributes)
	if n := len([]rune(tel.Logs[0].Body)); n != limit {
		t.Errorf("log body is %d characters, want truncated to %d", n, limit)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 16, "hello"},
		{"héllo wörld and more", 16, "héllo wörld and…"},
		{"🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂", 16, "🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂…"},
		{"bad\xffutf8", 16, "bad\uFFFDutf8"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestMetricAttributesAreBounded: metric attributes may only come from
// bounded sets, never texts, entity values or ids. Keys with an enumerated
// set of values must hold one of them.
func TestMetricAttributesAreBounded(t *testing.T) {
	allowed := map[attribute.Key]bool{
		AttrGenAIAgentName: true, AttrSkillType: true, AttrOutcome: true, AttrIntent: true,
		AttrGenAIOperationName: true, AttrGenAIProviderName: true,
		AttrReason: true, AttrCallEndReason: true, AttrCallComponent: true, AttrRecognition: true, AttrClarificationChoice: true, AttrAction: true, AttrActionTitle: true, AttrCallDirection: true,
		AttrSearchOutcome: true, AttrExtensionOutcome: true, AttrClampReason: true,
	}
	enumerated := map[attribute.Key][]string{
		AttrSkillType:           {SkillDialog, SkillActions, SkillSearch, SkillUnknown},
		AttrRecognition:         {RecognitionRecognized, RecognitionNotRecognized},
		AttrClarificationChoice: {ChoiceSuggestion, ChoiceNoneOfTheAbove},
		// One attribute name per value set: turn, search and extension
		// outcomes never share a name.
		AttrOutcome: {OutcomeError, OutcomeHandoff, OutcomeNotRecognized, OutcomeLowConfidence, OutcomeWelcome, OutcomeAnswered,
			OutcomeAnsweredBySearch, OutcomeNoAnswer, OutcomeClarification},
		AttrSearchOutcome:    {SearchAnswered, SearchNoResults, SearchIDK, SearchError},
		AttrExtensionOutcome: {ExtensionSuccess, ExtensionFailure},
		AttrReason:           {"all_steps_done", "no_steps_visited", "ended_by_step", "connect_to_agent", "max_retries_reached", "fallback", "other", "unknown"},
		AttrCallEndReason:    {"assistant_transfer", "assistant_hangup", "caller_hangup", "failed", "other", "unknown"},
		AttrCallComponent:    {ComponentAssistant, ComponentTextToSpeech, ComponentSpeechToText},
		AttrClampReason:      {ClampConfidenceNotFinite, ClampConfidenceRange, ClampTimestampWindow, ClampLatency, ClampDuration, ClampCount},
	}
	m := goldenMapper(t)
	files, _ := filepath.Glob("testdata/edge/*.json")
	files = append(files, corpusFiles(t)...)
	files = append(files, "../testdata/corpus/other-events/cdr_logged-phone-call-transfer.json")
	checked := map[attribute.Key]int{}
	for _, f := range files {
		for _, ms := range m.Map(decodeFile(t, f), goldenReceived).Metrics {
			for _, kv := range ms.Attributes {
				if !allowed[kv.Key] {
					t.Errorf("%s: metric %s has attribute %s", filepath.Base(f), ms.Instrument.Spec().Name, kv.Key)
				}
				if (kv.Key == AttrIntent || kv.Key == AttrAction) && !validName(kv.Value.AsString()) {
					t.Errorf("%s: metric %s has %s=%q, not a valid Watson name", filepath.Base(f), ms.Instrument.Spec().Name, kv.Key, kv.Value.AsString())
				}
				if set, ok := enumerated[kv.Key]; ok {
					checked[kv.Key]++
					if !contains(set, kv.Value.AsString()) {
						t.Errorf("%s: metric %s has %s=%q, outside its bounded set", filepath.Base(f), ms.Instrument.Spec().Name, kv.Key, kv.Value.AsString())
					}
				}
			}
		}
	}
	for key := range enumerated {
		if checked[key] == 0 {
			t.Errorf("no fixture produced a metric with %s: the check above is not exercised", key)
		}
	}
}

// TestRecognitionVerdicts: each verdict of docs/analytics.md, set by one
// fixture and not by its twin.
func TestRecognitionVerdicts(t *testing.T) {
	m := goldenMapper(t)
	for file, want := range map[string]string{
		"../testdata/corpus/02-actions-skill-turn.json":             RecognitionRecognized,
		"testdata/edge/recognition-actions-no-matches.json":         RecognitionNotRecognized,
		"../testdata/corpus/14c-multiturn-answer-with-callout.json": RecognitionStepAnswer,
		"testdata/edge/recognition-actions-step-answer.json":        RecognitionStepAnswer,
		"testdata/edge/recognition-actions-masked-answer.json":      RecognitionStepAnswer,
		"testdata/edge/recognition-actions-validation-retry.json":   RecognitionStepAnswer,
		"testdata/edge/recognition-search-after-no-matches.json":    RecognitionNotRecognized,
		"testdata/edge/search-skill.json":                           RecognitionSearch,
		"testdata/edge/recognition-dialog-weak-understanding.json":  RecognitionNotRecognized,
		"testdata/edge/recognition-dialog-slot-answer.json":         RecognitionStepAnswer,
		"../testdata/corpus/16-debug-log-messages-errors.json":      RecognitionRecognized,
		"testdata/edge/recognition-error-without-intent.json":       RecognitionNotRecognized,
		"testdata/edge/recognition-error-forced-fallback.json":      RecognitionRecognized,
		"testdata/edge/clarification-asked-actions.json":            RecognitionClarification,
		"../testdata/corpus/14a-multiturn-welcome.json":             RecognitionNone,
	} {
		tel := m.Map(decodeFile(t, file), goldenReceived)
		if v, _ := attrOf(tel.Spans[0].Attributes, AttrRecognition); v.AsString() != want {
			t.Errorf("%s: recognition %q, want %q", file, v.AsString(), want)
		}
		if v, _ := attrOf(tel.Logs[0].Attributes, AttrRecognition); v.AsString() != want {
			t.Errorf("%s: log recognition %q, want %q", file, v.AsString(), want)
		}
	}
}

func TestOutcomesAndSeverities(t *testing.T) {
	m := goldenMapper(t)
	for file, want := range map[string]struct{ outcome, severity string }{
		"01-dialog-clear-intent-two-entities":   {OutcomeAnswered, "INFO"},
		"03-no-intent-anything-else":            {OutcomeNotRecognized, "WARN"},
		"04-low-confidence-alternates":          {OutcomeLowConfidence, "WARN"},
		"10-connect-to-agent":                   {OutcomeHandoff, "INFO"},
		"14a-multiturn-welcome":                 {OutcomeWelcome, "INFO"},
		"16-debug-log-messages-errors":          {OutcomeError, "ERROR"},
		"14c-multiturn-answer-with-callout":     {OutcomeAnswered, "INFO"},
		"recognition-actions-no-matches":        {OutcomeNotRecognized, "WARN"},
		"recognition-actions-step-answer":       {OutcomeAnswered, "INFO"},
		"recognition-actions-masked-answer":     {OutcomeAnswered, "INFO"},
		"recognition-search-after-no-matches":   {OutcomeAnsweredBySearch, "INFO"},
		"recognition-dialog-weak-understanding": {OutcomeNotRecognized, "WARN"},
		"recognition-dialog-slot-answer":        {OutcomeAnswered, "INFO"},
		"recognition-error-without-intent":      {OutcomeError, "ERROR"},
		"recognition-error-forced-fallback":     {OutcomeError, "ERROR"},
		"clarification-asked-actions":           {OutcomeClarification, "INFO"},
		"handoff-agent-messages":                {OutcomeHandoff, "INFO"},
		"handoff-without-messages":              {OutcomeHandoff, "INFO"},
		"search-skill":                          {OutcomeAnsweredBySearch, "INFO"},
		"search-no-results":                     {OutcomeNoAnswer, "WARN"},
		"severity-warn-jump-error-only":         {OutcomeAnswered, "WARN"},
		"severity-info-log-message-only":        {OutcomeAnswered, "INFO"},
		"callout-server-error":                  {OutcomeError, "ERROR"},
	} {
		path := "../testdata/corpus/" + file + ".json"
		if file[0] < '0' || file[0] > '9' {
			path = "testdata/edge/" + file + ".json"
		}
		tel := m.Map(decodeFile(t, path), goldenReceived)
		var outcome string
		for _, kv := range tel.Logs[0].Attributes {
			if kv.Key == AttrOutcome {
				outcome = kv.Value.AsString()
			}
		}
		_, hasType := attrOf(tel.Logs[0].Attributes, AttrErrorType)
		if hasType != (want.severity == "ERROR") {
			t.Errorf("%s: error.type on the log record: %v, severity %s", file, hasType, want.severity)
		}
		if outcome != want.outcome || tel.Logs[0].SeverityText != want.severity {
			t.Errorf("%s: outcome %s severity %s, want %s %s", file, outcome, tel.Logs[0].SeverityText, want.outcome, want.severity)
		}
	}
}

func TestThresholdIsConfigurable(t *testing.T) {
	opts := DefaultOptions()
	opts.LowConfidenceThreshold = 0.25
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tel := m.Map(decodeFile(t, "../testdata/corpus/04-low-confidence-alternates.json"), goldenReceived)
	for _, ms := range tel.Metrics {
		if ms.Instrument == LowConfidenceTurns {
			t.Error("0.31 counted as low confidence with threshold 0.25")
		}
	}
	if _, err := New(Options{LowConfidenceThreshold: 2, MaxTextLength: 100}); err == nil {
		t.Error("threshold 2 accepted")
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestHonestTiming: no span is zero-length (Jaeger warns on each), every
// child span and span event lies inside its turn, and turn events keep
// Watson's order in time.
func TestHonestTiming(t *testing.T) {
	m := goldenMapper(t)
	files, _ := filepath.Glob("testdata/edge/*.json")
	files = append(files, corpusFiles(t)...)
	files = append(files, cdrCorpus)
	for _, file := range files {
		tel := m.Map(decodeFile(t, file), goldenReceived)
		var turn Span
		for i, s := range tel.Spans {
			if !s.End.After(s.Start) {
				t.Errorf("%s: span %q is %v long", file, s.Name, s.End.Sub(s.Start))
			}
			if i == 0 {
				turn = s
				continue
			}
			if s.Start.Before(turn.Start) || s.End.After(turn.End) {
				t.Errorf("%s: span %q [%v, %v] outside its turn [%v, %v]", file, s.Name, s.Start, s.End, turn.Start, turn.End)
			}
		}
		var last time.Time
		for _, e := range turn.Events {
			if e.Time.Before(turn.Start) || e.Time.After(turn.End) {
				t.Errorf("%s: event %s at %v outside its turn", file, e.Name, e.Time)
			}
			if strings.HasPrefix(e.Name, spanEventTurnPrefix) && e.Name != SpanEventLogMessage && e.Name != SpanEventNodeVisited {
				if e.Time.Before(last) {
					t.Errorf("%s: event %s at %v before the event Watson reported before it", file, e.Name, e.Time)
				}
				last = e.Time
			}
		}
	}
	// 14c: the action started in turn 2; the callout happened somewhere in
	// turn 3, after the step before it: the window is the turn.
	tel := m.Map(decodeFile(t, "../testdata/corpus/14c-multiturn-answer-with-callout.json"), goldenReceived)
	if c := tel.Spans[1]; !c.Start.Equal(tel.Spans[0].Start) || !c.End.Equal(tel.Spans[0].End) {
		t.Errorf("14c: callout [%v, %v], want the turn's window", c.Start, c.End)
	}
	// 02: the action was entered 73 ms into the turn.
	tel = m.Map(decodeFile(t, "../testdata/corpus/02-actions-skill-turn.json"), goldenReceived)
	if d := tel.Spans[0].Events[0].Time.Sub(tel.Spans[0].Start); d != 73*time.Millisecond {
		t.Errorf("02: action_visited at +%v, want +73ms", d)
	}
	// A callout between two timed events lasts at most until the next one.
	tel = m.Map(decodeFile(t, "testdata/edge/timing-action-started-in-turn.json"), goldenReceived)
	if c, g := tel.Spans[1], tel.Spans[2]; !c.End.Equal(g.Start) || c.End.Sub(c.Start) != 340*time.Millisecond {
		t.Errorf("callout [%v, %v], generative call from %v", c.Start, c.End, g.Start)
	}
}

// TestErrorRecordCarriesCodeAndMessage: corpus 16's ERROR record names the
// error by Watson's code and words.
func TestErrorRecordCarriesCodeAndMessage(t *testing.T) {
	tel := goldenMapper(t).Map(decodeFile(t, "../testdata/corpus/16-debug-log-messages-errors.json"), goldenReceived)
	if v, _ := attrOf(tel.Logs[0].Attributes, AttrErrorType); v.AsString() != "dialog_node_output_error" {
		t.Errorf("error.type %q", v.AsString())
	}
	if v, _ := attrOf(tel.Logs[0].Attributes, AttrErrorMessage); !strings.Contains(v.AsString(), "SpEL evaluation error") {
		t.Errorf("error message %q", v.AsString())
	}
}

// TestIntentLabelsNeverCarryText: an intent name that breaks Watson's name
// rules (spaces, "@", too long) or that the redactor would change is
// "invalid" in metric labels, and stays as sent on the span.
func TestIntentLabelsNeverCarryText(t *testing.T) {
	m := redactingMapper(t)
	tel := m.Map(decodeFile(t, "testdata/edge/intent-name-invalid.json"), goldenReceived)
	for _, ms := range tel.Metrics {
		if v, ok := attrOf(ms.Attributes, AttrIntent); ok && v.AsString() != invalidName {
			t.Errorf("metric %s: intent label %q", ms.Instrument.Spec().Name, v.AsString())
		}
	}
	if v, _ := attrOf(tel.Spans[0].Attributes, AttrIntent); !strings.Contains(v.AsString(), " ") {
		t.Errorf("span intent %q", v.AsString())
	}
	for name, want := range map[string]string{
		"order_total": "order_total", "action_13852_intent_24011": "action_13852_intent_24011", "General.Greeting-2": "General.Greeting-2",
		"予約": "予約", "call me": invalidName, "jane@example.com": invalidName, strings.Repeat("a", 129): invalidName,
		"": noIntent,
	} {
		if got := m.metricName(name); got != want {
			t.Errorf("metricName(%q) = %q, want %q", name, got, want)
		}
	}
	if got := m.metricTitle("Book an appointment"); got != "Book an appointment" {
		t.Errorf("title %q", got)
	}
	if got := m.metricTitle("Mail jane@example.com"); got != invalidName {
		t.Errorf("title with an e-mail address: %q", got)
	}
}
