package exporter

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// TestMeasureOptionsSets: each list of attributes gets the set
// metric.WithAttributes would build, whatever was asked before it (lists
// that differ in one value, type, key or order, duplicates, a value the
// key cannot hold), also after the cache filled up and started again.
func TestMeasureOptionsSets(t *testing.T) {
	setOf := func(opt measureOption) attribute.Set {
		add, rec := metric.NewAddConfig(opt.add).Attributes(), metric.NewRecordConfig(opt.record).Attributes()
		if !add.Equals(&rec) {
			t.Fatalf("add %v, record %v", add.ToSlice(), rec.ToSlice())
		}
		return add
	}
	lists := [][]attribute.KeyValue{
		{attribute.String("a", "x"), attribute.String("b", "y")},
		{attribute.String("b", "y"), attribute.String("a", "x")},
		{attribute.String("a", "xb"), attribute.String("", "y")},
		{attribute.String("a", "x"), attribute.String("b", "")},
		{attribute.String("b", "x"), attribute.String("b", "")},
		{attribute.String("a", "x\x01b"+string(rune(attribute.STRING))+"y")},
		{attribute.Bool("a", true)},
		{attribute.Bool("a", false)},
		{attribute.Int64("a", 1)},
		{attribute.Int64("a", -1)},
		{attribute.Float64("a", 1)},
		{attribute.Float64("a", 1.5)},
		{attribute.String("a", "1")},
		{attribute.String("a", "x"), attribute.String("a", "z")},
		{attribute.StringSlice("a", []string{"x"})},
		{attribute.StringSlice("a", []string{"y"})},
		nil,
	}
	c := newMeasureOptions()
	for round := range 2 {
		for i, attrs := range lists {
			for range 2 {
				got, want := setOf(c.of(attrs)), attribute.NewSet(attrs...)
				if !got.Equals(&want) {
					t.Fatalf("round %d, list %d %v: set %v, want %v", round, i, attrs, got.ToSlice(), want.ToSlice())
				}
			}
		}
		for i := range maxAttrSets { // fill the cache: it starts again
			c.of([]attribute.KeyValue{attribute.Int("n", i)})
		}
		if n := len(c.opts); n > maxAttrSets {
			t.Fatalf("%d sets kept, at most %d", n, maxAttrSets)
		}
	}
}

// TestMeasureOptionsReused: a list asked for again gets the same option.
func TestMeasureOptionsReused(t *testing.T) {
	c := newMeasureOptions()
	attrs := []attribute.KeyValue{attribute.String("a", "x")}
	if first, again := c.of(attrs), c.of(attrs); &first.add[0] != &again.add[0] || &first.record[0] != &again.record[0] {
		t.Fatal("the option of the same attributes was built again")
	}
}
