// Package otlpwire encodes finished spans and log records of package mapping
// as OTLP protobuf export requests (ExportTraceServiceRequest,
// ExportLogsServiceRequest), directly into a byte slice.
//
// It is the exporter's hot path: the SDK would build span and record objects,
// copy them into generated protobuf structs and marshal those by reflection;
// here one pass appends the wire format. What it writes decodes to what the
// SDK's OTLP exporters send for the same telemetry (the equivalence is
// tested), with the SDK's span and log record limits applied.
//
// Nested messages are written in place: a one-byte length is reserved before
// each, and when the message turns out longer than 127 bytes it is moved up
// to make room for the longer varint.
//
// Imports: it may import mapping (the values it encodes) and nothing else of
// this module.
package otlpwire

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// buf is a protobuf writer appending to a byte slice. While cut is set,
// texts, arrays and maps are cut down by it (bound.go).
type buf struct {
	b   []byte
	cut *cut
}

func (w *buf) tag(field protowire.Number, typ protowire.Type) {
	w.b = protowire.AppendTag(w.b, field, typ)
}

// begin opens a length-delimited field and returns where its content starts.
func (w *buf) begin(field protowire.Number) int {
	w.tag(field, protowire.BytesType)
	w.b = append(w.b, 0)
	return len(w.b)
}

// end closes the field begun at start, writing its length.
func (w *buf) end(start int) {
	n := len(w.b) - start
	if n < 0x80 {
		w.b[start-1] = byte(n)
		return
	}
	extra := protowire.SizeVarint(uint64(n)) - 1
	w.b = append(w.b, make([]byte, extra)...)
	copy(w.b[start+extra:], w.b[start:start+n])
	protowire.AppendVarint(w.b[:start-1], uint64(n))
}

func (w *buf) string(field protowire.Number, s string) {
	if s == "" {
		return
	}
	w.tag(field, protowire.BytesType)
	w.b = protowire.AppendString(w.b, s)
}

// stringAlways writes s even when it is empty (a oneof member).
func (w *buf) stringAlways(field protowire.Number, s string) {
	w.tag(field, protowire.BytesType)
	w.b = protowire.AppendString(w.b, s)
}

func (w *buf) bytes(field protowire.Number, p []byte) {
	w.tag(field, protowire.BytesType)
	w.b = protowire.AppendBytes(w.b, p)
}

func (w *buf) varint(field protowire.Number, v uint64) {
	if v == 0 {
		return
	}
	w.tag(field, protowire.VarintType)
	w.b = protowire.AppendVarint(w.b, v)
}

func (w *buf) fixed64(field protowire.Number, v uint64) {
	if v == 0 {
		return
	}
	w.tag(field, protowire.Fixed64Type)
	w.b = protowire.AppendFixed64(w.b, v)
}

func (w *buf) fixed32(field protowire.Number, v uint32) {
	if v == 0 {
		return
	}
	w.tag(field, protowire.Fixed32Type)
	w.b = protowire.AppendFixed32(w.b, v)
}

func (w *buf) double(field protowire.Number, v float64) {
	w.tag(field, protowire.Fixed64Type)
	w.b = protowire.AppendFixed64(w.b, math.Float64bits(v))
}
