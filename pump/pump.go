// Package pump moves accepted events from a spool.Queue to the OTLP
// endpoint: it reads batches oldest first, maps them (package mapping),
// exports them through the exporter's synchronous path and deletes them
// only once every signal built from them was acknowledged. Failed exports
// are retried with exponential backoff for as long as it takes (the queue's
// size limit is the back-pressure: the receiver answers 503 when it is
// full).
//
// For each batch: the metric measurements are recorded (into the
// MeterProvider's cumulative state, exported by its periodic reader every
// OTEL_METRIC_EXPORT_INTERVAL, not per batch), then spans and log records
// are sent (concurrently, in requests under the exporter's size limit) until
// both are acknowledged, then the records are deleted at once. Delivery is
// at-least-once: a crash between an acknowledgement and the deletion replays
// that batch at the next start; spans and log records keep their ids
// (derived from the log_id), so a duplicate is an identical copy. Metrics:
// a failed metric export is carried by the next one (cumulative), but a
// crash loses the measurements since the last successful export, and a
// batch replayed after a crash is measured again.
//
// The work is a pipeline: while one batch is sent (and the pump waits for
// its acknowledgement), Workers goroutines decode, map and build the
// batches read after it. Batches are sent, acknowledged and deleted one at
// a time, oldest first, on Run's goroutine, which also does every other
// queue write (quarantine) and every retry, so the failing/recovered state
// and the crash window are those of a single loop: one batch between its
// acknowledgement and its deletion. The batches being prepared have had
// their metric measurements recorded (Build) but are not sent: a crash or a
// ctx cancel leaves them queued, and they are measured again when exported
// later (at most Workers batches more than without the pipeline).
//
// Failures are handled by their class (exporter.FailureOf): transient ones
// are retried with backoff, honouring the delay the endpoint asked for; a
// misconfiguration (401, 403, 404, Unauthenticated, …) too, with the events
// kept queued, health degraded and one clear ERROR log; an event the
// endpoint refuses for its content is narrowed down by the exporter and set
// aside in the dead-letter store (DeadLetters), counted and logged once
// with its log_id, and the others flow on.
//
// The pump is the reader side of the event path (receiver → intake → spool
// → pump → mapping → exporter); package intake is the writer side. It may
// import spool, mapping, exporter, deadletter, watson and internal/retry;
// nothing of the receiver or the intake.
package pump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/assistant-otel/assistant-otel/deadletter"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/internal/retry"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// Metric names of the pump (package intake has its own).
const (
	MetricDepth       = "assistant_otel.spool.depth"
	MetricBytes       = "assistant_otel.spool.bytes"
	MetricLimit       = "assistant_otel.spool.limit"
	MetricOldestAge   = "assistant_otel.spool.oldest_age"
	MetricQuarantined = "assistant_otel.spool.quarantined"
	MetricRetries     = "assistant_otel.export.retries"
	MetricDeadLetters = "assistant_otel.export.dead_letters"
)

// DefaultWorkers is Options.Workers when not set.
const DefaultWorkers = 2

// Exporter is the synchronous export path of *exporter.Exporter.
type Exporter interface {
	Build(ctx context.Context, ts []mapping.Telemetry) (*exporter.Batch, error)
	Send(ctx context.Context, b *exporter.Batch) error
}

// DeadLetters keeps refused events (a *deadletter.Store).
type DeadLetters interface {
	Put(l deadletter.Letter) (string, error)
}

// bodyReader is a queue that can read a record's body back when it handed
// out the decoded event instead (*spool.Disk).
type bodyReader interface {
	Body(seq uint64) ([]byte, error)
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
	// Workers is how many batches are decoded, mapped and built at once
	// while the oldest is sent (default DefaultWorkers).
	Workers int
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
	// DeadLetters keeps the events the endpoint refused for their content;
	// nil: they are counted and logged, not kept.
	DeadLetters DeadLetters
}

// Pump is the export loop. Run it once.
type Pump struct {
	o       Options
	drain   chan struct{}
	retries metric.Int64Counter
	quarant metric.Int64Counter
	dead    metric.Int64Counter
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
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
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
	p.dead, err = m.Int64Counter(MetricDeadLetters, metric.WithUnit("{event}"),
		metric.WithDescription("Events the OTLP endpoint refused for what they hold, set aside (stored true) in the dead-letter store or, without one or when it is full, dropped (stored false)."))
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
// acknowledged in the queue) or, after Drain, until the queue is empty and
// everything read was acknowledged (nil).
func (p *Pump) Run(ctx context.Context) error {
	defer func() { _ = p.reg.Unregister() }()
	work := make(chan *job, p.o.Workers+1)
	var wg sync.WaitGroup
	for range p.o.Workers {
		wg.Go(func() {
			for j := range work {
				p.prepare(ctx, j)
			}
		})
	}
	// The workers finish what was handed to them (at most Workers batches
	// when ctx ended) before Run returns.
	defer func() { close(work); wg.Wait() }()
	var cursor uint64
	var inflight []*job // read, oldest first; all but the oldest are prepared while it is sent
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		for len(inflight) <= p.o.Workers {
			var recs []spool.Record
			if !p.retry(ctx, "read", func(context.Context) error {
				var err error
				recs, err = p.o.Queue.Read(cursor, p.o.MaxBatch, p.o.MaxBatchBytes)
				return err
			}) {
				return ctx.Err()
			}
			if len(recs) == 0 {
				break
			}
			cursor = recs[len(recs)-1].Seq
			j := &job{recs: recs, done: make(chan struct{})}
			work <- j // never blocks: at most Workers+1 jobs are in flight
			inflight = append(inflight, j)
		}
		if len(inflight) == 0 {
			if p.draining() {
				return nil
			}
			select {
			case <-p.o.Queue.Notify():
				// Let a few more arrive: one export of several events
				// costs about what one of a single event does.
				retry.Sleep(ctx, p.o.Linger)
			case <-p.drain:
			case <-ctx.Done():
			}
			continue
		}
		j := inflight[0]
		inflight[0], inflight = nil, inflight[1:]
		<-j.done
		if !p.export(ctx, j) {
			return ctx.Err()
		}
	}
}

// job is one batch read from the queue: a worker prepares it (decode, map,
// Build), then Run quarantines what could not be used and exports the rest.
type job struct {
	recs []spool.Record // as read; dropped once prepared
	done chan struct{}  // closed when prepared

	good  []event
	bad   []badRecord
	batch *exporter.Batch
	err   error // of Build
}

// event is what the pump keeps of a record it exports: what Delete needs,
// and the event's id and arrival for a dead letter.
type event struct {
	rec spool.Record // Seq and Size only
	id  string       // log_id, or the call's global session id
}

type badRecord struct {
	rec   spool.Record
	cause error
}

// prepare decodes and maps j's records, setting aside those it cannot use,
// and builds the batch of the others (recording their metric
// measurements).
func (p *Pump) prepare(ctx context.Context, j *job) {
	defer close(j.done)
	recs := j.recs
	j.recs = nil
	j.good = make([]event, 0, len(recs))
	ts := make([]mapping.Telemetry, 0, len(recs))
	for _, r := range recs {
		t, id, err := p.map1(r)
		if err != nil {
			j.bad = append(j.bad, badRecord{rec: r, cause: err})
			continue
		}
		j.good = append(j.good, event{rec: spool.Record{Seq: r.Seq, Size: r.Size, Received: r.Received}, id: id})
		ts = append(ts, t)
	}
	if len(ts) > 0 {
		j.batch, j.err = p.o.Exporter.Build(ctx, ts)
	}
}

func (p *Pump) map1(r spool.Record) (t mapping.Telemetry, id string, err error) {
	if r.Err != nil {
		return t, "", r.Err
	}
	ev, ok := r.Hint.(watson.Event)
	if !ok {
		if ev, err = watson.Decode(r.Body); err != nil {
			return t, "", fmt.Errorf("decoding the stored body: %w", err)
		}
		// ev.Raw is the record's own copy of the body: valid while mapping.
	}
	_, id, _ = strings.Cut(ev.DedupeKey(), ":")
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("mapping panicked: %v", v)
		}
	}()
	return p.o.Map(ev, r.Received), id, nil
}

func (p *Pump) quarantine(r spool.Record, cause error) {
	p.quarant.Add(context.Background(), 1)
	if err := p.o.Queue.Quarantine(r, cause.Error()); err != nil {
		p.o.Logger.Error("pump: could not quarantine a bad record; it stays in the spool", "seq", r.Seq, "cause", cause, "error", err)
		return
	}
	p.o.Logger.Error("pump: record quarantined, not exported", "seq", r.Seq, "cause", cause)
}

// export quarantines the records of j that could not be used, sends the
// spans and log records of the others until acknowledged, sets aside the
// events the endpoint refused, and deletes the records at once: the order
// keeps the window in which a crash duplicates spans and log records
// (between their acknowledgement and the deletion) to one commit. It
// returns false when ctx ended first.
func (p *Pump) export(ctx context.Context, j *job) bool {
	for _, b := range j.bad {
		p.quarantine(b.rec, b.cause)
	}
	if len(j.good) == 0 {
		return true
	}
	if j.err != nil { // a programming error: nothing to retry
		p.o.Logger.Error("pump: building telemetry failed", "error", j.err)
		return true
	}
	if !p.retry(ctx, "send", func(ctx context.Context) error {
		err := p.o.Exporter.Send(ctx, j.batch)
		_, after := exporter.FailureOf(err)
		return retry.After(err, after)
	}) {
		return false
	}
	for _, d := range j.batch.DeadLetters() {
		p.deadLetter(j.good[d.Index], d)
	}
	recs := make([]spool.Record, len(j.good))
	for i := range j.good {
		recs[i] = j.good[i].rec
	}
	return p.retry(ctx, "delete", func(context.Context) error { return p.o.Queue.Delete(recs) })
}

// deadLetter sets aside an event the endpoint refused: into the store when
// there is one (with its raw body), counted either way, and logged once at
// ERROR with its id (never its content).
func (p *Pump) deadLetter(ev event, d exporter.DeadLetter) {
	stored, where, err := false, "", error(nil)
	if p.o.DeadLetters != nil {
		var body []byte
		if br, ok := p.o.Queue.(bodyReader); ok {
			body, err = br.Body(ev.rec.Seq)
		} else {
			err = errors.New("the queue cannot read the body back")
		}
		if err == nil {
			where, err = p.o.DeadLetters.Put(deadletter.Letter{
				LogID: ev.id, Received: ev.rec.Received, Reason: d.Reason, Message: d.Message, Body: body,
			})
		}
		stored = err == nil
	}
	p.dead.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("reason", d.Reason), attribute.Bool("stored", stored)))
	attrs := []any{"log_id", ev.id, "signal", d.Signal, "reason", d.Reason, "error", d.Message}
	switch {
	case stored:
		p.o.Logger.Error("pump: the OTLP endpoint refused an event for what it holds; it is set aside in the dead-letter store (see assistant-otel dead-letters)",
			append(attrs, "file", where)...)
	case p.o.DeadLetters == nil:
		p.o.Logger.Error("pump: the OTLP endpoint refused an event for what it holds; it is DROPPED (no --spool-dir, so no dead-letter store)", attrs...)
	default:
		p.o.Logger.Error("pump: the OTLP endpoint refused an event for what it holds, and it could not be set aside: DROPPED",
			append(attrs, "store_error", err)...)
	}
}

// retry calls fn until it succeeds (true) or ctx ends (false), pausing with
// exponential backoff between attempts (or the delay the endpoint asked
// for), each bounded by AttemptTimeout.
func (p *Pump) retry(ctx context.Context, what string, fn func(context.Context) error) bool {
	err := retry.Do(ctx, retry.Policy{
		Min: p.o.MinBackoff, Max: p.o.MaxBackoff, Timeout: p.o.AttemptTimeout, MaxAfter: time.Minute,
		OnRetry: func(_ int, _ time.Duration, err error) {
			p.retries.Add(context.Background(), 1, metric.WithAttributes(attribute.String("operation", what)))
			p.failed(what, err)
		},
	}, fn)
	if err != nil {
		return false // only ctx ends it
	}
	p.recovered()
	return true
}

func (p *Pump) failed(what string, err error) {
	p.fails++
	if p.failing {
		return
	}
	p.failing = true
	if mis, _ := exporter.FailureOf(err); mis {
		p.o.Logger.Error("pump: the OTLP endpoint refuses every export: check the endpoint, path and credentials "+
			"(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS); events stay queued and are retried with backoff",
			"operation", what, "error", err)
	} else {
		p.o.Logger.Warn("pump: export failing; retrying with backoff (events stay queued)", "operation", what, "error", err)
	}
	p.o.OnHealth(err)
}

func (p *Pump) recovered() {
	if p.failing {
		p.o.Logger.Info("pump: export recovered", "failed_attempts", p.fails)
		p.failing, p.fails = false, 0
		p.o.OnHealth(nil)
	}
}
