package exporter

import (
	"fmt"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// lowConfidenceByLabel exports one low-confidence measurement per intent i
// (action a<i>, title t<i>) and returns the recorded counts by intent and by
// action/title pair.
func lowConfidenceByLabel(t *testing.T, b *labelBound, intents ...string) (byIntent, byAction map[string]float64) {
	t.Helper()
	m := newMemExporter(t, sdktrace.AlwaysSample())
	m.labels = b
	for i, in := range intents {
		m.Export(t.Context(), mapping.Telemetry{Metrics: []mapping.Measurement{{
			Instrument: mapping.LowConfidenceTurns, Value: 1,
			Attributes: []attribute.KeyValue{mapping.AttrIntent.String(in),
				mapping.AttrAction.String(fmt.Sprint("a", i)), mapping.AttrActionTitle.String(fmt.Sprint("t", i))},
		}}})
	}
	name := mapping.LowConfidenceTurns.Spec().Name
	sum, ok := collect(t, m)[name].Data.(metricdata.Sum[float64])
	if !ok {
		t.Fatalf("no %s", name)
	}
	byIntent, byAction = map[string]float64{}, map[string]float64{}
	for _, p := range sum.DataPoints {
		in, _ := p.Attributes.Value(mapping.AttrIntent)
		a, _ := p.Attributes.Value(mapping.AttrAction)
		title, _ := p.Attributes.Value(mapping.AttrActionTitle)
		byIntent[in.AsString()] += p.Value
		byAction[a.AsString()+"/"+title.AsString()] += p.Value
	}
	return byIntent, byAction
}

func TestMetricLabelsFirstSeenLimit(t *testing.T) {
	var intents []string
	for i := range 10 {
		intents = append(intents, fmt.Sprint("i", i))
	}
	intents = append(intents, "none", "i1") // no intent, and one already seen
	byIntent, byAction := lowConfidenceByLabel(t, newLabelBound(nil, 3, slog.New(slog.DiscardHandler)), intents...)
	want := map[string]float64{"i0": 1, "i1": 2, "i2": 1, "none": 1, OtherLabel: 7}
	if fmt.Sprint(byIntent) != fmt.Sprint(want) {
		t.Errorf("intents %v, want %v", byIntent, want)
	}
	real := 0
	for v := range byAction {
		if v != OtherLabel+"/"+OtherLabel {
			real++
		}
	}
	if real > 3 || byAction["a0/t0"] != 1 || byAction["a2/t2"] != 1 || byAction[OtherLabel+"/"+OtherLabel] != 9 {
		t.Errorf("actions %v: want a0..a2 and the 9 others as other/other (limit 3)", byAction)
	}
}

func TestMetricLabelsIntentAllowList(t *testing.T) {
	byIntent, _ := lowConfidenceByLabel(t, newLabelBound([]string{"order_status", "cancel"}, 0, slog.New(slog.DiscardHandler)),
		"order_status", "refund", "cancel", "weather", "none", "order_status")
	want := map[string]float64{"order_status": 2, "cancel": 1, "none": 1, OtherLabel: 2}
	if fmt.Sprint(byIntent) != fmt.Sprint(want) {
		t.Errorf("intents %v, want %v", byIntent, want)
	}
}
