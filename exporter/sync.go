package exporter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// The synchronous path (WithSynchronous) exports with acknowledgement: the
// SDK's batch processors cannot say when a given span was accepted, so here
// the providers hand finished spans and emitted log records to collecting
// processors, Build takes them out as a Batch, and Send calls the OTLP
// exporters directly and returns their error (the wire path, wire.go,
// replaces both for OTLP). Metric measurements go into the MeterProvider's
// (cumulative) aggregation at Build, once per event: sending, and splitting
// a refused request, only re-assembles what Build encoded, so nothing is
// counted twice. The periodic reader exports that state every
// OTEL_METRIC_EXPORT_INTERVAL; FlushMetrics exports it now (for a command
// about to exit) and its error is the acknowledgement of every measurement
// recorded before it. With delta temporality
// (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta) the SDK resets
// the aggregation at each collection whether or not the export succeeds, so
// a failed flush loses those measurements: keep the default, cumulative.

// ErrNotSynchronous is returned by Build on an Exporter made without
// WithSynchronous.
var ErrNotSynchronous = errors.New("exporter: not in synchronous mode (WithSynchronous)")

type syncParts struct {
	mu      sync.Mutex // one Build at a time: the collectors are shared
	spans   spanCollector
	logs    logCollector
	spanExp sdktrace.SpanExporter // nil: traces go nowhere
	logExp  sdklog.Exporter       // nil: logs go nowhere
	// wire, when set, replaces the collectors and exporters above: spans
	// and records are encoded by Build and posted by Send (wire.go).
	wire *wireParts
}

// Batch is the telemetry of some events, built by Build and not yet fully
// acknowledged by Send.
type Batch struct {
	spans     []sdktrace.ReadOnlySpan
	logs      []sdklog.Record
	spansDone bool
	logsDone  bool

	// The wire path's items, and the events set aside.
	wireTraces, wireLogs wireSignal
	deadMu               sync.Mutex
	dead                 map[int]DeadLetter
}

// DeadLetter is an event of a Batch that the endpoint refused on its own,
// for what it holds (not for being unavailable or misconfigured): sending
// it again as it is would be refused again. Send sets it aside and sends
// the rest.
type DeadLetter struct {
	// Index is the event's index in the telemetry given to Build.
	Index int
	// Signal is the signal whose request was refused: traces or logs.
	Signal string
	// Reason is the refusal in a word, fit for a metric attribute, e.g.
	// "http_400" or "grpc_invalid_argument".
	Reason string
	// Message is the export error: the endpoint's answer, never the
	// telemetry.
	Message string
}

// Spans and LogRecords return how many of each the batch holds.
func (b *Batch) Spans() int      { return len(b.spans) + len(b.wireTraces.items) }
func (b *Batch) LogRecords() int { return len(b.logs) + len(b.wireLogs.items) }

// DeadLetters returns the events Send set aside so far, by index.
func (b *Batch) DeadLetters() []DeadLetter {
	b.deadMu.Lock()
	defer b.deadMu.Unlock()
	out := make([]DeadLetter, 0, len(b.dead))
	for _, d := range b.dead {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b DeadLetter) int { return a.Index - b.Index })
	return out
}

func (b *Batch) isDead(event int) bool {
	b.deadMu.Lock()
	defer b.deadMu.Unlock()
	_, ok := b.dead[event]
	return ok
}

func (b *Batch) setDead(event int, signal, reason, msg string) {
	b.deadMu.Lock()
	defer b.deadMu.Unlock()
	if _, ok := b.dead[event]; ok {
		return
	}
	if b.dead == nil {
		b.dead = make(map[int]DeadLetter)
	}
	b.dead[event] = DeadLetter{Index: event, Signal: signal, Reason: reason, Message: msg}
}

// Done reports whether every span and log record was acknowledged.
func (b *Batch) Done() bool { return b.spansDone && b.logsDone }

// Build makes the spans and log records of ts into a Batch for Send, and
// records their metric measurements at once (FlushMetrics exports them).
// Calls are serialised.
func (e *Exporter) Build(ctx context.Context, ts []mapping.Telemetry) (*Batch, error) {
	if e.sync == nil {
		return nil, ErrNotSynchronous
	}
	e.sync.mu.Lock()
	defer e.sync.mu.Unlock()
	if e.sync.wire != nil {
		b := &Batch{}
		e.encode(ctx, ts, b)
		if e.sync.spanExp != nil || e.sync.logExp != nil { // the console's signal, metrics recorded already
			for i := range ts {
				e.record1(ctx, ts[i], false)
			}
			b.spans, b.logs = e.sync.spans.take(), e.sync.logs.take()
		}
		b.spansDone = len(b.wireTraces.items) == 0 && len(b.spans) == 0
		b.logsDone = len(b.wireLogs.items) == 0 && len(b.logs) == 0
		return b, nil
	}
	for i := range ts {
		e.record1(ctx, ts[i], true)
	}
	b := &Batch{spans: e.sync.spans.take(), logs: e.sync.logs.take()}
	b.spansDone = len(b.spans) == 0 || e.sync.spanExp == nil
	b.logsDone = len(b.logs) == 0 || e.sync.logExp == nil
	if e.sync.spanExp == nil {
		b.spans = nil
	}
	if e.sync.logExp == nil {
		b.logs = nil
	}
	return b, nil
}

// Send exports what of b was not acknowledged yet, spans and log records
// concurrently, and marks what succeeded; it returns the failures joined.
// Call it again (after a pause) until b.Done(). Failures are also counted in
// assistant_otel.export.errors.
//
// On the wire path, requests are at most WithMaxRequestBytes each: a Batch
// may take several per signal, and Send remembers which were acknowledged.
// An event the endpoint refuses for its content is narrowed down and set
// aside (Batch.DeadLetters) while the others are sent; Send then counts the
// batch as done without it. Other failures are returned as *SendError
// (FailureOf tells transient from misconfigured).
func (e *Exporter) Send(ctx context.Context, b *Batch) error {
	if e.sync != nil && e.sync.wire != nil {
		return e.sendWireBatch(ctx, b)
	}
	return sendBoth(b, func() error { return e.sendSDKSpans(ctx, b) }, func() error { return e.sendSDKLogs(ctx, b) })
}

// sendSDKSpans and sendSDKLogs export b's SDK spans and records: to the
// console, or over OTLP with the SDK's exporters in the tests that compare
// them with the wire path.
func (e *Exporter) sendSDKSpans(ctx context.Context, b *Batch) error {
	err := e.sync.spanExp.ExportSpans(ctx, b.spans)
	if err == nil {
		b.spans = nil
	}
	return err
}

func (e *Exporter) sendSDKLogs(ctx context.Context, b *Batch) error {
	err := e.sync.logExp.Export(ctx, b.logs)
	if err == nil {
		b.logs = nil
	}
	return err
}

// sendBoth runs the sends of b's spans and log records that are not done
// yet, concurrently, marks those that succeed done, and returns the
// failures joined.
func sendBoth(b *Batch, spans, logs func() error) error {
	var wg sync.WaitGroup
	var spanErr, logErr error
	if !b.spansDone {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if spanErr = spans(); spanErr == nil {
				b.spansDone = true
			}
		}()
	}
	if !b.logsDone {
		if logErr = logs(); logErr == nil {
			b.logsDone = true
		}
	}
	wg.Wait()
	var errs []error
	if spanErr != nil {
		errs = append(errs, fmt.Errorf("traces: %w", spanErr))
	}
	if logErr != nil {
		errs = append(errs, fmt.Errorf("logs: %w", logErr))
	}
	return errors.Join(errs...)
}

// SendError is a failed export of Send on the wire path that was not a
// refusal of some events' content.
type SendError struct {
	// Misconfigured is set when the endpoint refuses every request of this
	// exporter (authentication, permission, path or service not found):
	// nothing will pass until the configuration is fixed.
	Misconfigured bool
	// RetryAfter is the delay the endpoint asked for, if any.
	RetryAfter time.Duration
	Err        error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// FailureOf tells what a Send error means: misconfigured (some failure is
// a misconfiguration) or not, and the longest delay the endpoint asked for.
func FailureOf(err error) (misconfigured bool, retryAfter time.Duration) {
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if se, ok := err.(*SendError); ok {
			misconfigured = misconfigured || se.Misconfigured
			retryAfter = max(retryAfter, se.RetryAfter)
			return
		}
		{
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					walk(e)
				}
			} else {
				walk(errors.Unwrap(err))
			}
		}
	}
	walk(err)
	return misconfigured, retryAfter
}

// FlushMetrics exports the current state of every metric now; a nil error
// acknowledges every measurement recorded before the call.
func (e *Exporter) FlushMetrics(ctx context.Context) error {
	if e.noMetrics {
		return nil
	}
	if err := e.mp.ForceFlush(ctx); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// spanCollector is a SpanProcessor that keeps the sampled spans that end.
type spanCollector struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (c *spanCollector) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (c *spanCollector) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	c.mu.Lock()
	c.spans = append(c.spans, s)
	c.mu.Unlock()
}

func (c *spanCollector) Shutdown(context.Context) error   { return nil }
func (c *spanCollector) ForceFlush(context.Context) error { return nil }

func (c *spanCollector) take() []sdktrace.ReadOnlySpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.spans
	c.spans = nil
	return s
}

// logCollector is a log Processor that keeps copies of the emitted records.
type logCollector struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (c *logCollector) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (c *logCollector) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.mu.Lock()
	c.records = append(c.records, r.Clone())
	c.mu.Unlock()
	return nil
}

func (c *logCollector) Shutdown(context.Context) error   { return nil }
func (c *logCollector) ForceFlush(context.Context) error { return nil }

func (c *logCollector) take() []sdklog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.records
	c.records = nil
	return r
}
