package receiver

import (
	"context"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// Consumer takes an accepted event (the service's is an *intake.Intake). It
// should return quickly (the webhook caller waits) and must not keep ctx,
// which ends with the request. received is when the request arrived. Any
// error answers 503 with Retry-After: 1; wrap intake.ErrOverloaded when the
// cause is back-pressure (e.g. a full queue).
type Consumer interface {
	Consume(ctx context.Context, ev watson.Event, received time.Time) error
}

// ConsumerFunc adapts a function to Consumer.
type ConsumerFunc func(ctx context.Context, ev watson.Event, received time.Time) error

// Consume calls f.
func (f ConsumerFunc) Consume(ctx context.Context, ev watson.Event, received time.Time) error {
	return f(ctx, ev, received)
}
