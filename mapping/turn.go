package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/watson"
)

// Skill types.
const (
	SkillDialog  = "dialog"
	SkillActions = "actions"
	SkillSearch  = "search"
	SkillUnknown = "unknown"
)

// turnFacts is what the mapping concludes about one turn before it builds
// any telemetry.
type turnFacts struct {
	clamped                                  clamps // why numbers of the payload were clamped
	sessionID, channel, skillType, agentName string
	userID                                   string
	turnCount                                int64
	top, runnerUp                            *watson.Intent
	fallback, weak, lowConfidence, handoff   bool
	recognition                              string // Recognition* verdict
	clarification                            bool   // Watson asked "Did you mean" (a suggestion response)
	candidates                               []watson.Intent
	candidateLabels                          []string
	pick                                     string // on the turn after a clarification: the intent picked, or PickNoneOfTheAbove
	stepAnswer                               bool   // the input answered a step, slot or node question
	spellingCorrected                        bool
	margin                                   float64 // top minus runner-up confidence
	hasMargin, ambiguous                     bool
	searchOutcome                            string // "" when the turn did not search
	finished                                 []finishedAction
	action, actionTitle                      string // the action the turn ran (actions skill)
	intentTitle                              string // title of the action the top intent belongs to
	extensionOK, extensionFailed             int
	errors                                   int
	firstError                               string
	errorType, errorMessage                  string // of the first error: a code, and Watson's words
	warnings                                 int    // warn-level log messages
	hapDetected                              int    // generative answers in which HAP was detected
	outcome                                  string
	responseTypes                            []string
}

func (m *Mapper) analyze(l *watson.Log) turnFacts {
	out := &l.Response.Output
	ctx := &l.Response.Context
	f := turnFacts{
		sessionID: firstNonEmpty(l.SessionID, ctx.Global.SessionID, l.Request.Context.Global.SessionID),
		channel:   firstNonEmpty(ctx.Integrations.Channel.Name, l.Request.Context.Integrations.Channel.Name),
		agentName: m.agentName(l.AssistantID),
		userID: firstNonEmpty(l.Request.UserID, l.Response.UserID, ctx.Global.System.UserID,
			l.Request.Context.Global.System.UserID, l.CustomerID),
		turnCount: int64(ctx.Global.System.TurnCount),
	}
	f.skillType = skillType(l)

	for i := range out.Intents {
		in := &out.Intents[i]
		if in.Intent == "" {
			continue // a nameless intent recognises nothing
		}
		switch {
		case f.top == nil || in.Confidence > f.top.Confidence:
			f.runnerUp, f.top = f.top, in
		case f.runnerUp == nil || in.Confidence > f.runnerUp.Confidence:
			f.runnerUp = in
		}
	}
	// Confidences outside [0, 1] are clamped on copies (a 1e308 would pin
	// the histogram's sum); NaN ranks nowhere and counts as 0.
	f.top, f.runnerUp = f.clamped.intent(f.top), f.clamped.intent(f.runnerUp)
	f.lowConfidence = f.top != nil && float64(f.top.Confidence) < m.opts.LowConfidenceThreshold
	f.clarify(l)
	f.margin, f.hasMargin, f.ambiguous = m.ambiguity(f.top, f.runnerUp)
	f.ambiguous = f.ambiguous || f.clarification
	f.searchOutcome = searchOutcome(out)
	titles := actionTitles(&out.Debug)
	f.finished = finishedActions(&out.Debug, titles)
	f.action = turnAction(&out.Debug)
	f.actionTitle = titles[f.action]
	if f.top != nil {
		f.intentTitle = titles[intentAction(f.top.Intent)]
	}
	f.extensionOK, f.extensionFailed = extensionCalls(&out.Debug)
	f.fallback = isFallback(&out.Debug)
	f.stepAnswer = isStepAnswer(l)
	f.spellingCorrected = out.Spelling != nil && out.Spelling.OriginalText != "" && out.Spelling.OriginalText != out.Spelling.Text

	for _, g := range out.Generic {
		if g.ResponseType == "connect_to_agent" {
			f.handoff = true
		}
		if g.ResponseType != "" && !contains(f.responseTypes, g.ResponseType) {
			f.responseTypes = append(f.responseTypes, g.ResponseType)
		}
	}
	for _, e := range out.Debug.TurnEvents {
		if e.Event == "generative_ai_called" && e.GenerativeAI != nil && e.GenerativeAI.IsHAPDetected {
			f.hapDetected++
		}
		if e.Event == "action_finished" && e.Reason == "connect_to_agent" {
			f.handoff = true
		}
		var msg string
		if e.Error != nil {
			msg = e.Error.Message
		}
		switch {
		case e.IsExtensionCall() && e.Callout.Response != nil && e.Callout.Response.StatusCode >= 400:
			code := int64(e.Callout.Response.StatusCode)
			f.addError(fmt.Sprintf("extension returned HTTP %d", code), strconv.FormatInt(code, 10), msg)
		case e.IsExtensionCall() && e.Error != nil:
			f.addError("turn_event_error", "extension_error", msg)
		case e.Error != nil:
			f.addError("turn_event_error", "turn_event_error", msg)
		}
	}
	for _, lm := range out.Debug.LogMessages {
		switch strings.ToLower(lm.Level) {
		case "error":
			code := firstNonEmpty(lm.Code, "watson_error")
			f.addError(code, code, lm.Message)
		case "warn", "warning":
			f.warnings++
		}
	}

	// A fallback that an error or a warned failure forced (an intent was
	// recognised, then, e.g., a failed jump sent the dialog to "Anything
	// else") says nothing about understanding: the intent stands.
	if f.fallback && f.errors+f.warnings > 0 && f.top != nil {
		f.fallback = false
	}
	hasInput := strings.TrimSpace(l.Request.Input.Text) != ""
	if hasInput && f.skillType != SkillActions && f.skillType != SkillSearch &&
		len(out.Intents) == 0 && len(out.Entities) == 0 {
		// Dialog: a message with neither intent nor entity is weak
		// understanding unless a node other than the fallback took it (a
		// slot, a node's question).
		f.stepAnswer = f.stepAnswer || answeredByNode(&out.Debug)
		f.weak = !f.stepAnswer
	}
	switch {
	case f.pick == PickNoneOfTheAbove:
		f.recognition = RecognitionNotRecognized
	case f.pick != "":
		f.recognition = RecognitionRecognized
	case !hasInput:
		f.recognition = RecognitionNone
	case f.clarification:
		f.recognition = RecognitionClarification
	case f.skillType == SkillSearch:
		f.recognition = RecognitionSearch
	case f.stepAnswer:
		f.recognition = RecognitionStepAnswer
	case f.fallback || f.weak:
		f.recognition = RecognitionNotRecognized
	default:
		f.recognition = RecognitionRecognized
	}
	// Confidence judges a recognition attempt only.
	if f.recognition != RecognitionRecognized && f.recognition != RecognitionNotRecognized || f.pick != "" {
		f.lowConfidence = false
	}

	switch {
	case f.errors > 0:
		f.outcome = OutcomeError
	case f.handoff:
		f.outcome = OutcomeHandoff
	case f.clarification:
		f.outcome = OutcomeClarification
	case f.searchOutcome == SearchAnswered:
		f.outcome = OutcomeAnsweredBySearch
	case f.notRecognized():
		f.outcome = OutcomeNotRecognized
	case f.searchOutcome != "":
		f.outcome = OutcomeNoAnswer
	case f.lowConfidence:
		f.outcome = OutcomeLowConfidence
	case !hasInput:
		f.outcome = OutcomeWelcome
	default:
		f.outcome = OutcomeAnswered
	}
	return f
}

func (f *turnFacts) addError(what, errorType, message string) {
	if f.errors == 0 {
		f.firstError, f.errorType, f.errorMessage = what, errorType, message
	}
	f.errors++
}

// maxCandidates bounds the clarification candidates exported.
const maxCandidates = 5

// clarify reads a clarifying question ("Did you mean": a suggestion
// response) and its candidates, and on the turn after one, the user's pick.
// The turn's own intents often hold only the top candidate: the runner-up
// then comes from the candidates.
func (f *turnFacts) clarify(l *watson.Log) {
	for _, g := range l.Response.Output.Generic {
		if g.ResponseType != "suggestion" {
			continue
		}
		f.clarification = true
		for _, c := range g.Suggestions {
			top := topIntent(c.Value.Input.Intents)
			if top == nil || len(f.candidates) == maxCandidates {
				continue // "None of the above" names no intent
			}
			f.candidates = append(f.candidates, *f.clamped.intent(top))
			f.candidateLabels = append(f.candidateLabels, c.Label)
		}
	}
	for i := range f.candidates {
		c := &f.candidates[i]
		switch {
		case f.top == nil:
			f.top = c
		case c.Intent == f.top.Intent:
		case f.runnerUp == nil || c.Confidence > f.runnerUp.Confidence:
			f.runnerUp = c
		}
	}
	if in := &l.Request.Input; in.SuggestionID != "" {
		if top := topIntent(in.Intents); top != nil {
			f.pick = top.Intent
		} else {
			f.pick = PickNoneOfTheAbove
		}
	}
}

func topIntent(intents []watson.Intent) *watson.Intent {
	var top *watson.Intent
	for i := range intents {
		if intents[i].Intent != "" && (top == nil || intents[i].Confidence > top.Confidence) {
			top = &intents[i]
		}
	}
	return top
}

func (f *turnFacts) notRecognized() bool { return f.recognition == RecognitionNotRecognized }

// isStepAnswer reports a turn whose input answered a question the assistant
// had asked: an actions step (step_answered), or input Watson masked with
// asterisks because it fills a private variable. Such input is not a request.
func isStepAnswer(l *watson.Log) bool {
	for _, e := range l.Response.Output.Debug.TurnEvents {
		if e.Event == "step_answered" {
			return true
		}
	}
	t := strings.TrimSpace(l.Request.Input.Text)
	return t != "" && strings.Trim(t, "*") == "" ||
		len(l.Response.Output.Intents) == 0 && continuesAction(&l.Response.Output.Debug)
}

// continuesAction reports an actions turn that entered no action (callers
// check that it recognised no intent either): the input
// went to the step an earlier turn asked (a validation retry, a handler),
// not to recognition. A request always visits an action (the one it
// matched, or "No matches").
func continuesAction(d *watson.Debug) bool {
	if len(d.TurnEvents) == 0 {
		return false
	}
	for _, e := range d.TurnEvents {
		switch e.Event {
		case "action_visited", "generative_ai_called", "conversational_search_end", "search":
			return false
		}
	}
	return true
}

// answeredByNode reports a dialog turn that a node other than the fallback
// handled: with no intent and no entity, the input can only have matched a
// slot, a node's own condition or a question's answer, which IBM does not
// count as weak understanding.
func answeredByNode(d *watson.Debug) bool {
	if len(d.NodesVisited) == 0 || d.BranchExitedReason == "fallback" {
		return false
	}
	for _, n := range d.NodesVisited {
		if n.Conditions == "anything_else" || n.DialogNode == "Anything else" {
			return false
		}
	}
	return true
}

// skillType tells which kind of skill answered the turn.
func skillType(l *watson.Log) string {
	d := &l.Response.Output.Debug
	skills := l.Response.Context.Skills
	_, actions := skills["actions skill"]
	_, dialog := skills["main skill"]
	switch {
	case l.Request.Input.MessageType == "search":
		return SkillSearch
	case len(d.TurnEvents) > 0:
		return SkillActions
	case len(d.NodesVisited) > 0:
		return SkillDialog
	case actions && !dialog:
		return SkillActions
	case dialog && !actions:
		return SkillDialog
	default:
		return SkillUnknown
	}
}

// isFallback reports the "Anything else" node, "No action matches" or a
// fallback branch exit.
func isFallback(d *watson.Debug) bool {
	if d.BranchExitedReason == "fallback" {
		return true
	}
	for _, n := range d.NodesVisited {
		if n.Conditions == "anything_else" || n.DialogNode == "Anything else" {
			return true
		}
	}
	for _, e := range d.TurnEvents {
		if e.ConditionType == "anything_else" || e.Reason == "no_action_matches" || e.Source.Action == "anything_else" {
			return true
		}
	}
	for _, g := range d.OutputGenericMapping {
		if g.Source.Action == "anything_else" {
			return true
		}
	}
	return false
}

func (m *Mapper) mapTurn(l *watson.Log, received time.Time) Telemetry {
	f := m.analyze(l)
	start, end := m.window(l.RequestTimestamp, l.ResponseTimestamp, received, &f.clamped)
	if end.Sub(start) > MaxTurnLatency {
		end = start.Add(MaxTurnLatency)
		f.clamped.add(ClampLatency)
	}
	spanEnd := extent(start, end) // no zero-length span, even without a duration

	var traceID trace.TraceID
	if f.sessionID != "" {
		traceID = ConversationTraceID(f.sessionID)
	} else {
		traceID = StatelessTraceID(l.LogID)
	}
	spanID := TurnSpanID(l.LogID)
	n := m.opts.MaxTextLength
	out := &l.Response.Output

	// Attributes shared by the span and the log record: the span's first
	// ones, in one array sized for a turn's span (29 to 40 attributes in the corpus).
	common := make([]attribute.KeyValue, 0, 48)
	common = append(common,
		AttrGenAIOperationName.String(OperationInvokeAgent),
		AttrGenAIProviderName.String(ProviderWatsonAssistant),
		AttrGenAIAgentName.String(truncate(f.agentName, n)),
		AttrGenAIResponseID.String(truncate(l.LogID, n)),
		AttrSkillType.String(f.skillType),
		AttrOutcome.String(f.outcome),
		AttrRecognition.String(f.recognition),
	)
	sid := truncate(f.sessionID, n)
	common = appendNonEmpty(common, AttrGenAIAgentID.String(truncate(l.AssistantID, n)),
		AttrGenAIConversationID.String(sid), AttrSessionID.String(sid))
	if f.top != nil {
		common = append(common,
			AttrIntent.String(truncate(f.top.Intent, n)),
			AttrIntentConfidence.Float64(float64(f.top.Confidence)))
	}
	common = appendNonEmpty(common,
		AttrIntentActionTitle.String(truncate(f.intentTitle, n)),
		AttrAction.String(truncate(f.action, n)),
		AttrActionTitle.String(truncate(f.actionTitle, n)))
	if f.turnCount > 0 {
		common = append(common, AttrTurnCount.Int64(f.turnCount))
	}
	if f.channel != "" {
		common = append(common, AttrChannel.String(truncate(f.channel, n)))
	}
	if len(m.opts.PseudonymKey) > 0 && f.userID != "" {
		common = append(common, AttrEnduserPseudoID.String(m.pseudonym(f.userID)))
	}
	entityNames := make([]string, 0, len(out.Entities))
	for _, e := range out.Entities {
		entityNames = append(entityNames, truncate(e.Entity, n))
	}
	common = append(common,
		AttrLowConfidence.Bool(f.lowConfidence),
		AttrNotRecognized.Bool(f.notRecognized()),
		AttrFallback.Bool(f.fallback),
		AttrWeakUnderstanding.Bool(f.weak),
		AttrAmbiguous.Bool(f.ambiguous),
		AttrHandoff.Bool(f.handoff),
	)
	if f.searchOutcome != "" {
		common = append(common, AttrSearchOutcome.String(f.searchOutcome))
	}
	if len(entityNames) > 0 {
		common = append(common, AttrEntityNames.StringSlice(entityNames))
	}
	if len(f.candidates) > 0 {
		names := make([]string, len(f.candidates))
		confs := make([]float64, len(f.candidates))
		for i, c := range f.candidates {
			names[i], confs[i] = truncate(c.Intent, n), float64(c.Confidence)
		}
		common = append(common, AttrClarificationCandidates.StringSlice(names),
			AttrClarificationConfidences.Float64Slice(confs))
		if m.opts.CaptureContent {
			labels := make([]string, len(f.candidateLabels))
			for i, l := range f.candidateLabels {
				labels[i] = m.content(l)
			}
			common = append(common, AttrClarificationLabels.StringSlice(labels))
		}
	}
	if f.hapDetected > 0 {
		common = append(common, AttrGenAIHAPDetected.Bool(true))
	}
	if f.pick != "" {
		common = append(common, AttrClarificationPick.String(truncate(f.pick, n)),
			AttrSuggestionID.String(truncate(l.Request.Input.SuggestionID, n)))
	}

	// The log record's attributes are the common ones and up to a dozen more.
	logAttrs := append(make([]attribute.KeyValue, 0, len(common)+12), common...)
	spanAttrs := append(common,
		AttrIntentCount.Int(len(out.Intents)),
		AttrEntityCount.Int(len(out.Entities)),
		AttrSpellingCorrected.Bool(f.spellingCorrected),
		AttrLatencyMS.Int64(end.Sub(start).Milliseconds()),
	)
	spanAttrs = append(spanAttrs, f.clamped.attrs()...)
	spanAttrs = appendNonEmpty(spanAttrs,
		AttrSkillID.String(truncate(l.SkillID, n)),
		AttrSnapshot.String(truncate(l.Snapshot, n)),
		AttrLanguage.String(truncate(l.Language, n)),
		AttrMessageType.String(truncate(l.Request.Input.MessageType, n)))
	if f.runnerUp != nil {
		spanAttrs = append(spanAttrs,
			AttrRunnerUpIntent.String(truncate(f.runnerUp.Intent, n)),
			AttrRunnerUpConfidence.Float64(float64(f.runnerUp.Confidence)))
	}
	if f.hasMargin {
		spanAttrs = append(spanAttrs, AttrIntentMargin.Float64(math.Round(f.margin*1e6)/1e6))
	}
	if f.extensionFailed > 0 {
		spanAttrs = append(spanAttrs, AttrExtensionFailures.Int(f.extensionFailed))
	}
	if len(f.responseTypes) > 0 {
		spanAttrs = append(spanAttrs, AttrResponseTypes.StringSlice(truncateAll(f.responseTypes, n)))
	}
	if len(out.Actions) > 0 {
		names := make([]string, 0, len(out.Actions))
		for _, a := range out.Actions {
			names = append(names, truncate(a.Name, n))
		}
		spanAttrs = append(spanAttrs, AttrActions.StringSlice(names))
	}
	if f.errors > 0 {
		spanAttrs = append(spanAttrs, AttrErrorCount.Int(f.errors))
	}

	var outTexts []string
	if m.opts.CaptureContent {
		for _, t := range outputTexts(out.Generic) {
			outTexts = append(outTexts, m.content(t))
		}
		spanAttrs = append(spanAttrs, AttrGenAIOutputMessages.String(messagesJSON("assistant", "stop", outTexts)))
		// A welcome turn has no user message: none is exported.
		if strings.TrimSpace(l.Request.Input.Text) != "" {
			in := m.content(l.Request.Input.Text)
			spanAttrs = append(spanAttrs, AttrGenAIInputMessages.String(messagesJSON("user", "", []string{in})))
			logAttrs = append(logAttrs, AttrInputText.String(in))
		}
		h := handoffTexts(out.Generic)
		for _, kv := range []attribute.KeyValue{
			AttrHandoffMessageToAgent.String(h.toAgent),
			AttrHandoffAgentAvailable.String(h.available),
			AttrHandoffAgentUnavailable.String(h.unavailable),
			AttrHandoffTopic.String(h.topic),
			AttrHandoffTransferTarget.String(h.target),
		} {
			if v := kv.Value.AsString(); v != "" {
				kv.Value = attribute.StringValue(m.content(v))
				spanAttrs = append(spanAttrs, kv)
				logAttrs = append(logAttrs, kv)
			}
		}
		if vals := m.entityValues(out.Entities); len(vals) > 0 {
			spanAttrs = append(spanAttrs, AttrEntityValues.StringSlice(vals))
			logAttrs = append(logAttrs, AttrEntityValues.StringSlice(vals))
		}
		logAttrs = append(logAttrs, AttrOutputText.String(truncate(strings.Join(outTexts, "\n"), n)))
		ctxAttrs := m.contextAttrs(l.Response.Context.Raw)
		spanAttrs = append(spanAttrs, ctxAttrs...)
		logAttrs = append(logAttrs, ctxAttrs...)
	}

	turn := Span{
		TraceID:    traceID,
		SpanID:     spanID,
		Name:       m.turnSpanName(&f, n),
		Kind:       trace.SpanKindServer,
		Start:      start,
		End:        spanEnd,
		Attributes: spanAttrs,
		Events:     m.turnEvents(l, start, spanEnd),
	}
	if f.errors > 0 {
		turn.Status, turn.StatusDescription = codes.Error, truncate(f.firstError, n)
	}
	spans := append([]Span{turn}, m.childSpans(l, traceID, spanID, start, spanEnd)...)

	rec := LogRecord{
		EventName:  EventNameTurn,
		Time:       end,
		Attributes: logAttrs,
		TraceID:    traceID,
		SpanID:     spanID,
		Body:       m.turnBody(l, &f),
	}
	// Severity: the worst of Watson's log message levels and errors, and of
	// the turn's verdict.
	switch {
	case f.errors > 0:
		rec.Severity, rec.SeverityText = log.SeverityError, "ERROR"
		rec.Attributes = append(rec.Attributes, AttrErrorType.String(truncate(f.errorType, n)))
		if m.opts.CaptureContent && f.errorMessage != "" {
			rec.Attributes = append(rec.Attributes, AttrErrorMessage.String(m.content(f.errorMessage)))
		}
	case f.warnings > 0 || f.hapDetected > 0 || f.outcome == OutcomeNotRecognized || f.outcome == OutcomeNoAnswer || f.outcome == OutcomeLowConfidence:
		rec.Severity, rec.SeverityText = log.SeverityWarn, "WARN"
	default:
		rec.Severity, rec.SeverityText = log.SeverityInfo, "INFO"
	}

	return Telemetry{
		Spans:   spans,
		Logs:    []LogRecord{rec},
		Metrics: append(m.turnMetrics(&f, start, end, traceID, spanID), f.clamped.measurements(traceID, spanID)...),
	}
}

// turnSpanName is the name of a turn's root span (Options.TurnSpanName). The
// descriptive name holds no user content: the turn number, then the action
// title, the top intent or else the outcome (names from the assistant's design).
func (m *Mapper) turnSpanName(f *turnFacts, n int) string {
	if m.opts.TurnSpanName != TurnSpanNameDescriptive {
		return OperationInvokeAgent + " " + truncate(f.agentName, n)
	}
	what := f.outcome
	switch {
	case f.actionTitle != "":
		what = f.actionTitle
	case f.top != nil:
		what = f.top.Intent
	}
	name := "turn"
	if f.turnCount > 0 {
		name = fmt.Sprintf("turn %d", f.turnCount)
	}
	if what != "" {
		name += ": " + what
	}
	return truncate(name, MaxDescriptiveSpanName)
}

// turnBody is the log record's message: the user's words when content is
// captured (so an alert leads straight to the utterance), a summary otherwise.
func (m *Mapper) turnBody(l *watson.Log, f *turnFacts) string {
	if m.opts.CaptureContent && l.Request.Input.Text != "" {
		return m.content(l.Request.Input.Text)
	}
	intent := "no intent"
	if f.top != nil {
		intent = fmt.Sprintf("intent %s (%.2f)", truncate(f.top.Intent, 128), float64(f.top.Confidence))
	}
	return truncate(fmt.Sprintf("turn %s: %s", f.outcome, intent), m.opts.MaxTextLength)
}

func (m *Mapper) entityValues(entities []watson.Entity) []string {
	vals := make([]string, 0, len(entities))
	for _, e := range entities {
		vals = append(vals, m.content(e.Entity+"="+e.Value))
	}
	return vals
}

func truncateAll(ss []string, n int) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = truncate(s, n)
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
