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

// minExtent is the length of a span whose body gives no duration (a turn
// whose request and response times are equal or missing): Watson's
// timestamp resolution, so that no span is zero-length.
const minExtent = time.Millisecond

// extent makes end later than start.
func extent(start, end time.Time) time.Time {
	if !end.After(start) {
		return start.Add(minExtent)
	}
	return end
}

// timeline places the turn events in time, in Watson's order. An event
// sits at the time the body gives it (generative_ai_start_time of a
// generative AI call, else action_start_time) when that falls inside the
// turn and not before the event before it; otherwise at the time of the
// event before it (the turn's start for the first). action_start_time is
// when the action started, often in an earlier turn: such events are
// clamped to the turn. given[i] says whether event i has its own time.
func timeline(events []watson.TurnEvent, start, end time.Time) (at []time.Time, given []bool) {
	at, given = make([]time.Time, len(events)), make([]bool, len(events))
	cursor := start
	for i := range events {
		e := &events[i]
		ts := e.ActionStartTime
		if e.Event == "generative_ai_called" && e.GenAIStartTime != "" {
			ts = e.GenAIStartTime
		}
		if t := watson.ParseTime(ts); !t.IsZero() && !t.Before(cursor) && !t.After(end) {
			cursor, given[i] = t, true
		}
		at[i] = cursor
	}
	return at, given
}

// window is the interval in which untimed event i happened: from its place
// in the timeline to the next event with a time of its own, else the turn's
// end.
func windowAfter(at []time.Time, given []bool, i int, end time.Time) time.Time {
	for j := i + 1; j < len(at); j++ {
		if given[j] && at[j].After(at[i]) {
			return at[j]
		}
	}
	return end
}

// turnEvents annotates the turn span with the dialog nodes visited, the
// actions-skill turn events and Watson's log messages, in the order Watson
// reported them. Turn events sit where timeline places them; dialog nodes
// and log messages have no time in the body and sit at the turn's start.
func (m *Mapper) turnEvents(l *watson.Log, at, end time.Time) []SpanEvent {
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
	times, _ := timeline(d.TurnEvents, at, end)
	for i, te := range d.TurnEvents {
		if te.IsExtensionCall() || te.Event == "generative_ai_called" {
			continue // child spans
		}
		name := te.Event
		if name == "" {
			name = "turn_event"
		}
		attrs := appendNonEmpty(appendSourceAttrs(make([]attribute.KeyValue, 0, 6), te.Source, n),
			AttrConditionType.String(truncate(te.ConditionType, n)),
			AttrReason.String(truncate(te.Reason, n)),
		)
		if te.Error != nil && m.opts.CaptureContent {
			attrs = append(attrs, AttrErrorMessage.String(m.content(te.Error.Message)))
		}
		events = append(events, SpanEvent{Name: spanEventTurnPrefix + truncate(name, 64), Time: times[i], Attributes: attrs})
	}
	for _, lm := range d.LogMessages {
		attrs := appendSourceAttrs(appendNonEmpty(make([]attribute.KeyValue, 0, 8),
			AttrLogLevel.String(truncate(strings.ToLower(lm.Level), 16)),
			AttrLogCode.String(truncate(lm.Code, n)),
		), lm.Source, n)
		if m.opts.CaptureContent {
			attrs = append(attrs, AttrLogMessage.String(m.content(lm.Message)))
		}
		events = append(events, SpanEvent{Name: SpanEventLogMessage, Time: at, Attributes: attrs})
	}
	return events
}

// childSpans makes a child span of every extension callout and generative AI
// call. Callouts carry no timing: their span is the window in which the call
// happened (timing "window"), from their place in the timeline to the next
// timed event or the turn's end. Generative AI calls last their
// total_time_ms from their start (timing "measured").
func (m *Mapper) childSpans(l *watson.Log, traceID trace.TraceID, parent trace.SpanID, start, end time.Time) []Span {
	n := m.opts.MaxTextLength
	var spans []Span
	events := l.Response.Output.Debug.TurnEvents
	times, given := timeline(events, start, end)
	titles := actionTitles(&l.Response.Output.Debug)
	place := func(s *Span, i int, d time.Duration) {
		s.Start, s.End = times[i], windowAfter(times, given, i, end)
		timing := TimingWindow
		if d > 0 {
			s.End, timing = s.Start.Add(d), TimingMeasured
		}
		if s.End.After(end) {
			s.End = end
		}
		s.End = extent(s.Start, s.End)
		if s.End.After(end) { // a turn at least minExtent long holds it
			s.Start, s.End = end.Add(-minExtent), end
		}
		s.Attributes = append(s.Attributes, AttrTiming.String(timing))
	}
	for i, te := range events {
		switch {
		case te.IsExtensionCall():
			c := te.Callout
			s := Span{
				TraceID: traceID, SpanID: ChildSpanID(l.LogID, i), ParentID: parent,
				Name:       truncate("callout "+firstNonEmpty(te.Source.ActionTitle, titles[te.Source.Action], te.Source.Action, "extension"), MaxDescriptiveSpanName),
				Kind:       trace.SpanKindClient,
				Attributes: append(appendSourceAttrs(make([]attribute.KeyValue, 0, 10), te.Source, n), AttrEvent.String("callout")),
			}
			place(&s, i, 0)
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
			model := generativeModel(&te, l.Response.Output.LLMMetadata)
			name := OperationTextCompletion
			if model != "" {
				name += " " + truncate(model, 128)
			}
			s := Span{
				TraceID: traceID, SpanID: ChildSpanID(l.LogID, i), ParentID: parent,
				Name: name, Kind: trace.SpanKindClient,
				Attributes: append(appendSourceAttrs(make([]attribute.KeyValue, 0, 16), te.Source, n), AttrEvent.String(te.Event),
					AttrGenAIOperationName.String(OperationTextCompletion),
					AttrGenAIProviderName.String(ProviderWatsonxAI)),
			}
			if t := firstNonEmpty(te.Source.ActionTitle, titles[te.Source.Action]); t != "" && te.Source.ActionTitle == "" {
				s.Attributes = append(s.Attributes, AttrActionTitle.String(truncate(t, n)))
			}
			if model != "" {
				s.Attributes = append(s.Attributes, AttrGenAIRequestModel.String(truncate(model, n)))
			}
			if g := te.GenerativeAI; g != nil {
				s.Attributes = append(s.Attributes, AttrGenAIHAPDetected.Bool(g.IsHAPDetected), AttrGenAIIDK.Bool(g.IsIDKResponse))
				if g.Task != "" {
					s.Attributes = append(s.Attributes, AttrGenAITask.String(truncate(g.Task, 64)))
				}
			}
			if c := te.Callout; c != nil && c.LLM != nil {
				if c.LLM.InputTokenCount != nil {
					s.Attributes = append(s.Attributes, AttrGenAIUsageInputTokens.Int64(int64(*c.LLM.InputTokenCount)))
				}
				if c.LLM.GeneratedTokenCount != nil {
					s.Attributes = append(s.Attributes, AttrGenAIUsageOutputTokens.Int64(int64(*c.LLM.GeneratedTokenCount)))
				}
				if c.LLM.Success != nil && !*c.LLM.Success {
					s.Status, s.StatusDescription = codes.Error, "LLM call failed"
				}
			}
			var d time.Duration
			if te.Metrics != nil && te.Metrics.TotalTimeMS > 0 {
				d = time.Duration(float64(te.Metrics.TotalTimeMS) * float64(time.Millisecond))
				s.Attributes = append(s.Attributes, AttrGenAITotalMS.Float64(float64(te.Metrics.TotalTimeMS)))
			}
			place(&s, i, d)
			if te.Error != nil {
				s.Status, s.StatusDescription = codes.Error, "generative AI call failed"
			}
			spans = append(spans, s)
		}
	}
	return spans
}

// generativeModel is the model a generative AI call used: the model id of
// its LLM call, else that of the turn's llm_metadata entry for its task,
// else of the only entry.
func generativeModel(te *watson.TurnEvent, meta []watson.LLMMetadata) string {
	if te.Callout != nil && te.Callout.LLM != nil && te.Callout.LLM.ModelID != "" {
		return te.Callout.LLM.ModelID
	}
	if te.GenerativeAI != nil && te.GenerativeAI.Task != "" {
		for _, m := range meta {
			if m.Task == te.GenerativeAI.Task && m.ModelID != "" {
				return m.ModelID
			}
		}
	}
	if len(meta) == 1 {
		return meta[0].ModelID
	}
	return ""
}

// appendSourceAttrs appends the non-empty attributes of a source.
func appendSourceAttrs(dst []attribute.KeyValue, s watson.Source, n int) []attribute.KeyValue {
	return appendNonEmpty(dst,
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
	return appendNonEmpty(kvs[:0], kvs...)
}

// appendNonEmpty appends to dst the attributes of kvs but the string ones
// whose value is empty.
func appendNonEmpty(dst []attribute.KeyValue, kvs ...attribute.KeyValue) []attribute.KeyValue {
	for _, kv := range kvs {
		if kv.Value.Type() == attribute.STRING && kv.Value.AsString() == "" {
			continue
		}
		dst = append(dst, kv)
	}
	return dst
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
