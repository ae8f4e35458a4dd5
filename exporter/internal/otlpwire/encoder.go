package otlpwire

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/protobuf/encoding/protowire"
)

// SpanLimits are the span limits of the trace SDK (sdktrace.SpanLimits,
// read from the OTEL_SPAN_* and OTEL_ATTRIBUTE_* variables): a negative
// limit means no limit.
type SpanLimits struct {
	AttributeValueLength int
	AttributeCount       int
	EventCount           int
	LinkCount            int
	AttributePerEvent    int
	AttributePerLink     int
}

// LogLimits are the log record limits of the log SDK
// (OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT and
// OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT): a negative limit means no
// limit.
type LogLimits struct {
	AttributeCount       int
	AttributeValueLength int
}

// Encoder writes export requests for one resource and instrumentation
// scope. It is immutable and safe for concurrent use.
type Encoder struct {
	resource       []byte // encoded content of the Resource message
	resourceSchema string
	scope          []byte // encoded content of the InstrumentationScope message
	spanLimits     SpanLimits
	logLimits      LogLimits
}

// NewEncoder returns an Encoder of requests from res and the
// instrumentation scope name at version.
func NewEncoder(res *resource.Resource, name, version string, spans SpanLimits, logs LogLimits) *Encoder {
	e := &Encoder{spanLimits: spans, logLimits: logs}
	if res != nil {
		var w buf
		w.keyValues(resourceAttributes, res.Attributes(), -1, -1)
		e.resource = w.b
		e.resourceSchema = res.SchemaURL()
	}
	var w buf
	w.string(scopeName, validUTF8(name))
	w.string(scopeVersion, validUTF8(version))
	e.scope = w.b
	return e
}

// header opens a ResourceSpans or ResourceLogs message with its resource
// and one ScopeSpans or ScopeLogs message with its scope, and returns where
// the two messages start.
func (e *Encoder) header(w *buf, requestField, scopedField protowire.Number) (outer, inner int) {
	outer = w.begin(requestField)
	if e.resource != nil {
		w.bytes(1, e.resource) // resource
	}
	inner = w.begin(scopedField)
	w.bytes(1, e.scope) // scope
	return outer, inner
}

// footer closes what header opened; both messages carry their schema URL
// in field 3.
func (e *Encoder) footer(w *buf, outer, inner int) {
	w.end(inner)
	w.string(3, e.resourceSchema)
	w.end(outer)
}

// DedupAttributes returns attrs with one attribute per key, a later value of
// a key replacing an earlier one in its place, as the SDK deduplicates span
// and log record attributes. Without duplicates it returns attrs itself.
func DedupAttributes(attrs []attribute.KeyValue) []attribute.KeyValue {
	if !hasDuplicateKeys(attrs) {
		return attrs
	}
	out := make([]attribute.KeyValue, 0, len(attrs))
	index := make(map[attribute.Key]int, len(attrs))
	for _, a := range attrs {
		if i, ok := index[a.Key]; ok {
			out[i] = a
			continue
		}
		index[a.Key] = len(out)
		out = append(out, a)
	}
	return out
}

// hasDuplicateKeys reports whether two attributes have the same key. Keys
// share long prefixes (watson_assistant.…), so the last byte and the length
// are compared before the whole key.
func hasDuplicateKeys(attrs []attribute.KeyValue) bool {
	for i := 1; i < len(attrs); i++ {
		k := attrs[i].Key
		if k == "" {
			for j := range i {
				if attrs[j].Key == "" {
					return true
				}
			}
			continue
		}
		last := k[len(k)-1]
		for j := range i {
			o := attrs[j].Key
			if len(o) == len(k) && o[len(o)-1] == last && o == k {
				return true
			}
		}
	}
	return false
}

// unixNano is t in nanoseconds since the epoch, 0 for the zero time and
// times before the epoch (as in the SDK's transform).
func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}
