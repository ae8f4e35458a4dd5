package pump

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Metric names of Intake.
const (
	MetricDuplicates = "assistant_otel.spool.duplicates"
	MetricRefused    = "assistant_otel.spool.refused"
)

func attrOperation(op string) attribute.KeyValue { return attribute.String("operation", op) }

// Intake is the receiver.Consumer that appends accepted events to a queue.
type Intake struct {
	q          spool.Queue
	duplicates metric.Int64Counter
	refused    metric.Int64Counter
}

var _ receiver.Consumer = (*Intake)(nil)

// IntakeOption configures an Intake.
type IntakeOption func(*Intake)

// NewIntake returns an Intake appending to q, counting on meter (nil: noop).
func NewIntake(q spool.Queue, meter metric.Meter, opts ...IntakeOption) (*Intake, error) {
	if q == nil {
		return nil, errors.New("pump: intake queue is required")
	}
	if meter == nil {
		meter = noop.NewMeterProvider().Meter("")
	}
	in := &Intake{q: q}
	for _, o := range opts {
		o(in)
	}
	var err error
	in.duplicates, err = meter.Int64Counter(MetricDuplicates, metric.WithUnit("{event}"),
		metric.WithDescription("Redelivered events (same log_id, or global_session_id of a call) acknowledged but not exported again."))
	if err != nil {
		return nil, fmt.Errorf("pump: %w", err)
	}
	in.refused, err = meter.Int64Counter(MetricRefused, metric.WithUnit("{event}"),
		metric.WithDescription("Events refused with 503 because the spool (or in-memory queue) was full or closing."))
	if err != nil {
		return nil, fmt.Errorf("pump: %w", err)
	}
	return in, nil
}

// DedupeKey identifies an event for deduplication: the log_id of a turn,
// the global_session_id of a call; empty when it has none.
func DedupeKey(ev watson.Event) string {
	switch {
	case ev.Log != nil && ev.Log.LogID != "":
		return "log:" + ev.Log.LogID
	case ev.CDR != nil && ev.CDR.GlobalSessionID != "":
		return "cdr:" + ev.CDR.GlobalSessionID
	}
	return ""
}

// Consume implements receiver.Consumer: it returns once the event is queued
// (durably, with a spool) or recognised as redelivered. A full or closed
// queue is an error wrapping receiver.ErrOverloaded (503, Retry-After).
func (in *Intake) Consume(ctx context.Context, ev watson.Event, received time.Time) error {
	if len(ev.Raw) == 0 {
		return errors.New("pump: event without its raw body")
	}
	// The decoded event travels without the body: the buffer belongs to
	// the request, and what the mapping needs (the response context for
	// the allow-list too) was kept when the body was decoded.
	hint := ev
	hint.Raw = nil
	dup, err := in.q.Append(ctx, spool.Entry{Key: DedupeKey(ev), Body: ev.Raw, Received: received, Hint: hint})
	switch {
	case err == nil && dup:
		in.duplicates.Add(context.Background(), 1, metric.WithAttributes(attribute.String("watson_assistant.event", ev.Name)))
		return nil
	case errors.Is(err, spool.ErrFull), errors.Is(err, spool.ErrClosed):
		in.refused.Add(context.Background(), 1)
		return fmt.Errorf("%w: %w", receiver.ErrOverloaded, err)
	}
	return err
}
