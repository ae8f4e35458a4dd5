package mapping

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/watson"
)

// Span event names.
const (
	SpanEventNodeVisited = "watson_assistant.node_visited"
	SpanEventLogMessage  = "watson_assistant.log_message"
	spanEventTurnPrefix  = "watson_assistant."
)

// turnEvents annotates the turn span with the dialog nodes visited, the
// actions-skill turn events and Watson's log messages, in the order Watson
// reported them. Watson gives them no timestamps of their own, so they all
// sit at the start of the turn.
func (m *Mapper) turnEvents(l *watson.Log, at time.Time) []SpanEvent {
	d := &l.Response.Output.Debug
	n := m.opts.MaxTextLength
	events := make([]SpanEvent, 0, len(d.NodesVisited)+len(d.TurnEvents)+len(d.LogMessages))
	for _, nv := range d.NodesVisited {
		attrs := nonEmpty(
			AttrNode.String(truncate(nv.DialogNode, n)),
			AttrNodeTitle.String(truncate(nv.Title, n)),
			AttrNodeConditions.String(truncate(nv.Conditions, n)),
		)
		events = append(events, SpanEvent{Name: SpanEventNodeVisited, Time: at, Attributes: attrs})
	}
	for _, te := range d.TurnEvents {
		if te.Callout != nil || te.Event == "generative_ai_called" {
			continue // child spans
		}
		name := te.Event
		if name == "" {
			name = "turn_event"
		}
		attrs := append(sourceAttrs(te.Source, n), nonEmpty(
			AttrConditionType.String(truncate(te.ConditionType, n)),
			AttrReason.String(truncate(te.Reason, n)),
		)...)
		if te.Error != nil && m.opts.CaptureContent {
			attrs = append(attrs, AttrErrorMessage.String(m.content(te.Error.Message)))
		}
		events = append(events, SpanEvent{Name: spanEventTurnPrefix + truncate(name, 64), Time: at, Attributes: attrs})
	}
	for _, lm := range d.LogMessages {
		attrs := append(nonEmpty(
			AttrLogLevel.String(truncate(strings.ToLower(lm.Level), 16)),
			AttrLogCode.String(truncate(lm.Code, n)),
		), sourceAttrs(lm.Source, n)...)
		if m.opts.CaptureContent {
			attrs = append(attrs, AttrLogMessage.String(m.content(lm.Message)))
		}
		events = append(events, SpanEvent{Name: SpanEventLogMessage, Time: at, Attributes: attrs})
	}
	return events
}

// childSpans makes a child span of every extension callout and generative AI
// call. Callouts carry no timing, so their spans have zero length at the start
// of the turn; generative AI calls carry their total time.
func (m *Mapper) childSpans(l *watson.Log, traceID trace.TraceID, parent trace.SpanID, start, end time.Time) []Span {
	n := m.opts.MaxTextLength
	var spans []Span
	for i, te := range l.Response.Output.Debug.TurnEvents {
		switch {
		case te.Callout != nil:
			c := te.Callout
			s := Span{
				TraceID: traceID, SpanID: ChildSpanID(l.LogID, i), ParentID: parent,
				Name: "callout " + firstNonEmpty(truncate(te.Source.ActionTitle, 128), truncate(te.Source.Action, 128), "extension"),
				Kind: trace.SpanKindClient, Start: start, End: start,
				Attributes: append(sourceAttrs(te.Source, n), AttrEvent.String("callout")),
			}
			if c.Request != nil {
				if c.Request.Method != "" {
					s.Attributes = append(s.Attributes, AttrHTTPRequestMethod.String(strings.ToUpper(truncate(c.Request.Method, 16))))
				}
				if host := hostOf(c.Request.URL); host != "" {
					s.Attributes = append(s.Attributes, AttrServerAddress.String(truncate(host, n)))
				}
				if c.Request.Path != "" && m.opts.CaptureContent {
					s.Attributes = append(s.Attributes, AttrURLPath.String(m.content(c.Request.Path)))
				}
			}
			if c.Response != nil && c.Response.StatusCode != 0 {
				code := int64(c.Response.StatusCode)
				s.Attributes = append(s.Attributes, AttrHTTPResponseStatus.Int64(code))
				if code >= 400 {
					s.Status, s.StatusDescription = codes.Error, "extension returned HTTP "+strconv.FormatInt(code, 10)
					s.Attributes = append(s.Attributes, AttrErrorType.String(strconv.FormatInt(code, 10)))
				}
			}
			if te.Error != nil {
				s.Status, s.StatusDescription = codes.Error, "extension call failed"
				if m.opts.CaptureContent {
					s.Attributes = append(s.Attributes, AttrErrorMessage.String(m.content(te.Error.Message)))
				}
			}
			spans = append(spans, s)
		case te.Event == "generative_ai_called":
			s := Span{
				TraceID: traceID, SpanID: ChildSpanID(l.LogID, i), ParentID: parent,
				Name: "generative_ai " + firstNonEmpty(truncate(te.Source.ActionTitle, 128), truncate(te.Source.Action, 128), "answer"),
				Kind: trace.SpanKindInternal, Start: start, End: start,
				Attributes: append(sourceAttrs(te.Source, n), AttrEvent.String(te.Event)),
			}
			if te.Metrics != nil && te.Metrics.TotalTimeMS > 0 {
				d := time.Duration(float64(te.Metrics.TotalTimeMS) * float64(time.Millisecond))
				s.End = start.Add(d)
				if s.End.After(end) {
					s.End = end
				}
				s.Attributes = append(s.Attributes, AttrGenAITotalMS.Float64(float64(te.Metrics.TotalTimeMS)))
			}
			if te.Error != nil {
				s.Status, s.StatusDescription = codes.Error, "generative AI call failed"
			}
			spans = append(spans, s)
		}
	}
	return spans
}

func sourceAttrs(s watson.Source, n int) []attribute.KeyValue {
	return nonEmpty(
		AttrSourceType.String(truncate(s.Type, n)),
		AttrAction.String(truncate(s.Action, n)),
		AttrActionTitle.String(truncate(s.ActionTitle, n)),
		AttrStep.String(truncate(s.Step, n)),
		AttrHandler.String(truncate(s.Handler, n)),
		AttrNode.String(truncate(s.DialogNode, n)),
	)
}

// nonEmpty drops string attributes whose value is empty.
func nonEmpty(kvs ...attribute.KeyValue) []attribute.KeyValue {
	out := kvs[:0]
	for _, kv := range kvs {
		if kv.Value.Type() == attribute.STRING && kv.Value.AsString() == "" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// hostOf returns the host of a URL or bare host name, without credentials,
// path or query.
func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndex(u, "@"); i >= 0 {
		u = u[i+1:]
	}
	return u
}
