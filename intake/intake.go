// Package intake is the writer side of the event path (receiver → intake →
// spool → pump → mapping → exporter): it appends each accepted webhook
// event to a spool.Queue, keyed by its identity (watson.Event.DedupeKey) so
// that the queue's dedupe window acknowledges a redelivery without storing
// it again, and it turns a full or closing queue into ErrOverloaded, which
// the receiver answers with 503 and Retry-After.
//
// It may import spool, watson and the OTel metric API; nothing of the
// receiver (which calls it through its own Consumer interface) nor of the
// pump (which reads what it wrote).
package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Metric names of Intake.
const (
	MetricDuplicates = "assistant_otel.spool.duplicates"
	MetricRefused    = "assistant_otel.spool.refused"
)

// ErrOverloaded is wrapped by Consume's error when the queue cannot take the
// event now (full, or closing): back-pressure, not a failure. The receiver
// answers 503 with Retry-After for it and logs it as load shedding.
var ErrOverloaded = errors.New("consumer overloaded")

// Intake appends accepted events to a queue. It is safe for concurrent use.
type Intake struct {
	q          spool.Queue
	duplicates metric.Int64Counter
	refused    metric.Int64Counter
}

// New returns an Intake appending to q, counting on meter (nil: noop).
func New(q spool.Queue, meter metric.Meter) (*Intake, error) {
	if q == nil {
		return nil, errors.New("intake: queue is required")
	}
	if meter == nil {
		meter = noop.NewMeterProvider().Meter("")
	}
	in := &Intake{q: q}
	var err error
	in.duplicates, err = meter.Int64Counter(MetricDuplicates, metric.WithUnit("{event}"),
		metric.WithDescription("Redelivered events (same log_id, or global_session_id of a call) acknowledged but not exported again."))
	if err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	in.refused, err = meter.Int64Counter(MetricRefused, metric.WithUnit("{event}"),
		metric.WithDescription("Events refused with 503 because the spool (or in-memory queue) was full or closing."))
	if err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	return in, nil
}

// Consume returns once the event is queued (durably, with a spool) or
// recognised as redelivered. A full or closed queue is an error wrapping
// ErrOverloaded. It is the receiver's Consumer.
func (in *Intake) Consume(ctx context.Context, ev watson.Event, received time.Time) error {
	if len(ev.Raw) == 0 {
		return errors.New("intake: event without its raw body")
	}
	// The decoded event travels without the body: the buffer belongs to
	// the request, and what the mapping needs (the response context for
	// the allow-list too) was kept when the body was decoded.
	hint := ev
	hint.Raw = nil
	dup, err := in.q.Append(ctx, spool.Entry{Key: ev.DedupeKey(), Body: ev.Raw, Received: received, Hint: hint})
	switch {
	case err == nil && dup:
		in.duplicates.Add(context.Background(), 1, metric.WithAttributes(attribute.String("watson_assistant.event", ev.Name)))
		return nil
	case errors.Is(err, spool.ErrFull), errors.Is(err, spool.ErrClosed):
		in.refused.Add(context.Background(), 1)
		return fmt.Errorf("%w: %w", ErrOverloaded, err)
	}
	return err
}
