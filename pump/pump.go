// Package pump moves accepted events from a spool.Queue to the OTLP
// endpoint: it reads batches oldest first, maps them (package mapping),
// exports them through the exporter's synchronous path and deletes them
// only once every signal built from them was acknowledged. Failed exports
// are retried with exponential backoff for as long as it takes (the queue's
// size limit is the back-pressure: the receiver answers 503 when it is
// full).
//
// For each batch: the metric measurements are recorded and flushed (the
// MeterProvider's cumulative state: a successful flush acknowledges every
// measurement recorded before it), then spans and log records are sent
// (concurrently) until both are acknowledged, then the records are deleted
// at once. Delivery is at-least-once: a crash between an acknowledgement and
// the deletion replays that batch at the next start; spans and log records
// keep their ids (derived from the log_id), so a duplicate is an identical
// copy. Metrics flushed before a crash are counted again on replay.
//
// Intake is the receiver's Consumer: it appends to the queue and turns a
// full queue into receiver.ErrOverloaded (503 with Retry-After).
package pump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Metric names (also see Intake).
const (
	MetricDepth       = "assistant_otel.spool.depth"
	MetricBytes       = "assistant_otel.spool.bytes"
	MetricLimit       = "assistant_otel.spool.limit"
	MetricOldestAge   = "assistant_otel.spool.oldest_age"
	MetricQuarantined = "assistant_otel.spool.quarantined"
	MetricRetries     = "assistant_otel.export.retries"
)

// Exporter is the synchronous export path of *exporter.Exporter.
type Exporter interface {
	Build(ctx context.Context, ts []mapping.Telemetry) (*exporter.Batch, error)
	Send(ctx context.Context, b *exporter.Batch) error
	FlushMetrics(ctx context.Context) error
}

// Options configure New.
type Options struct {
	Queue    spool.Queue                                                 // required
	Map      func(ev watson.Event, received time.Time) mapping.Telemetry // required
	Exporter Exporter                                                    // required
	Meter    metric.Meter                                                // default noop
	Logger   *slog.Logger                                                // default discard

	// MaxBatch and MaxBatchBytes bound one read from the queue (defaults
	// 512 events, 16 MiB).
	MaxBatch      int
	MaxBatchBytes int64
	// Linger is how long the pump waits, when it was idle and an event
	// arrives, for more to export with it (default 20ms; negative: none).
	// It delays export, never the webhook's answer.
	Linger time.Duration
	// AttemptTimeout bounds one export attempt (default 15s).
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the pause between retries
	// (defaults 200ms and 5s; exponential with jitter in between).
	MinBackoff, MaxBackoff time.Duration
	// OnHealth is called with the export error when exports start failing,
	// and with nil when they succeed again.
	OnHealth func(err error)
}

// Pump is the export loop. Run it once.
type Pump struct {
	o       Options
	drain   chan struct{}
	retries metric.Int64Counter
	quarant metric.Int64Counter
	reg     metric.Registration

	failing bool
	fails   int
}

// New checks the options and registers the pump's metrics.
func New(o Options) (*Pump, error) {
	switch {
	case o.Queue == nil:
		return nil, errors.New("pump: queue is required")
	case o.Map == nil:
		return nil, errors.New("pump: map function is required")
	case o.Exporter == nil:
		return nil, errors.New("pump: exporter is required")
	}
	if o.Meter == nil {
		o.Meter = noop.NewMeterProvider().Meter("")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 16 << 20
	}
	if o.Linger == 0 {
		o.Linger = 20 * time.Millisecond
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 15 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	if o.OnHealth == nil {
		o.OnHealth = func(error) {}
	}
	p := &Pump{o: o, drain: make(chan struct{})}
	if err := p.instruments(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pump) instruments() error {
	m := p.o.Meter
	var err error
	p.retries, err = m.Int64Counter(MetricRetries, metric.WithUnit("{retry}"),
		metric.WithDescription("Export attempts of spooled events that failed and will be retried."))
	if err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	p.quarant, err = m.Int64Counter(MetricQuarantined, metric.WithUnit("{event}"),
		metric.WithDescription("Spooled events that could not be read or decoded, moved aside and not exported."))
	if err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	depth, err := m.Int64ObservableGauge(MetricDepth, metric.WithUnit("{event}"),
		metric.WithDescription("Accepted events not yet exported (in the spool, or in memory without one)."))
	if err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	bytes, err := m.Int64ObservableGauge(MetricBytes, metric.WithUnit("By"),
		metric.WithDescription("Bytes the events not yet exported count against the spool's limit."))
	if err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	limit, err := m.Int64ObservableGauge(MetricLimit, metric.WithUnit("By"),
		metric.WithDescription("The spool's size limit: at it, webhook calls get 503."))
	if err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	age, err := m.Float64ObservableGauge(MetricOldestAge, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest event not yet exported (0 when none)."))
	if err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	p.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := p.o.Queue.Stats()
		o.ObserveInt64(depth, s.Events)
		o.ObserveInt64(bytes, s.Bytes)
		o.ObserveInt64(limit, s.MaxBytes)
		a := 0.0
		if !s.Oldest.IsZero() {
			a = max(time.Since(s.Oldest).Seconds(), 0)
		}
		o.ObserveFloat64(age, a)
		return nil
	}, depth, bytes, limit, age)
	if err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	return nil
}

// Drain makes Run return once the queue is empty (and exported) instead of
// waiting for more. Safe to call more than once.
func (p *Pump) Drain() {
	select {
	case <-p.drain:
	default:
		close(p.drain)
	}
}

func (p *Pump) draining() bool {
	select {
	case <-p.drain:
		return true
	default:
		return false
	}
}

// Run exports until ctx ends (it returns ctx's error, leaving what is not
// acknowledged in the queue) or, after Drain, until the queue is empty (nil).
func (p *Pump) Run(ctx context.Context) error {
	defer func() { _ = p.reg.Unregister() }()
	var cursor uint64
	bo := p.newBackoff()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := p.o.Queue.Read(cursor, p.o.MaxBatch, p.o.MaxBatchBytes)
		if err != nil {
			p.o.Logger.Error("pump: reading the spool failed", "error", err)
			if !sleep(ctx, bo.NextBackOff()) {
				return ctx.Err()
			}
			continue
		}
		if len(recs) == 0 {
			if p.draining() {
				return nil
			}
			select {
			case <-p.o.Queue.Notify():
				// Let a few more arrive: one export of several events
				// costs about what one of a single event does.
				sleep(ctx, p.o.Linger)
			case <-p.drain:
			case <-ctx.Done():
			}
			continue
		}
		cursor = recs[len(recs)-1].Seq
		good, ts := p.prepare(recs)
		if len(good) > 0 && !p.export(ctx, good, ts) {
			return ctx.Err()
		}
	}
}

// prepare decodes and maps records; it quarantines those it cannot use. The
// records returned keep only what Delete needs.
func (p *Pump) prepare(recs []spool.Record) ([]spool.Record, []mapping.Telemetry) {
	good := make([]spool.Record, 0, len(recs))
	ts := make([]mapping.Telemetry, 0, len(recs))
	for _, r := range recs {
		t, err := p.map1(r)
		if err != nil {
			p.quarantine(r, err)
			continue
		}
		good = append(good, spool.Record{Seq: r.Seq, Size: r.Size})
		ts = append(ts, t)
	}
	return good, ts
}

func (p *Pump) map1(r spool.Record) (t mapping.Telemetry, err error) {
	if r.Err != nil {
		return t, r.Err
	}
	ev, ok := r.Hint.(watson.Event)
	if !ok {
		if ev, err = watson.Decode(r.Body); err != nil {
			return t, fmt.Errorf("decoding the stored body: %w", err)
		}
		// ev.Raw is the record's own copy of the body: valid while mapping.
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("mapping panicked: %v", v)
		}
	}()
	return p.o.Map(ev, r.Received), nil
}

func (p *Pump) quarantine(r spool.Record, cause error) {
	p.quarant.Add(context.Background(), 1)
	if err := p.o.Queue.Quarantine(r, cause.Error()); err != nil {
		p.o.Logger.Error("pump: could not quarantine a bad record; it stays in the spool", "seq", r.Seq, "cause", cause, "error", err)
		return
	}
	p.o.Logger.Error("pump: record quarantined, not exported", "seq", r.Seq, "cause", cause)
}

// export builds the batch, flushes the metrics (the batch's measurements
// with them), sends spans and log records, and deletes the records at once:
// the order keeps the window in which a crash duplicates spans and log
// records (between their acknowledgement and the deletion) to one commit.
// It returns false when ctx ended first.
func (p *Pump) export(ctx context.Context, good []spool.Record, ts []mapping.Telemetry) bool {
	b, err := p.o.Exporter.Build(ctx, ts)
	if err != nil { // a programming error: nothing to retry
		p.o.Logger.Error("pump: building telemetry failed", "error", err)
		return true
	}
	return p.retry(ctx, "metrics", p.o.Exporter.FlushMetrics) &&
		p.retry(ctx, "send", func(ctx context.Context) error { return p.o.Exporter.Send(ctx, b) }) &&
		p.retry(ctx, "delete", func(context.Context) error { return p.o.Queue.Delete(good) })
}

// retry calls fn until it succeeds (true) or ctx ends (false), pausing with
// exponential backoff between attempts, each bounded by AttemptTimeout.
func (p *Pump) retry(ctx context.Context, what string, fn func(context.Context) error) bool {
	bo := p.newBackoff()
	for {
		actx, cancel := context.WithTimeout(ctx, p.o.AttemptTimeout)
		err := fn(actx)
		cancel()
		if err == nil {
			p.recovered()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.retries.Add(context.Background(), 1, metric.WithAttributes(attrOperation(what)))
		p.failed(what, err)
		if !sleep(ctx, bo.NextBackOff()) {
			return false
		}
	}
}

func (p *Pump) failed(what string, err error) {
	p.fails++
	if !p.failing {
		p.failing = true
		p.o.Logger.Warn("pump: export failing; retrying with backoff (events stay queued)", "operation", what, "error", err)
		p.o.OnHealth(err)
	}
}

func (p *Pump) recovered() {
	if p.failing {
		p.o.Logger.Info("pump: export recovered", "failed_attempts", p.fails)
		p.failing, p.fails = false, 0
		p.o.OnHealth(nil)
	}
}

func (p *Pump) newBackoff() *backoff.ExponentialBackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = p.o.MinBackoff
	bo.MaxInterval = p.o.MaxBackoff
	bo.Multiplier = 2
	bo.RandomizationFactor = 0.2
	bo.Reset()
	return bo
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
