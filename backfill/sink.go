package backfill

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Sink takes each imported event, like the receiver's Consumer: the service
// maps it and exports it. received is Received(ev): the event's own time. An
// error other than ErrAlreadyExported stops the run (after checkpointing
// what was consumed before it).
type Sink interface {
	Consume(ctx context.Context, ev watson.Event, received time.Time) error
}

// ErrAlreadyExported may be returned (wrapped) by a Sink that finds the event
// was exported already, e.g. because its own dedupe store (the spool's
// Append reporting a duplicate) knew the key: the event is then counted as
// skipped, not consumed, and the run goes on.
var ErrAlreadyExported = errors.New("already exported")

// ErrRefused may be returned (wrapped) by a Sink whose OTLP endpoint refused
// the event for what it holds (a dead letter): sending it again as it is
// would be refused again.
var ErrRefused = errors.New("refused by the OTLP endpoint")

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, ev watson.Event, received time.Time) error

// Consume calls f.
func (f SinkFunc) Consume(ctx context.Context, ev watson.Event, received time.Time) error {
	return f(ctx, ev, received)
}

// AttrSource labels the metrics of imported events (only with --metrics).
const AttrSource = attribute.Key("watson_assistant.source")

// Values of AttrSource.
const (
	SourceBackfill    = "backfill"
	SourceReplay      = "replay"
	SourceDeadLetters = "dead_letters"
)

// Imported prepares the telemetry of an imported event. Spans and log
// records keep their original timestamps and are unchanged, so a turn seen
// live and imported has the same trace and span ids. Metrics are dropped
// unless withMetrics: OpenTelemetry counters and histograms are aggregated
// at export time, so a month of history would land as one burst in today's
// rates. With withMetrics they are kept and labelled AttrSource=source, so
// dashboards can exclude them (watson_assistant_source!="backfill").
func Imported(t mapping.Telemetry, source string, withMetrics bool) mapping.Telemetry {
	if !withMetrics {
		t.Metrics = nil
		return t
	}
	ms := make([]mapping.Measurement, len(t.Metrics))
	for i, m := range t.Metrics {
		m.Attributes = append(slices.Clip(m.Attributes), AttrSource.String(source))
		ms[i] = m
	}
	t.Metrics = ms
	return t
}
