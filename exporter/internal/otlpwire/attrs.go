package otlpwire

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of opentelemetry.proto.common.v1.
const (
	kvKey   protowire.Number = 1
	kvValue protowire.Number = 2

	anyString protowire.Number = 1
	anyBool   protowire.Number = 2
	anyInt    protowire.Number = 3
	anyDouble protowire.Number = 4
	anyArray  protowire.Number = 5
	anyKvlist protowire.Number = 6
	anyBytes  protowire.Number = 7

	arrayValues  protowire.Number = 1
	kvlistValues protowire.Number = 1

	scopeName    protowire.Number = 1
	scopeVersion protowire.Number = 2

	resourceAttributes protowire.Number = 1
)

// keyValues writes attrs as repeated KeyValue fields, at most limit of them
// (limit < 0: all), string values cut to valueLimit characters (< 0: whole).
// It returns how many were left out.
func (w *buf) keyValues(field protowire.Number, attrs []attribute.KeyValue, limit, valueLimit int) int {
	n := len(attrs)
	if limit >= 0 && n > limit {
		n = limit
	}
	for i := range n {
		w.keyValue(field, attrs[i], valueLimit)
	}
	return len(attrs) - n
}

func (w *buf) keyValue(field protowire.Number, kv attribute.KeyValue, valueLimit int) {
	start := w.begin(field)
	w.stringAlways(kvKey, validUTF8(string(kv.Key)))
	w.anyValue(kvValue, kv.Value, valueLimit)
	w.end(start)
}

// anyValue writes v as an AnyValue field, as the SDK's OTLP transform does:
// an EMPTY value is an AnyValue with nothing set.
func (w *buf) anyValue(field protowire.Number, v attribute.Value, valueLimit int) {
	start := w.begin(field)
	switch v.Type() {
	case attribute.BOOL:
		w.tag(anyBool, protowire.VarintType)
		w.b = protowire.AppendVarint(w.b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		w.tag(anyInt, protowire.VarintType)
		w.b = protowire.AppendVarint(w.b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		w.double(anyDouble, v.AsFloat64())
	case attribute.STRING:
		w.stringAlways(anyString, w.text(truncate(validUTF8(v.AsString()), valueLimit)))
	case attribute.BYTESLICE:
		b := v.AsByteSlice()
		if w.cut != nil && len(b) > w.cut.text {
			b = b[:w.cut.text]
		}
		w.bytes(anyBytes, b)
	case attribute.BOOLSLICE:
		array(w, v.AsBoolSlice(), attribute.BoolValue, valueLimit)
	case attribute.INT64SLICE:
		array(w, v.AsInt64Slice(), attribute.Int64Value, valueLimit)
	case attribute.FLOAT64SLICE:
		array(w, v.AsFloat64Slice(), attribute.Float64Value, valueLimit)
	case attribute.STRINGSLICE:
		array(w, v.AsStringSlice(), attribute.StringValue, valueLimit)
	case attribute.SLICE:
		array(w, v.AsSlice(), func(v attribute.Value) attribute.Value { return v }, valueLimit)
	case attribute.MAP:
		m := w.begin(anyKvlist)
		for _, kv := range cutList(w, v.AsMap()) {
			w.keyValue(kvlistValues, kv, valueLimit)
		}
		w.end(m)
	case attribute.EMPTY:
	default:
		w.stringAlways(anyString, "INVALID")
	}
	w.end(start)
}

// array writes vals as an ArrayValue field of an AnyValue.
func array[T any](w *buf, vals []T, value func(T) attribute.Value, valueLimit int) {
	start := w.begin(anyArray)
	for _, v := range cutList(w, vals) {
		w.anyValue(arrayValues, value(v), valueLimit)
	}
	w.end(start)
}

// validUTF8 returns s with invalid UTF-8 replaced: protobuf strings must be
// valid (the SDK's marshalling would fail the whole request instead).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// truncate cuts s to limit characters (limit < 0: no limit), as the SDK's
// attribute value length limits do. s is valid UTF-8.
func truncate(s string, limit int) string {
	if limit < 0 || len(s) <= limit {
		return s
	}
	count := 0
	for i := range s {
		if count == limit {
			return s[:i]
		}
		count++
	}
	return s
}
