package mapping

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// noIntent is the intent attribute of measurements of turns without one.
const noIntent = "none"

// turnMetrics lists the measurements of one turn. Attributes are bounded:
// assistant name, skill type, intent name and outcome, never ids or texts.
func (m *Mapper) turnMetrics(f *turnFacts, start, end time.Time, traceID trace.TraceID, spanID trace.SpanID) []Measurement {
	agent := AttrGenAIAgentName.String(truncate(f.agentName, 256))
	intent := AttrIntent.String(noIntent)
	if f.top != nil && f.top.Intent != "" {
		intent = AttrIntent.String(m.metricName(f.top.Intent))
	}
	// The action a turn ran labels its intent metrics, by id and title.
	var action []attribute.KeyValue
	if f.action != "" {
		action = []attribute.KeyValue{AttrAction.String(m.metricName(f.action)), AttrActionTitle.String(m.metricTitle(f.actionTitle))}
	}
	// The measurements' attributes are copied into one array (a turn has
	// about 5 measurements of 1 to 4 attributes), each capped so that none
	// grows into the next.
	pool := make([]attribute.KeyValue, 0, 16)
	measure := func(i Instrument, v float64, attrs, more []attribute.KeyValue) Measurement {
		from := len(pool)
		pool = append(append(pool, attrs...), more...)
		return Measurement{Instrument: i, Value: v, Attributes: pool[from:len(pool):len(pool)], TraceID: traceID, SpanID: spanID}
	}
	mk := func(i Instrument, v float64, attrs ...attribute.KeyValue) Measurement {
		return measure(i, v, attrs, nil)
	}
	withAction := func(i Instrument, v float64, attrs ...attribute.KeyValue) Measurement {
		return measure(i, v, attrs, action)
	}
	ms := make([]Measurement, 0, 6+len(f.finished)+len(f.clamped))
	ms = append(ms,
		mk(Turns, 1, agent, AttrSkillType.String(f.skillType), AttrOutcome.String(f.outcome)),
		mk(TurnDuration, end.Sub(start).Seconds(),
			AttrGenAIOperationName.String(OperationInvokeAgent),
			AttrGenAIProviderName.String(ProviderWatsonAssistant), agent),
	)
	if f.turnCount == 1 {
		ms = append(ms, mk(ConversationsStarted, 1, agent))
	}
	if f.top != nil {
		ms = append(ms, withAction(IntentConfidence, float64(f.top.Confidence), agent, intent))
	}
	if f.lowConfidence {
		ms = append(ms, withAction(LowConfidenceTurns, 1, agent, intent))
	}
	if f.notRecognized() {
		ms = append(ms, mk(NotRecognizedTurns, 1, agent, AttrSkillType.String(f.skillType)))
	}
	if f.handoff {
		ms = append(ms, mk(Handoffs, 1, agent))
	}
	skill := AttrSkillType.String(f.skillType)
	if f.hapDetected > 0 {
		ms = append(ms, mk(HAPDetected, float64(f.hapDetected), agent))
	}
	if f.clarification {
		ms = append(ms, mk(Clarifications, 1, agent, skill))
	}
	if f.pick != "" {
		choice := ChoiceSuggestion
		if f.pick == PickNoneOfTheAbove {
			choice = ChoiceNoneOfTheAbove
		}
		ms = append(ms, mk(ClarificationPicks, 1, agent, AttrClarificationChoice.String(choice)))
	}
	if f.recognition == RecognitionRecognized || f.recognition == RecognitionNotRecognized {
		ms = append(ms, mk(Requests, 1, agent, skill, AttrRecognition.String(f.recognition)))
	}
	if f.weak {
		ms = append(ms, mk(WeakUnderstandingTurns, 1, agent, skill))
	}
	if f.fallback {
		ms = append(ms, mk(FallbackTurns, 1, agent, skill))
	}
	if f.ambiguous {
		ms = append(ms, withAction(AmbiguousTurns, 1, agent, intent))
	}
	for _, a := range f.finished {
		ms = append(ms, mk(ActionsFinished, 1, agent, AttrReason.String(a.reason),
			AttrAction.String(m.metricName(a.action)), AttrActionTitle.String(m.metricTitle(a.title))))
	}
	if f.searchOutcome != "" {
		ms = append(ms, mk(Searches, 1, agent, AttrSearchOutcome.String(f.searchOutcome)))
	}
	if f.extensionOK > 0 {
		ms = append(ms, mk(ExtensionCalls, float64(f.extensionOK), agent, AttrExtensionOutcome.String(ExtensionSuccess)))
	}
	if f.extensionFailed > 0 {
		ms = append(ms, mk(ExtensionCalls, float64(f.extensionFailed), agent, AttrExtensionOutcome.String(ExtensionFailure)))
	}
	return ms
}

// invalidName replaces, in metric labels, an intent or action name that
// breaks Watson's naming rules or holds text the redactor would remove.
const invalidName = "invalid"

// metricName is an intent or action name fit for a metric label: Watson's
// rules for intent names (letters, digits, "_", "-", "."; no spaces; at most
// 128 characters) are checked, and a name the redactor would change (it
// looks like personal data) is never exported: both become "invalid".
func (m *Mapper) metricName(s string) string {
	if s == "" {
		return noIntent
	}
	if !validName(s) || m.opts.Redactor.Redact(s) != s {
		return invalidName
	}
	return s
}

// validName checks Watson's intent name rules.
func validName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 128 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// metricTitle is an action title fit for a metric label: "unknown" when the
// log gives none, "invalid" when it holds a control character, text the
// redactor would remove or more than 64 characters.
func (m *Mapper) metricTitle(s string) string {
	if s == "" {
		return "unknown"
	}
	if utf8.RuneCountInString(s) > 64 || m.opts.Redactor.Redact(s) != s || strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
		return invalidName
	}
	return s
}
