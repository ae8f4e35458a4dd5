package otlpwire

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// Field numbers of opentelemetry.proto.logs.v1 and its export request.
const (
	logsRequestResourceLogs protowire.Number = 1
	resourceLogsScopeLogs   protowire.Number = 2
	scopeLogsLogRecords     protowire.Number = 2

	logTime              protowire.Number = 1
	logSeverityNumber    protowire.Number = 2
	logSeverityText      protowire.Number = 3
	logBody              protowire.Number = 5
	logAttributes        protowire.Number = 6
	logDroppedAttributes protowire.Number = 7
	logFlags             protowire.Number = 8
	logTraceID           protowire.Number = 9
	logSpanID            protowire.Number = 10
	logObservedTime      protowire.Number = 11
	logEventName         protowire.Number = 12
)

// LogMeta is what the exporter decided for a log record besides its content.
type LogMeta struct {
	// TraceFlags are the W3C trace flags of the span context the record
	// belongs to (sampled or not).
	TraceFlags uint8
	// Observed is when the record was observed (emitted).
	Observed time.Time
}

// Logs is an ExportLogsServiceRequest being written.
type Logs struct{ request }

// Logs starts a request appended to dst[:0].
func (e *Encoder) Logs(dst []byte) *Logs {
	return &Logs{e.start(dst, logsRequestResourceLogs, resourceLogsScopeLogs)}
}

// Add writes r.
func (l *Logs) Add(r *mapping.LogRecord, m LogMeta) {
	l.items++
	l.w.logRecord(r, m, l.e.logLimits, nil)
}

// logRecord writes r as a ScopeLogs.log_records field, with the SDK's
// limits and, when c is set, cut down by c (see bound.go).
func (w *buf) logRecord(r *mapping.LogRecord, m LogMeta, lim LogLimits, c *cut) {
	w.cut = c
	defer func() { w.cut = nil }()
	start := w.begin(scopeLogsLogRecords)
	w.fixed64(logTime, unixNano(r.Time))
	w.fixed64(logObservedTime, unixNano(m.Observed))
	w.string(logEventName, w.text(validUTF8(r.EventName)))
	w.varint(logSeverityNumber, uint64(max(r.Severity, 0)))
	w.string(logSeverityText, w.text(validUTF8(r.SeverityText)))
	// An empty body is an AnyValue with nothing set, as the SDK sends it.
	body := attribute.Value{}
	if r.Body != "" {
		body = attribute.StringValue(r.Body)
	}
	w.anyValue(logBody, body, -1)
	dropped := w.keyValues(logAttributes, DedupAttributes(r.Attributes), c.attrLimit(lim.AttributeCount), lim.AttributeValueLength)
	if c != nil {
		w.keyValue(logAttributes, truncatedMarker, -1)
	}
	w.varint(logDroppedAttributes, uint64(dropped))
	w.fixed32(logFlags, uint32(m.TraceFlags))
	// Without a trace the record belongs to no span either (the exporter
	// correlates it through a span context, which needs the trace id).
	if r.TraceID.IsValid() {
		w.bytes(logTraceID, r.TraceID[:])
		if r.SpanID.IsValid() {
			w.bytes(logSpanID, r.SpanID[:])
		}
	}
	w.end(start)
}
