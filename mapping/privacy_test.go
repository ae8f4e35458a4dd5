package mapping

import (
	"bytes"
	"strings"
	"testing"

	"github.com/assistant-otel/assistant-otel/redact"
	"github.com/assistant-otel/assistant-otel/watson"
)

// redactingMapper is a mapper with the default options and the built-in redactor.
func redactingMapper(t *testing.T) *Mapper {
	t.Helper()
	r, err := redact.New()
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Redactor = r
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRedactionRunsOnEveryText puts personal data in every place a text is
// exported from and checks none of it leaves, while the rest of the text does.
func TestRedactionRunsOnEveryText(t *testing.T) {
	m := redactingMapper(t)
	body := []byte(`{"event":{"name":"message_logged"},"payload":{"log_id":"pii-1","session_id":"s",
	 "request":{"input":{"text":"mail me at jane.doe@example.com please"}},
	 "response":{"output":{
	   "generic":[{"response_type":"text","text":"Card 4111 1111 1111 1111 noted"}],
	   "entities":[{"entity":"email","value":"jane.doe@example.com"}],
	   "debug":{"log_messages":[{"level":"error","message":"lookup for +44 20 7946 0958 failed","code":"x"}],
	     "turn_events":[{"event":"callout","source":{"action":"a"},"callout":{"request":{"method":"get","url":"h","path":"/users/jane.doe@example.com"}},"error":{"message":"IBAN GB82 WEST 1234 5698 7654 32 rejected"}}]}}}}}`)
	ev, err := watson.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	out := render(m.Map(ev, goldenReceived))
	for _, pii := range []string{"jane.doe@example.com", "4111 1111 1111 1111", "7946 0958", "GB82 WEST"} {
		if strings.Contains(out, pii) {
			t.Errorf("%q exported despite redaction", pii)
		}
	}
	for _, kept := range []string{"mail me at", "[REDACTED:email]", "[REDACTED:card]", "[REDACTED:phone]", "[REDACTED:iban]", "/users/"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q missing: redaction removed too much or did not run", kept)
		}
	}
}

func TestPerAssistantNames(t *testing.T) {
	opts := DefaultOptions()
	opts.AssistantName = "fallback name"
	opts.AssistantNames = func(id string) (string, bool) {
		if id == "0ddd74a5-98d0-4bb0-9f6c-6cc5ba9e7068" {
			return "Acme Retail", true
		}
		return "", false
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tel := m.Map(decodeFile(t, "../testdata/corpus/14a-multiturn-welcome.json"), goldenReceived)
	if tel.Spans[0].Name != "invoke_agent Acme Retail" {
		t.Errorf("span name %q, want the per-assistant name", tel.Spans[0].Name)
	}
	tel = m.Map(decodeFile(t, "../testdata/corpus/01-dialog-clear-intent-two-entities.json"), goldenReceived)
	if tel.Spans[0].Name != "invoke_agent fallback name" {
		t.Errorf("span name %q, want the default name for an unlisted assistant", tel.Spans[0].Name)
	}
}

func TestContextAllowList(t *testing.T) {
	allow, err := redact.NewContextAllowList("skills.actions skill.skill_variables.last_order_id", "global.system.timezone")
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.ContextAllow = allow
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeFile(t, "../testdata/corpus/14c-multiturn-answer-with-callout.json")
	out := render(m.Map(ev, goldenReceived))
	for _, want := range []string{
		`watson_assistant.context.skills.actions skill.skill_variables.last_order_id = "A-1042"`,
		`watson_assistant.context.global.system.timezone = "Europe/London"`,
	} {
		if strings.Count(out, want) != 2 { // span and log record
			t.Errorf("want %s on the span and the log record:\n%s", want, out)
		}
	}
	if strings.Contains(out, "recent_orders") || strings.Contains(out, "state") {
		t.Error("context variables outside the allow-list exported")
	}
	// Not listed: nothing. Content off: nothing.
	opts.CaptureContent = false
	off, _ := New(opts)
	if strings.Contains(render(off.Map(ev, goldenReceived)), AttrContextPrefix) {
		t.Error("context exported with content capture off")
	}
	plain := goldenMapper(t)
	if strings.Contains(render(plain.Map(ev, goldenReceived)), AttrContextPrefix) {
		t.Error("context exported without an allow-list")
	}
	if !bytes.Contains(ev.Raw, []byte("last_order_id")) {
		t.Fatal("fixture lost its context")
	}
}

// TestEveryReplyExported: hand-off messages, search results, citations and
// every response type with text are exported, redacted, and only with
// content capture on; a welcome turn exports no empty user message.
func TestEveryReplyExported(t *testing.T) {
	m := redactingMapper(t)
	body := []byte(`{"event":{"name":"message_logged"},"payload":{"log_id":"reply-1","session_id":"s",
	 "request":{"input":{"text":"agent please"}},
	 "response":{"output":{"generic":[
	   {"response_type":"connect_to_agent","message_to_human_agent":"call back jane.doe@example.com","topic":"Refunds",
	    "agent_available":{"message":"one moment"},"agent_unavailable":{"message":"nobody is here"},
	    "transfer_info":{"target":{"zendesk":{"department":"Refunds"}}}},
	   {"response_type":"search","header":"Found","primary_results":[{"title":"Cards","body":"card 4111 1111 1111 1111 is blocked"}]},
	   {"response_type":"conversational_search","text":"Answer","citations_title":"Sources","citations":[{"title":"Policy","text":"cited words"}]}]}}}}`)
	ev, err := watson.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	out := render(m.Map(ev, goldenReceived))
	for _, want := range []string{"call back [REDACTED:email]", "one moment", "nobody is here", `"Refunds"`,
		`department`, "Cards: card [REDACTED:card] is blocked", "Sources", "Policy: cited words"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q not exported", want)
		}
	}
	if strings.Contains(out, "jane.doe@example.com") || strings.Contains(out, "4111 1111") {
		t.Error("a reply was exported without redaction")
	}
	opts := m.opts
	opts.CaptureContent = false
	off, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if out := render(off.Map(ev, goldenReceived)); strings.Contains(out, "nobody is here") || strings.Contains(out, "cited words") ||
		strings.Contains(out, "watson_assistant.handoff.") {
		t.Error("replies exported with content capture off")
	}
	welcome := m.Map(decodeFile(t, "../testdata/corpus/14a-multiturn-welcome.json"), goldenReceived)
	if out := render(welcome); strings.Contains(out, string(AttrGenAIInputMessages)) || strings.Contains(out, string(AttrInputText)) {
		t.Error("the welcome turn exports an empty user message")
	}
	if out := render(welcome); !strings.Contains(out, string(AttrGenAIOutputMessages)) {
		t.Error("the welcome turn lost its reply")
	}
}
