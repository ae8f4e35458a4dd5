package receiver

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric and attribute names (listed in the package documentation).
const (
	MetricRequests        = "assistant_otel.webhook.requests"
	MetricAuthFailures    = "assistant_otel.webhook.auth_failures"
	MetricRequestDuration = "assistant_otel.webhook.request.duration"
	MetricRefused         = "assistant_otel.webhook.refused"
	MetricInflightBytes   = "assistant_otel.webhook.inflight_bytes"

	AttrStatusCode = "http.response.status_code"
	AttrEvent      = "watson_assistant.event"
	AttrReason     = "reason"
)

// Values of AttrReason of MetricRefused: why a webhook request was answered
// 503.
const (
	// RefusedConcurrency: more requests in flight than WithMaxConcurrent.
	RefusedConcurrency = "concurrent_requests"
	// RefusedInflightBytes: its body did not fit in WithMaxInflightBytes.
	RefusedInflightBytes = "inflight_bytes"
	// RefusedUnavailable: the WithAcceptCheck condition failed (e.g. the
	// spool is gone).
	RefusedUnavailable = "unavailable"
	// RefusedOverloaded: the Consumer refused with intake.ErrOverloaded (a full
	// or closing queue).
	RefusedOverloaded = "overloaded"
	// RefusedConsumerError: the Consumer failed otherwise (e.g. a storage
	// error).
	RefusedConsumerError = "consumer_error"
)

// Values of AttrEvent besides the two event names.
const (
	eventUnknown = "unknown" // a decoded body with an unsupported event name
	eventNone    = ""        // rejected before decoding
)

type instruments struct {
	requests     metric.Int64Counter
	authFailures metric.Int64Counter
	duration     metric.Float64Histogram
	refused      metric.Int64Counter
}

func newInstruments(m metric.Meter, b *budget) (instruments, error) {
	var ins instruments
	var err error
	ins.requests, err = m.Int64Counter(MetricRequests,
		metric.WithUnit("{request}"),
		metric.WithDescription("Webhook requests handled, by response status code and event name."))
	if err != nil {
		return ins, fmt.Errorf("receiver: create %s: %w", MetricRequests, err)
	}
	ins.authFailures, err = m.Int64Counter(MetricAuthFailures,
		metric.WithUnit("{failure}"),
		metric.WithDescription("Webhook requests refused by authentication, by reason."))
	if err != nil {
		return ins, fmt.Errorf("receiver: create %s: %w", MetricAuthFailures, err)
	}
	ins.duration, err = m.Float64Histogram(MetricRequestDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Time to handle a webhook request, from arrival to response."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	if err != nil {
		return ins, fmt.Errorf("receiver: create %s: %w", MetricRequestDuration, err)
	}
	ins.refused, err = m.Int64Counter(MetricRefused,
		metric.WithUnit("{request}"),
		metric.WithDescription("Webhook requests answered 503 (retry later), by reason."))
	if err != nil {
		return ins, fmt.Errorf("receiver: create %s: %w", MetricRefused, err)
	}
	if b != nil {
		if _, err := m.Int64ObservableUpDownCounter(MetricInflightBytes,
			metric.WithUnit("By"),
			metric.WithDescription("Body bytes reserved by webhook requests in flight, against the in-flight budget."),
			metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
				o.Observe(b.used.Load())
				return nil
			})); err != nil {
			return ins, fmt.Errorf("receiver: create %s: %w", MetricInflightBytes, err)
		}
	}
	return ins, nil
}

func (ins instruments) refuse(ctx context.Context, reason string) {
	ins.refused.Add(ctx, 1, metric.WithAttributes(attribute.String(AttrReason, reason)))
}

func (ins instruments) record(ctx context.Context, status int, event string, d time.Duration) {
	set := metric.WithAttributeSet(attribute.NewSet(
		attribute.Int(AttrStatusCode, status),
		attribute.String(AttrEvent, event),
	))
	ins.requests.Add(ctx, 1, set)
	ins.duration.Record(ctx, d.Seconds(), set)
}

func (ins instruments) authFailure(ctx context.Context, reason string) {
	ins.authFailures.Add(ctx, 1, metric.WithAttributes(attribute.String(AttrReason, reason)))
}
