package mapping

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/log"

	"github.com/assistant-otel/assistant-otel/watson"
)

// mapCall turns a phone call summary into one log record in the call's own
// trace. Phone numbers, SIP headers and custom data are never exported.
func (m *Mapper) mapCall(c *watson.CDR, received time.Time) Telemetry {
	_, stop := window(c.Call.StartTimestamp, c.Call.StopTimestamp, received)
	n := m.opts.MaxTextLength
	turns := 0
	for _, s := range c.AssistantInteractionSummaries {
		turns += len(s.Turns)
	}
	var codes []string
	for _, w := range c.WarningsAndErrors {
		if code := firstNonEmpty(w.Code, w.ID); code != "" {
			codes = append(codes, truncate(code, 64))
		}
	}
	endReason := firstNonEmpty(c.Call.EndReason, "unknown")
	attrs := nonEmpty(
		AttrCallEndReason.String(truncate(endReason, 64)),
		AttrCallTransfer.Bool(c.TransferOccurred),
		AttrCallFailure.Bool(c.FailureOccurred),
		AttrCallOutbound.Bool(c.Call.Outbound),
		AttrCallDurationMS.Float64(float64(c.Call.MillisecondsElapsed)),
		AttrCallTurnCount.Int(turns),
		AttrCallMaxAssistantMS.Float64(float64(c.MaxResponseMilliseconds.Assistant)),
		AttrCallMaxTextToSpeechMS.Float64(float64(c.MaxResponseMilliseconds.TextToSpeech)),
		AttrCallMaxSpeechToTextMS.Float64(float64(c.MaxResponseMilliseconds.SpeechToText)),
		AttrGenAIConversationID.String(truncate(c.GlobalSessionID, n)),
	)
	if len(codes) > 0 {
		attrs = append(attrs, AttrCallWarningCodes.StringSlice(codes))
	}
	rec := LogRecord{
		EventName:    EventNameCall,
		Time:         stop,
		Severity:     log.SeverityInfo,
		SeverityText: "INFO",
		Body:         fmt.Sprintf("phone call ended: %s", truncate(endReason, 64)),
		Attributes:   attrs,
	}
	if c.GlobalSessionID != "" {
		rec.TraceID, rec.SpanID = CallTraceID(c.GlobalSessionID), CallSpanID(c.GlobalSessionID)
	}
	switch {
	case c.FailureOccurred:
		rec.Severity, rec.SeverityText = log.SeverityError, "ERROR"
	case len(c.WarningsAndErrors) > 0:
		rec.Severity, rec.SeverityText = log.SeverityWarn, "WARN"
	}
	return Telemetry{Logs: []LogRecord{rec}}
}
