package otlpwire

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// Field numbers of opentelemetry.proto.trace.v1 and its export request.
const (
	traceRequestResourceSpans protowire.Number = 1
	resourceSpansScopeSpans   protowire.Number = 2
	scopeSpansSpans           protowire.Number = 2

	spanTraceID           protowire.Number = 1
	spanSpanID            protowire.Number = 2
	spanTraceState        protowire.Number = 3
	spanParentSpanID      protowire.Number = 4
	spanName              protowire.Number = 5
	spanKind              protowire.Number = 6
	spanStartTime         protowire.Number = 7
	spanEndTime           protowire.Number = 8
	spanAttributes        protowire.Number = 9
	spanDroppedAttributes protowire.Number = 10
	spanEvents            protowire.Number = 11
	spanDroppedEvents     protowire.Number = 12
	spanLinks             protowire.Number = 13
	spanDroppedLinks      protowire.Number = 14
	spanStatus            protowire.Number = 15
	spanFlags             protowire.Number = 16

	eventTime              protowire.Number = 1
	eventName              protowire.Number = 2
	eventAttributes        protowire.Number = 3
	eventDroppedAttributes protowire.Number = 4

	linkTraceID           protowire.Number = 1
	linkSpanID            protowire.Number = 2
	linkAttributes        protowire.Number = 4
	linkDroppedAttributes protowire.Number = 5
	linkFlags             protowire.Number = 6

	statusMessage protowire.Number = 2
	statusCode    protowire.Number = 3
)

// OTLP span flags: the low 8 bits are the W3C trace flags.
const (
	FlagContextHasIsRemote uint32 = 0x100
	FlagContextIsRemote    uint32 = 0x200
)

// SpanMeta is what the exporter decided for a span besides its content.
type SpanMeta struct {
	// Flags are the OTLP span flags: the trace flags (sampled) and whether
	// the parent is remote.
	Flags uint32
	// TraceState is the W3C trace state the sampler returned, if any.
	TraceState string
	// SamplerAttributes are attributes the sampler added; they come first,
	// as in the SDK.
	SamplerAttributes []attribute.KeyValue
	// Now replaces a zero start or end time, as the SDK would time a span
	// started or ended without a timestamp.
	Now time.Time
}

// Traces is an ExportTraceServiceRequest being written.
type Traces struct{ request }

// Traces starts a request appended to dst[:0].
func (e *Encoder) Traces(dst []byte) *Traces {
	return &Traces{e.start(dst, traceRequestResourceSpans, resourceSpansScopeSpans)}
}

// Add writes s.
func (t *Traces) Add(s *mapping.Span, m SpanMeta) {
	t.items++
	t.w.span(s, m, t.e.spanLimits, nil)
}

// span writes s as a ScopeSpans.spans field, with the SDK's limits and,
// when c is set, cut down by c (see bound.go).
func (w *buf) span(s *mapping.Span, m SpanMeta, lim SpanLimits, c *cut) {
	w.cut = c
	defer func() { w.cut = nil }()
	start := w.begin(scopeSpansSpans)
	w.bytes(spanTraceID, s.TraceID[:])
	w.bytes(spanSpanID, s.SpanID[:])
	w.string(spanTraceState, m.TraceState)
	if s.ParentID.IsValid() {
		w.bytes(spanParentSpanID, s.ParentID[:])
	}
	w.fixed32(spanFlags, m.Flags)
	w.string(spanName, w.text(validUTF8(s.Name)))
	w.varint(spanKind, uint64(kind(s.Kind)))
	w.fixed64(spanStartTime, unixNano(orNow(s.Start, m.Now)))
	w.fixed64(spanEndTime, unixNano(orNow(s.End, m.Now)))

	attrs := s.Attributes
	if len(m.SamplerAttributes) > 0 {
		attrs = append(append(make([]attribute.KeyValue, 0, len(m.SamplerAttributes)+len(attrs)), m.SamplerAttributes...), attrs...)
	}
	dropped := w.keyValues(spanAttributes, DedupAttributes(attrs), c.attrLimit(lim.AttributeCount), lim.AttributeValueLength)
	if c != nil {
		w.keyValue(spanAttributes, truncatedMarker, -1)
	}
	w.varint(spanDroppedAttributes, uint64(dropped))

	events, droppedEvents := latest(s.Events, c.itemLimit(lim.EventCount))
	w.varint(spanDroppedEvents, uint64(droppedEvents))
	for i := range events {
		ev := &events[i]
		es := w.begin(spanEvents)
		w.fixed64(eventTime, unixNano(orNow(ev.Time, m.Now)))
		w.string(eventName, w.text(validUTF8(ev.Name)))
		dropped := w.keyValues(eventAttributes, ev.Attributes, c.attrLimit(lim.AttributePerEvent), lim.AttributeValueLength)
		w.varint(eventDroppedAttributes, uint64(dropped))
		w.end(es)
	}

	links, droppedLinks := latest(s.Links, c.itemLimit(lim.LinkCount))
	w.varint(spanDroppedLinks, uint64(droppedLinks))
	for i := range links {
		l := &links[i]
		ls := w.begin(spanLinks)
		w.bytes(linkTraceID, l.TraceID[:])
		w.bytes(linkSpanID, l.SpanID[:])
		dropped := w.keyValues(linkAttributes, l.Attributes, c.attrLimit(lim.AttributePerLink), lim.AttributeValueLength)
		w.varint(linkDroppedAttributes, uint64(dropped))
		// A link's span context is remote and carries no trace flags.
		w.fixed32(linkFlags, FlagContextHasIsRemote|FlagContextIsRemote)
		w.end(ls)
	}

	st := w.begin(spanStatus)
	switch s.Status {
	case codes.Error:
		w.string(statusMessage, w.text(validUTF8(s.StatusDescription)))
		w.varint(statusCode, 2) // STATUS_CODE_ERROR
	case codes.Ok:
		w.varint(statusCode, 1) // STATUS_CODE_OK
	}
	w.end(st)
	w.end(start)
}

// latest returns the last limit items (all when limit < 0) and how many it
// left out: the SDK keeps a span's latest events and links.
func latest[T any](items []T, limit int) ([]T, int) {
	if limit < 0 || len(items) <= limit {
		return items, 0
	}
	return items[len(items)-limit:], len(items) - limit
}

// kind maps trace.SpanKind to the OTLP enum; they have the same numbers, and
// the SDK records an unspecified kind as internal.
func kind[K ~int](k K) int {
	if k <= 0 || k > 5 {
		return 1 // SPAN_KIND_INTERNAL
	}
	return int(k)
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}
