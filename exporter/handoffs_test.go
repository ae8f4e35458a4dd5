package exporter

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// A conversation that hands off on two turns is one conversation with a
// hand-off (and two hand-off turns).
func TestConversationsHandoffCountedOnce(t *testing.T) {
	m := newMemExporter(t, sdktrace.AlwaysSample())
	a, b := mapping.ConversationTraceID("session-a"), mapping.ConversationTraceID("session-b")
	for _, id := range []trace.TraceID{a, a, b, a} {
		m.Export(t.Context(), mapping.Telemetry{Metrics: []mapping.Measurement{{
			Instrument: mapping.Handoffs, Value: 1, TraceID: id, Attributes: []attribute.KeyValue{mapping.AttrGenAIAgentName.String("bank")},
		}}})
	}
	got := collect(t, m)
	conv, ok := got[ConversationsHandoffMetric].Data.(metricdata.Sum[float64])
	if !ok || len(conv.DataPoints) != 1 || conv.DataPoints[0].Value != 2 {
		t.Fatalf("conversations with a hand-off: %#v, want 2", got[ConversationsHandoffMetric].Data)
	}
	if v, _ := conv.DataPoints[0].Attributes.Value(mapping.AttrGenAIAgentName); v.AsString() != "bank" {
		t.Errorf("labels %v", conv.DataPoints[0].Attributes)
	}
	turns := got[mapping.Handoffs.Spec().Name].Data.(metricdata.Sum[float64])
	if turns.DataPoints[0].Value != 4 {
		t.Errorf("hand-off turns %v, want 4", turns.DataPoints[0].Value)
	}
}

// The memory is bounded: the oldest conversation is forgotten first.
func TestHandoffMemoryBounded(t *testing.T) {
	h, err := newHandoffs(noop.NewMeterProvider().Meter(""), 2)
	if err != nil {
		t.Fatal(err)
	}
	ids := []trace.TraceID{{1}, {2}, {3}}
	for i, want := range []bool{true, true, false, true, false, true} {
		id := []trace.TraceID{ids[0], ids[1], ids[1], ids[2], ids[2], ids[0]}[i]
		if got := h.first(id); got != want {
			t.Errorf("step %d (%v): first %v, want %v", i, id[0], got, want)
		}
		if len(h.seen) > 2 || len(h.ring) > 2 {
			t.Fatalf("remembers %d", len(h.seen))
		}
	}
}
