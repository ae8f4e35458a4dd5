package exporter

import (
	"reflect"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

func TestDedupAttrs(t *testing.T) {
	a, b, c := attribute.String("a", "1"), attribute.Int("b", 2), attribute.Bool("c", true)
	for _, tc := range []struct{ in, want []attribute.KeyValue }{
		{nil, nil},
		{[]attribute.KeyValue{a, b, c}, []attribute.KeyValue{a, b, c}},
		{[]attribute.KeyValue{a, b, attribute.String("a", "2"), c, attribute.Int("b", 3)},
			[]attribute.KeyValue{attribute.String("a", "2"), attribute.Int("b", 3), c}},
	} {
		if got := dedupAttrs(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("dedupAttrs(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
