package exporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/mapping"
)

func spanByID(t *testing.T, spans tracetest.SpanStubs, id trace.SpanID) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.SpanContext.SpanID() == id {
			return s
		}
	}
	t.Fatalf("no span %s among %d", id, len(spans))
	return tracetest.SpanStub{}
}

func TestExportSpansHaveMappingIDsAndTimes(t *testing.T) {
	m := newMemExporter(t, sdktrace.ParentBased(sdktrace.AlwaysSample()))
	// A context that already carries an unrelated span (the HTTP request's,
	// say) must not become the parent of a turn.
	unrelated := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(t.Context(), unrelated)
	want := testTelemetry()
	m.Export(ctx, want)
	m.flush(t)

	spans := m.spans.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2", len(spans))
	}
	for _, ws := range want.Spans {
		got := spanByID(t, spans, ws.SpanID)
		if got.SpanContext.TraceID() != ws.TraceID {
			t.Errorf("%s: trace id %s, want %s", ws.Name, got.SpanContext.TraceID(), ws.TraceID)
		}
		if got.Parent.SpanID() != ws.ParentID {
			t.Errorf("%s: parent %s, want %s", ws.Name, got.Parent.SpanID(), ws.ParentID)
		}
		if !got.SpanContext.IsSampled() {
			t.Errorf("%s: not sampled", ws.Name)
		}
		if got.Name != ws.Name || got.SpanKind != ws.Kind {
			t.Errorf("name/kind %q/%v, want %q/%v", got.Name, got.SpanKind, ws.Name, ws.Kind)
		}
		if !got.StartTime.Equal(ws.Start) || !got.EndTime.Equal(ws.End) {
			t.Errorf("%s: times %v–%v, want %v–%v", ws.Name, got.StartTime, got.EndTime, ws.Start, ws.End)
		}
		if gotSet, wantSet := attribute.NewSet(got.Attributes...), attribute.NewSet(ws.Attributes...); !gotSet.Equals(&wantSet) {
			t.Errorf("%s: attributes %v, want %v", ws.Name, got.Attributes, ws.Attributes)
		}
		if got.Status.Code != ws.Status || got.Status.Description != ws.StatusDescription {
			t.Errorf("%s: status %v, want %v %q", ws.Name, got.Status, ws.Status, ws.StatusDescription)
		}
		if len(got.Events) != len(ws.Events) {
			t.Fatalf("%s: %d events, want %d", ws.Name, len(got.Events), len(ws.Events))
		}
		for i, ev := range ws.Events {
			if g := got.Events[i]; g.Name != ev.Name || !g.Time.Equal(ev.Time) || len(g.Attributes) != len(ev.Attributes) {
				t.Errorf("%s: event %+v, want %+v", ws.Name, g, ev)
			}
		}
		if len(got.Links) != len(ws.Links) {
			t.Fatalf("%s: %d links, want %d", ws.Name, len(got.Links), len(ws.Links))
		}
		for i, l := range ws.Links {
			if g := got.Links[i]; g.SpanContext.TraceID() != l.TraceID || g.SpanContext.SpanID() != l.SpanID || len(g.Attributes) != 1 {
				t.Errorf("%s: link %+v, want %+v", ws.Name, g, l)
			}
		}
	}
	if spanByID(t, spans, testRootID).InstrumentationScope.Name != ScopeName {
		t.Errorf("scope = %q, want %q", spanByID(t, spans, testRootID).InstrumentationScope.Name, ScopeName)
	}
}

// A child whose parent was exported with an earlier event still gets its
// wanted ids and that parent.
func TestExportChildOfEarlierSpan(t *testing.T) {
	m := newMemExporter(t, sdktrace.ParentBased(sdktrace.AlwaysSample()))
	child := mapping.ChildSpanID("log-2", 3)
	m.Export(t.Context(), mapping.Telemetry{Spans: []mapping.Span{{
		TraceID: testTraceID, SpanID: child, ParentID: testRootID, Name: "late child",
		Start: testStart, End: testStart.Add(time.Second),
	}}})
	m.flush(t)
	spans := m.spans.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans", len(spans))
	}
	s := spans[0]
	if s.SpanContext.TraceID() != testTraceID || s.SpanContext.SpanID() != child || s.Parent.SpanID() != testRootID {
		t.Errorf("ids %s/%s parent %s, want %s/%s parent %s",
			s.SpanContext.TraceID(), s.SpanContext.SpanID(), s.Parent.SpanID(), testTraceID, child, testRootID)
	}
}

// Spans started outside Export get random ids.
func TestIDGeneratorFallsBackToRandom(t *testing.T) {
	m := newMemExporter(t, sdktrace.AlwaysSample())
	_, a := m.tracer.Start(t.Context(), "a")
	_, b := m.tracer.Start(t.Context(), "b")
	a.End()
	b.End()
	sa, sb := a.SpanContext(), b.SpanContext()
	if !sa.IsValid() || !sb.IsValid() || sa.TraceID() == sb.TraceID() || sa.SpanID() == sb.SpanID() {
		t.Errorf("random ids: %s/%s and %s/%s", sa.TraceID(), sa.SpanID(), sb.TraceID(), sb.SpanID())
	}
	g := idGenerator{}
	if tid, sid := g.NewIDs(withWantedIDs(context.Background(), testTraceID, testRootID)); tid != testTraceID || sid != testRootID {
		t.Errorf("NewIDs = %s/%s", tid, sid)
	}
	if sid := g.NewSpanID(withWantedIDs(context.Background(), testTraceID, testChildID), testTraceID); sid != testChildID {
		t.Errorf("NewSpanID = %s", sid)
	}
}

func TestExportLogRecord(t *testing.T) {
	m := newMemExporter(t, sdktrace.ParentBased(sdktrace.AlwaysSample()))
	before := time.Now()
	want := testTelemetry()
	m.Export(t.Context(), want)
	m.flush(t)
	recs := m.logs.Records()
	if len(recs) != 1 {
		t.Fatalf("got %d log records, want 1", len(recs))
	}
	r, w := recs[0], want.Logs[0]
	if r.EventName() != w.EventName || !r.Timestamp().Equal(w.Time) {
		t.Errorf("event %q at %v, want %q at %v", r.EventName(), r.Timestamp(), w.EventName, w.Time)
	}
	if r.ObservedTimestamp().Before(before) || r.ObservedTimestamp().After(time.Now()) {
		t.Errorf("observed timestamp %v is not now", r.ObservedTimestamp())
	}
	if r.Severity() != log.SeverityWarn || r.SeverityText() != "WARN" {
		t.Errorf("severity %v %q", r.Severity(), r.SeverityText())
	}
	if r.Body().AsString() != w.Body {
		t.Errorf("body %q, want %q", r.Body().AsString(), w.Body)
	}
	if r.TraceID() != testTraceID || r.SpanID() != testRootID || !r.TraceFlags().IsSampled() {
		t.Errorf("trace %s span %s flags %v, want %s %s sampled", r.TraceID(), r.SpanID(), r.TraceFlags(), testTraceID, testRootID)
	}
	got := map[attribute.Key]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { got[kv.Key] = kv.Value; return true })
	if len(got) != len(w.Attributes) || got["watson_assistant.intent"].AsString() != "order_status" {
		t.Errorf("attributes %v, want %v", got, w.Attributes)
	}
}

// A record of a span exported earlier carries the sampler's decision for
// its trace; a record with no trace carries no ids.
func TestExportLogRecordFlags(t *testing.T) {
	m := newMemExporter(t, sdktrace.NeverSample())
	m.Export(t.Context(), mapping.Telemetry{Logs: []mapping.LogRecord{
		{EventName: "a", TraceID: testTraceID, SpanID: testRootID},
		{EventName: "b"},
		{EventName: "c", TraceID: testTraceID},
	}})
	m.flush(t)
	recs := m.logs.Records()
	if len(recs) != 3 {
		t.Fatalf("got %d records", len(recs))
	}
	if r := recs[0]; r.TraceID() != testTraceID || r.SpanID() != testRootID || r.TraceFlags().IsSampled() {
		t.Errorf("a: %s %s %v, want ids and not sampled", r.TraceID(), r.SpanID(), r.TraceFlags())
	}
	if r := recs[1]; r.TraceID().IsValid() || r.SpanID().IsValid() {
		t.Errorf("b: ids %s %s, want none", r.TraceID(), r.SpanID())
	}
	if r := recs[2]; r.TraceID() != testTraceID || r.SpanID().IsValid() {
		t.Errorf("c: ids %s %s, want trace only", r.TraceID(), r.SpanID())
	}
}

func collect(t *testing.T, m memExporter) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, mm := range sm.Metrics {
			out[mm.Name] = mm
		}
	}
	return out
}

func TestExportMeasurements(t *testing.T) {
	m := newMemExporter(t, sdktrace.ParentBased(sdktrace.AlwaysSample()))
	m.Export(t.Context(), testTelemetry())
	got := collect(t, m)

	turns, ok := got["watson_assistant.turns"].Data.(metricdata.Sum[float64])
	if !ok || !turns.IsMonotonic {
		t.Fatalf("turns: %#v", got["watson_assistant.turns"].Data)
	}
	sums := map[string]float64{}
	for _, p := range turns.DataPoints {
		v, _ := p.Attributes.Value("watson_assistant.outcome")
		sums[v.AsString()] += p.Value
		if len(p.Exemplars) == 0 || trace.TraceID(p.Exemplars[0].TraceID) != testTraceID || trace.SpanID(p.Exemplars[0].SpanID) != testRootID {
			t.Errorf("turns exemplar %+v, want trace %s span %s", p.Exemplars, testTraceID, testRootID)
		}
	}
	if sums["answered"] != 2 || sums["fallback"] != 1 {
		t.Errorf("turns by outcome %v, want answered 2, fallback 1", sums)
	}
	if u := got["watson_assistant.turns"].Unit; u != "{turn}" {
		t.Errorf("unit %q", u)
	}

	conf, ok := got["watson_assistant.intent.confidence"].Data.(metricdata.Histogram[float64])
	if !ok || len(conf.DataPoints) != 1 {
		t.Fatalf("confidence: %#v", got["watson_assistant.intent.confidence"].Data)
	}
	p := conf.DataPoints[0]
	wantBounds := mapping.IntentConfidence.Spec().Buckets
	if p.Count != 2 || p.Sum != 0.87+0.42 || len(p.Bounds) != len(wantBounds) || p.Bounds[0] != wantBounds[0] {
		t.Errorf("confidence point count %d sum %v bounds %v", p.Count, p.Sum, p.Bounds)
	}
	if len(p.Exemplars) == 0 || trace.TraceID(p.Exemplars[0].TraceID) != testTraceID {
		t.Errorf("confidence exemplars %+v", p.Exemplars)
	}
	if d, ok := got["gen_ai.server.request.duration"].Data.(metricdata.Histogram[float64]); !ok || d.DataPoints[0].Count != 1 {
		t.Errorf("duration: %#v", got["gen_ai.server.request.duration"].Data)
	}
}

// TestExportMeasurementsOwnSpans: the measurements of one event share a
// correlated context only while they name the same span; each exemplar
// carries its own measurement's span.
func TestExportMeasurementsOwnSpans(t *testing.T) {
	m := newMemExporter(t, sdktrace.ParentBased(sdktrace.AlwaysSample()))
	spanOf := map[string]trace.SpanID{"a": testRootID, "b": testChildID, "c": testRootID}
	var ms []mapping.Measurement
	for _, outcome := range []string{"a", "b", "c"} {
		ms = append(ms, mapping.Measurement{Instrument: mapping.Turns, Value: 1,
			Attributes: []attribute.KeyValue{mapping.AttrOutcome.String(outcome)}, TraceID: testTraceID, SpanID: spanOf[outcome]})
	}
	m.Export(t.Context(), mapping.Telemetry{Metrics: ms})
	turns, ok := collect(t, m)["watson_assistant.turns"].Data.(metricdata.Sum[float64])
	if !ok || len(turns.DataPoints) != 3 {
		t.Fatalf("turns: %#v", turns)
	}
	for _, p := range turns.DataPoints {
		v, _ := p.Attributes.Value(mapping.AttrOutcome)
		if len(p.Exemplars) != 1 || trace.SpanID(p.Exemplars[0].SpanID) != spanOf[v.AsString()] {
			t.Errorf("outcome %s: exemplars %+v, want span %s", v.AsString(), p.Exemplars, spanOf[v.AsString()])
		}
	}
}

// Every instrument mapping declares is created up front, and invalid
// measurements are dropped rather than recorded.
func TestInstrumentsCreatedAndBadValuesDropped(t *testing.T) {
	m := newMemExporter(t, sdktrace.AlwaysSample())
	for _, in := range mapping.Instruments() {
		inst, ok := m.instruments[in]
		if !ok || (inst.counter == nil) == (inst.histogram == nil) {
			t.Errorf("instrument %s: %+v", in.Spec().Name, inst)
		}
	}
	m.Export(t.Context(), mapping.Telemetry{Metrics: []mapping.Measurement{
		{Instrument: mapping.Handoffs, Value: -1},
		{Instrument: mapping.Handoffs, Value: 2},
		{Instrument: mapping.Instrument(999), Value: 1},
	}})
	got := collect(t, m)
	h := got["watson_assistant.handoffs"].Data.(metricdata.Sum[float64])
	if len(h.DataPoints) != 1 || h.DataPoints[0].Value != 2 {
		t.Errorf("handoffs %+v, want one point of 2", h.DataPoints)
	}
}

// All turns of a conversation are kept or dropped together, and the kept
// share of conversations follows the ratio.
func TestExportSamplesWholeConversations(t *testing.T) {
	m := newMemExporter(t, sdktrace.ParentBased(ConversationRatioSampler(0.25)))
	const conversations, turns = 2000, 3
	for _, id := range conversationIDs("uuidv4", conversations) {
		for turn := range turns {
			logID := id.String() + "-" + string(rune('a'+turn))
			root := mapping.TurnSpanID(logID)
			m.Export(t.Context(), mapping.Telemetry{Spans: []mapping.Span{
				{TraceID: id, SpanID: root, Name: "turn", Start: testStart, End: testStart.Add(time.Second)},
				{TraceID: id, SpanID: mapping.ChildSpanID(logID, 0), ParentID: root, Name: "node", Start: testStart, End: testStart},
			}})
		}
	}
	m.flush(t)
	perTrace := map[trace.TraceID]int{}
	for _, s := range m.spans.GetSpans() {
		perTrace[s.SpanContext.TraceID()]++
	}
	for id, n := range perTrace {
		if n != 2*turns {
			t.Errorf("trace %s: %d spans kept, want all %d or none", id, n, 2*turns)
		}
	}
	kept := float64(len(perTrace)) / conversations
	t.Logf("kept %d of %d conversations (%.3f)", len(perTrace), conversations, kept)
	if kept < 0.25-0.05 || kept > 0.25+0.05 { // ±5 sigma for n=2000
		t.Errorf("kept fraction %.3f, want 0.25", kept)
	}
}

func TestStatusUnsetAndZeroTimes(t *testing.T) {
	m := newMemExporter(t, sdktrace.AlwaysSample())
	m.Export(t.Context(), mapping.Telemetry{Spans: []mapping.Span{{TraceID: testTraceID, SpanID: testRootID, Name: "bare"}}})
	m.flush(t)
	s := m.spans.GetSpans()[0]
	if s.Status.Code != codes.Unset || s.StartTime.IsZero() || s.EndTime.Before(s.StartTime) {
		t.Errorf("span %+v", s)
	}
}
