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

// request is an export request being written: one ResourceSpans or
// ResourceLogs message with the resource, holding one ScopeSpans or
// ScopeLogs message with the scope, to which items are added.
type request struct {
	e            *Encoder
	w            buf
	outer, inner int // where the two messages start
	items        int
}

// start opens the request in dst[:0]; requestField and scopedField are the
// field numbers of the resource message in the request and of the scope
// message in it.
func (e *Encoder) start(dst []byte, requestField, scopedField protowire.Number) request {
	r := request{e: e, w: buf{b: dst[:0]}}
	r.outer = r.w.begin(requestField)
	if e.resource != nil {
		r.w.bytes(1, e.resource) // resource
	}
	r.inner = r.w.begin(scopedField)
	r.w.bytes(1, e.scope) // scope
	return r
}

// Len returns how many items were added.
func (r *request) Len() int { return r.items }

// Finish closes the request and returns it. Both messages carry their
// schema URL in field 3; the scope has none.
func (r *request) Finish() []byte {
	r.w.end(r.inner)
	r.w.string(3, r.e.resourceSchema)
	r.w.end(r.outer)
	return r.w.b
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
