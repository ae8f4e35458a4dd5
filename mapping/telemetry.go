package mapping

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is everything one webhook event becomes.
type Telemetry struct {
	// Spans are ordered so that every parent comes before its children.
	Spans   []Span
	Logs    []LogRecord
	Metrics []Measurement
}

// Span is a finished span with explicit ids and times.
type Span struct {
	TraceID           trace.TraceID
	SpanID            trace.SpanID
	ParentID          trace.SpanID // invalid (zero) for a root span
	Name              string
	Kind              trace.SpanKind
	Start, End        time.Time
	Attributes        []attribute.KeyValue
	Events            []SpanEvent
	Links             []Link
	Status            codes.Code
	StatusDescription string
}

// SpanEvent is a timed annotation on a span.
type SpanEvent struct {
	Name       string
	Time       time.Time
	Attributes []attribute.KeyValue
}

// Link points at another span, for example a call summary at its turns.
type Link struct {
	TraceID    trace.TraceID
	SpanID     trace.SpanID
	Attributes []attribute.KeyValue
}

// LogRecord is one OpenTelemetry log record, correlated to a span.
type LogRecord struct {
	EventName    string
	Time         time.Time
	Severity     log.Severity
	SeverityText string
	Body         string
	Attributes   []attribute.KeyValue
	TraceID      trace.TraceID
	SpanID       trace.SpanID
}

// Measurement is one metric recording: add Value to a counter or record it
// in a histogram, with low-cardinality attributes only.
type Measurement struct {
	Instrument Instrument
	Value      float64
	Attributes []attribute.KeyValue
	// TraceID and SpanID name the span the measurement belongs to, so the
	// exporter can attach exemplars.
	TraceID trace.TraceID
	SpanID  trace.SpanID
}
