package mapping

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/watson"
)

// SpanNameCall is the name of a phone call's span.
const SpanNameCall = "phone_call"

// endReasons are the documented call end reasons. Any other value is
// counted as "other" in metrics so they stay bounded.
var endReasons = map[string]bool{
	"assistant_transfer": true,
	"assistant_hangup":   true,
	"caller_hangup":      true,
	"failed":             true,
}

// mapCall turns a phone call summary into a call span linked to every turn it
// lists, a log record for the call and one per warning or error, and call
// metrics. Phone numbers, SIP headers and injected custom data are never
// exported.
func (m *Mapper) mapCall(c *watson.CDR, received time.Time) Telemetry {
	// Durations out of range are clamped on a copy: the payload is never
	// modified.
	var cl clamps
	cc := *c
	c = &cc
	c.Call.MillisecondsElapsed = cl.millis(c.Call.MillisecondsElapsed)
	c.SIP.SetupMilliseconds = cl.millis(c.SIP.SetupMilliseconds)
	c.MaxResponseMilliseconds.Assistant = cl.millis(c.MaxResponseMilliseconds.Assistant)
	c.MaxResponseMilliseconds.TextToSpeech = cl.millis(c.MaxResponseMilliseconds.TextToSpeech)
	c.MaxResponseMilliseconds.SpeechToText = cl.millis(c.MaxResponseMilliseconds.SpeechToText)
	for _, st := range []*watson.RTPStream{&c.Network.Inbound, &c.Network.Outbound} {
		st.AverageJitter, st.MaximumJitter = cl.millis(st.AverageJitter), cl.millis(st.MaximumJitter)
		st.PacketsLost, st.PacketsTransmitted = cl.count(st.PacketsLost), cl.count(st.PacketsTransmitted)
	}
	start, stop := m.window(c.Call.StartTimestamp, c.Call.StopTimestamp, received, &cl)
	if stop.Sub(start) > MaxCallDuration {
		stop = start.Add(MaxCallDuration)
		cl.add(ClampDuration)
	}
	elapsed := time.Duration(float64(c.Call.MillisecondsElapsed) * float64(time.Millisecond))
	if c.Call.StartTimestamp == "" && c.Call.StopTimestamp != "" && elapsed > 0 {
		start = stop.Add(-elapsed) // only the stop time and the duration are known
	}
	durationMS := float64(c.Call.MillisecondsElapsed)
	if durationMS <= 0 && c.Call.StartTimestamp != "" && c.Call.StopTimestamp != "" {
		durationMS = float64(stop.Sub(start).Milliseconds())
	}
	n := m.opts.MaxTextLength
	endReason := firstNonEmpty(c.Call.EndReason, reasonUnknown)
	failed := c.FailureOccurred || c.Call.EndReason == "failed"

	var assistantID string
	var sessions []string
	turns := 0
	var sttSum, sttMin float64
	var sttN int
	for _, s := range c.AssistantInteractionSummaries {
		turns += len(s.Turns)
		assistantID = firstNonEmpty(assistantID, s.AssistantID)
		if s.SessionID != "" && !contains(sessions, s.SessionID) {
			sessions = append(sessions, s.SessionID)
		}
		for _, t := range s.Turns {
			cl.sttConfidence(&t) // out of range: left out, and counted
			if conf, ok := sttConfidence(&t); ok {
				if sttN == 0 || conf < sttMin {
					sttMin = conf
				}
				sttSum += conf
				sttN++
			}
		}
	}
	// The call joins its conversation: gen_ai.conversation.id and session.id
	// are the assistant session the summary lists (the session id every
	// turn of the call carries), so a search by conversation id finds the
	// call with its turns. Watson's global_session_id (the call's own id,
	// which no turn carries) has an attribute of its own.
	conversationID := c.GlobalSessionID
	if len(sessions) > 0 {
		conversationID = sessions[0]
	}
	agentName := m.agentName(assistantID)
	var codesSeen []string
	for _, w := range c.WarningsAndErrors {
		if code := firstNonEmpty(w.Code, w.ID); code != "" {
			codesSeen = append(codesSeen, truncate(code, 64))
		}
	}
	attrs := nonEmpty(
		AttrGenAIAgentName.String(truncate(agentName, n)),
		AttrGenAIAgentID.String(truncate(assistantID, n)),
		AttrCallEndReason.String(truncate(endReason, 64)),
		AttrCallTransfer.Bool(c.TransferOccurred),
		AttrCallFailure.Bool(failed),
		AttrCallOutbound.Bool(c.Call.Outbound),
		AttrCallDurationMS.Float64(durationMS),
		AttrCallTurnCount.Int(turns),
		AttrCallMaxAssistantMS.Float64(float64(c.MaxResponseMilliseconds.Assistant)),
		AttrCallMaxTextToSpeechMS.Float64(float64(c.MaxResponseMilliseconds.TextToSpeech)),
		AttrCallMaxSpeechToTextMS.Float64(float64(c.MaxResponseMilliseconds.SpeechToText)),
		AttrGenAIConversationID.String(truncate(conversationID, n)),
		AttrCallGlobalSessionID.String(truncate(c.GlobalSessionID, n)),
	)
	if len(sessions) > 0 {
		attrs = append(attrs, AttrSessionID.String(truncate(sessions[0], n)))
	}
	if len(sessions) > 1 {
		attrs = append(attrs, AttrCallSessionIDs.StringSlice(truncateAll(sessions, n)))
	}
	attrs = append(attrs, cl.attrs()...)
	if len(codesSeen) > 0 {
		attrs = append(attrs, AttrCallWarningCodes.StringSlice(codesSeen))
	}
	if sttN > 0 {
		attrs = append(attrs, AttrCallSTTConfidenceMin.Float64(sttMin),
			AttrCallSTTConfidenceAvg.Float64(math.Round(sttSum/float64(sttN)*1e6)/1e6))
	}
	if ms := float64(c.SIP.SetupMilliseconds); ms > 0 {
		attrs = append(attrs, AttrCallSIPSetupMS.Float64(ms))
	}
	for _, st := range []struct {
		dir string
		s   watson.RTPStream
	}{{DirectionInbound, c.Network.Inbound}, {DirectionOutbound, c.Network.Outbound}} {
		if st.s.PacketsTransmitted+st.s.PacketsLost <= 0 {
			continue
		}
		p := "watson_assistant.call.rtp." + st.dir + "."
		attrs = append(attrs,
			attribute.Float64(p+"packets_lost", float64(st.s.PacketsLost)),
			attribute.Float64(p+"packets_transmitted", float64(st.s.PacketsTransmitted)),
			attribute.Float64(p+"jitter.average_ms", float64(st.s.AverageJitter)),
			attribute.Float64(p+"jitter.maximum_ms", float64(st.s.MaximumJitter)))
	}

	var tel Telemetry
	traceID, spanID := callIDs(c)
	if traceID.IsValid() {
		span := Span{
			TraceID:    traceID,
			SpanID:     spanID,
			Name:       SpanNameCall,
			Kind:       trace.SpanKindServer,
			Start:      start,
			End:        extent(start, stop),
			Attributes: attrs,
			Links:      turnLinks(c, n),
		}
		if failed {
			span.Status, span.StatusDescription = codes.Error, "call failed: "+truncate(endReason, 64)
			if m.opts.CaptureContent && c.FailureDetails != "" {
				span.StatusDescription = m.content(redactPhone(c.FailureDetails))
			}
		}
		tel.Spans = []Span{span}
	}

	rec := LogRecord{
		EventName:    EventNameCall,
		Time:         stop,
		Severity:     log.SeverityInfo,
		SeverityText: "INFO",
		Body:         fmt.Sprintf("phone call ended: %s", truncate(endReason, 64)),
		Attributes:   attrs,
		TraceID:      traceID,
		SpanID:       spanID,
	}
	switch {
	case failed:
		rec.Severity, rec.SeverityText = log.SeverityError, "ERROR"
	case len(c.WarningsAndErrors) > 0:
		rec.Severity, rec.SeverityText = log.SeverityWarn, "WARN"
	}
	tel.Logs = append(tel.Logs, rec)
	tel.Logs = append(tel.Logs, m.callWarnings(c, stop, traceID, spanID)...)
	tel.Metrics = m.callMetrics(c, agentName, endReason, failed, durationMS/1000, traceID, spanID)
	tel.Metrics = append(tel.Metrics, cl.measurements(traceID, spanID)...)
	return tel
}

// callIDs are the trace and span ids of a call: from its global session id,
// else from the first turn it lists. A call with neither has no span.
func callIDs(c *watson.CDR) (trace.TraceID, trace.SpanID) {
	key := c.GlobalSessionID
	if key == "" {
		for _, s := range c.AssistantInteractionSummaries {
			for _, t := range s.Turns {
				if key == "" && t.Assistant.LogID != "" {
					key = "first-turn\x00" + t.Assistant.LogID
				}
			}
		}
	}
	if key == "" {
		return trace.TraceID{}, trace.SpanID{}
	}
	return CallTraceID(key), CallSpanID(key)
}

// turnLinks links the call to the span of every turn it lists: the turn's
// trace is its conversation's (or its own when the turn has no session), its
// span id comes from the log id, exactly as mapTurn derives them.
func turnLinks(c *watson.CDR, n int) []Link {
	var links []Link
	seen := map[string]bool{}
	for _, s := range c.AssistantInteractionSummaries {
		for _, t := range s.Turns {
			logID := t.Assistant.LogID
			if logID == "" || seen[logID] {
				continue
			}
			seen[logID] = true
			l := Link{SpanID: TurnSpanID(logID)}
			attrs := []attribute.KeyValue{AttrGenAIResponseID.String(truncate(logID, n))}
			if s.SessionID != "" {
				l.TraceID = ConversationTraceID(s.SessionID)
				attrs = append(attrs, AttrSessionID.String(truncate(s.SessionID, n)))
			} else {
				l.TraceID = StatelessTraceID(logID)
			}
			if ms := float64(t.Assistant.ResponseMilliseconds); ms > 0 {
				attrs = append(attrs, AttrLatencyMS.Int64(int64(ms)))
			}
			if conf, ok := sttConfidence(&t); ok {
				attrs = append(attrs, AttrCallSTTConfidence.Float64(conf))
			}
			l.Attributes = attrs
			links = append(links, l)
		}
	}
	return links
}

// callWarnings makes one log record per entry of warnings_and_errors: ERROR
// when its code ends in E, WARN otherwise.
func (m *Mapper) callWarnings(c *watson.CDR, at time.Time, traceID trace.TraceID, spanID trace.SpanID) []LogRecord {
	n := m.opts.MaxTextLength
	var recs []LogRecord
	for _, w := range c.WarningsAndErrors {
		code := truncate(firstNonEmpty(w.Code, w.ID), 64)
		rec := LogRecord{
			EventName:    EventNameCallWarning,
			Time:         at,
			Severity:     log.SeverityWarn,
			SeverityText: "WARN",
			Body:         "phone call warning " + firstNonEmpty(code, reasonUnknown),
			TraceID:      traceID,
			SpanID:       spanID,
		}
		if strings.HasSuffix(code, "E") {
			rec.Severity, rec.SeverityText = log.SeverityError, "ERROR"
			rec.Body = "phone call error " + code
		}
		if code != "" {
			rec.Attributes = append(rec.Attributes, AttrCallWarningCode.String(code))
		}
		if conv := callConversationID(c); conv != "" {
			rec.Attributes = append(rec.Attributes, AttrGenAIConversationID.String(truncate(conv, n)))
		}
		if m.opts.CaptureContent && w.Message != "" {
			msg := m.content(redactPhone(w.Message))
			rec.Body = msg
			rec.Attributes = append(rec.Attributes, AttrCallWarningMessage.String(msg))
		}
		recs = append(recs, rec)
	}
	return recs
}

// callConversationID is the call's gen_ai.conversation.id: the first
// assistant session it lists, else its global session id.
func callConversationID(c *watson.CDR) string {
	for _, s := range c.AssistantInteractionSummaries {
		if s.SessionID != "" {
			return s.SessionID
		}
	}
	return c.GlobalSessionID
}

// sttConfidence is the speech-to-text confidence of a call turn, when the
// caller spoke.
func sttConfidence(t *watson.CDRTurn) (float64, bool) {
	st := t.Request.StreamingStatistics
	if st == nil || st.Confidence == nil {
		return 0, false
	}
	v := float64(*st.Confidence)
	return v, v >= 0 && v <= 1
}

// callMetrics records the call, its duration, transfer, failure and the
// longest response time of each component, by bounded attributes only.
func (m *Mapper) callMetrics(c *watson.CDR, agentName, endReason string, failed bool, seconds float64, traceID trace.TraceID, spanID trace.SpanID) []Measurement {
	agent := AttrGenAIAgentName.String(truncate(agentName, 256))
	reason := endReason
	if !endReasons[reason] && reason != reasonUnknown {
		reason = reasonOther
	}
	end := AttrCallEndReason.String(reason)
	mk := func(i Instrument, v float64, attrs ...attribute.KeyValue) Measurement {
		return Measurement{Instrument: i, Value: v, Attributes: attrs, TraceID: traceID, SpanID: spanID}
	}
	ms := []Measurement{mk(Calls, 1, agent, end)}
	for _, sum := range c.AssistantInteractionSummaries {
		for _, t := range sum.Turns {
			if conf, ok := sttConfidence(&t); ok {
				ms = append(ms, mk(CallSTTConfidence, conf, agent))
			}
		}
	}
	if setup := float64(c.SIP.SetupMilliseconds); setup > 0 {
		ms = append(ms, mk(CallSIPSetupTime, setup/1000, agent))
	}
	for _, st := range []struct {
		dir string
		s   watson.RTPStream
	}{{DirectionInbound, c.Network.Inbound}, {DirectionOutbound, c.Network.Outbound}} {
		if total := float64(st.s.PacketsTransmitted + st.s.PacketsLost); total > 0 {
			dir := AttrCallDirection.String(st.dir)
			ms = append(ms, mk(CallPacketLoss, float64(st.s.PacketsLost)/total, agent, dir),
				mk(CallJitter, float64(st.s.MaximumJitter)/1000, agent, dir))
		}
	}
	if seconds > 0 {
		ms = append(ms, mk(CallDuration, seconds, agent, end))
	}
	if c.TransferOccurred {
		ms = append(ms, mk(CallTransfers, 1, agent))
	}
	if failed {
		ms = append(ms, mk(CallFailures, 1, agent))
	}
	for _, r := range []struct {
		component string
		ms        watson.Float
	}{
		{ComponentAssistant, c.MaxResponseMilliseconds.Assistant},
		{ComponentTextToSpeech, c.MaxResponseMilliseconds.TextToSpeech},
		{ComponentSpeechToText, c.MaxResponseMilliseconds.SpeechToText},
	} {
		if r.ms > 0 {
			ms = append(ms, mk(CallMaxResponseTime, float64(r.ms)/1000, agent, AttrCallComponent.String(r.component)))
		}
	}
	return ms
}

// Phone numbers and SIP URIs that a Watson message might quote.
var (
	sipURI      = regexp.MustCompile(`(?i)\bsips?:[^\s>;,"']+`)
	phoneNumber = regexp.MustCompile(`\+?\d[\d ().-]{5,}\d`)
)

// redactPhone masks SIP URIs and anything that looks like a phone number.
func redactPhone(s string) string {
	s = sipURI.ReplaceAllString(s, "sip:***")
	return phoneNumber.ReplaceAllStringFunc(s, func(num string) string {
		digits := 0
		for _, r := range num {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 7 {
			return num
		}
		return "***"
	})
}
