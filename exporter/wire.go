package exporter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/exporter/internal/otlpclient"
	"github.com/assistant-otel/assistant-otel/exporter/internal/otlpwire"
	"github.com/assistant-otel/assistant-otel/mapping"
)

// The wire path: in synchronous mode, a signal exported over OTLP skips the
// SDK's span and log record objects. Build encodes the spans and records of
// a batch straight into OTLP export requests (package otlpwire, which
// applies the SDK's limits and sampling flags the same way) and Send posts
// those bytes (package otlpclient, configured from the same OTEL_EXPORTER_OTLP_*
// variables as the SDK's exporters). Metrics still go through the SDK's
// MeterProvider: they are aggregated, not sent per event.

// requestSender sends serialized OTLP export requests of one signal.
type requestSender interface {
	Export(ctx context.Context, request []byte) (otlpclient.Result, error)
	Shutdown(ctx context.Context) error
}

// wireParts are the encoder and senders of the wire path; a nil sender
// means that signal goes through the SDK (or nowhere).
type wireParts struct {
	enc    *otlpwire.Encoder
	traces requestSender
	logs   requestSender
	bufs   sync.Pool // of *[]byte, item and request buffers returned after Send
	// maxRequest bounds a request in bytes; itemBound bounds one span or
	// log record, so that any one fits in a request.
	maxRequest, itemBound int
}

// wireable reports whether the wire path carries traces and logs: at
// least one goes over OTLP, and the other over OTLP, to the console or
// nowhere. In synchronous mode traces and logs bound for OTLP always leave
// through the wire path then; the SDK's span and record objects remain for
// the console only (and as the tests' oracle of what OTLP should carry).
func (c exportConfig) wireable() bool {
	otlp := 0
	for _, s := range []signalConfig{c.traces(), c.logs()} {
		switch s.output {
		case outputOTLP:
			otlp++
		case outputNone, outputConsole:
		default:
			return false
		}
	}
	return otlp > 0
}

// newWireSenderOf returns the OTLP client of signal s, or nil when s goes
// nowhere.
func newWireSenderOf(s signalConfig) (requestSender, error) {
	if s.output != outputOTLP {
		return nil, nil
	}
	cfg, err := otlpclient.FromEnv(otlpclient.Signal(s.signal), getenv)
	if err != nil {
		return nil, err
	}
	c, err := otlpclient.New(cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// spanLimits returns the SDK's span limits (from the OTEL_SPAN_* and
// OTEL_ATTRIBUTE_* variables) for the encoder.
func spanLimits() otlpwire.SpanLimits {
	l := sdktrace.NewSpanLimits()
	return otlpwire.SpanLimits{
		AttributeValueLength: l.AttributeValueLengthLimit,
		AttributeCount:       l.AttributeCountLimit,
		EventCount:           l.EventCountLimit,
		LinkCount:            l.LinkCountLimit,
		AttributePerEvent:    l.AttributePerEventCountLimit,
		AttributePerLink:     l.AttributePerLinkCountLimit,
	}
}

// logLimits returns the log SDK's record limits: 128 attributes and no
// value length limit unless the variables say otherwise (an invalid value
// keeps the default, as in the SDK).
func logLimits() otlpwire.LogLimits {
	limit := func(key string, def int) int {
		if v, err := strconv.Atoi(getenv(key)); err == nil {
			return v
		}
		return def
	}
	return otlpwire.LogLimits{
		AttributeCount:       limit("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", 128),
		AttributeValueLength: limit("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", -1),
	}
}

// buffer returns an empty request buffer, reused when one was released.
func (w *wireParts) buffer() []byte {
	if p, ok := w.bufs.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return nil
}

// release returns a sent request's buffer for reuse; very large ones are
// left to the garbage collector.
func (w *wireParts) release(b []byte) {
	if cap(b) == 0 || cap(b) > 16<<20 {
		return
	}
	w.bufs.Put(&b)
}

// encode writes each span and log record of ts as an item of b (bounded
// in size, see otlpwire.AppendSpan), deciding sampling as the SDK would for
// spans started with these ids and parents, and records the metric
// measurements of each event once. Sending (and splitting, when a request
// is refused) only assembles requests from these items: nothing is encoded
// nor recorded again. The caller holds e.sync.mu.
func (e *Exporter) encode(ctx context.Context, ts []mapping.Telemetry, b *Batch) {
	w := e.sync.wire
	if w.traces != nil {
		b.wireTraces.arena = w.buffer()
	}
	if w.logs != nil {
		b.wireLogs.arena = w.buffer()
	}
	started := make(map[trace.SpanID]trace.SpanContext)
	for i := range ts {
		clear(started)
		e.encodeEvent(ctx, i, &ts[i], started, b)
		e.recordAll(ctx, ts[i].Metrics, started)
	}
	for _, s := range []*wireSignal{&b.wireTraces, &b.wireLogs} {
		if len(s.items) == 0 && s.arena != nil {
			w.release(s.arena)
			s.arena = nil
		}
	}
}

// encodeEvent appends the spans and log records of event i to b's items
// and fills started with the span contexts of its spans.
func (e *Exporter) encodeEvent(ctx context.Context, i int, t *mapping.Telemetry, started map[trace.SpanID]trace.SpanContext, b *Batch) {
	w := e.sync.wire
	now := time.Now()
	for j := range t.Spans {
		s := &t.Spans[j]
		sc, meta, sampled := e.decide(s, started, now)
		started[s.SpanID] = sc
		if sampled && w.traces != nil {
			start := len(b.wireTraces.arena)
			var cut bool
			b.wireTraces.arena, cut = w.enc.AppendSpan(b.wireTraces.arena, s, meta, w.itemBound)
			b.wireTraces.add(i, start, len(b.wireTraces.arena))
			if cut {
				e.truncated(ctx, signalTraces)
			}
		}
	}
	for j := range t.Logs {
		r := &t.Logs[j]
		if w.logs != nil {
			sc := e.spanContext(r.TraceID, r.SpanID, started)
			start := len(b.wireLogs.arena)
			var cut bool
			b.wireLogs.arena, cut = w.enc.AppendLog(b.wireLogs.arena, r, otlpwire.LogMeta{TraceFlags: uint8(sc.TraceFlags()), Observed: now}, w.itemBound)
			b.wireLogs.add(i, start, len(b.wireLogs.arena))
			if cut {
				e.truncated(ctx, signalLogs)
			}
		}
	}
}

// decide returns the span context a span gets, its OTLP meta data and
// whether it is sampled: the sampler is asked what the SDK would ask it
// when the span is started as exportSpan starts it.
func (e *Exporter) decide(s *mapping.Span, started map[trace.SpanID]trace.SpanContext, now time.Time) (trace.SpanContext, otlpwire.SpanMeta, bool) {
	parentCtx := context.Background()
	remote := false
	switch {
	case !s.ParentID.IsValid():
	case started[s.ParentID].IsValid() && started[s.ParentID].TraceID() == s.TraceID:
		parentCtx = trace.ContextWithSpanContext(parentCtx, started[s.ParentID])
	default:
		remote = true
		parentCtx = trace.ContextWithRemoteSpanContext(parentCtx, e.spanContext(s.TraceID, s.ParentID, nil))
	}
	res := e.sampler.ShouldSample(sdktrace.SamplingParameters{
		ParentContext: parentCtx,
		TraceID:       s.TraceID,
		Name:          s.Name,
		Kind:          s.Kind,
		Attributes:    s.Attributes,
	})
	var flags trace.TraceFlags
	if res.Decision == sdktrace.RecordAndSample {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: s.TraceID, SpanID: s.SpanID, TraceFlags: flags, TraceState: res.Tracestate,
	})
	meta := otlpwire.SpanMeta{
		Flags:             uint32(flags) | otlpwire.FlagContextHasIsRemote,
		TraceState:        res.Tracestate.String(),
		SamplerAttributes: res.Attributes,
		Now:               now,
	}
	if remote {
		meta.Flags |= otlpwire.FlagContextIsRemote
	}
	return sc, meta, res.Decision == sdktrace.RecordAndSample
}

// wireSignal is one signal of a Batch on the wire path: its items (spans or
// log records, each encoded on its own into arena) in event order.
type wireSignal struct {
	arena []byte
	items []wireItem
}

type wireItem struct {
	event      int // index in the telemetry given to Build
	start, end int // in arena
	acked      bool
}

func (s *wireSignal) add(event, start, end int) {
	s.items = append(s.items, wireItem{event: event, start: start, end: end})
}

// sendSignal sends the items of s not acknowledged yet (and not of an
// event set aside), in order, in requests of at most maxRequest bytes.
func (e *Exporter) sendSignal(ctx context.Context, b *Batch, s *wireSignal, sender requestSender, signal string) error {
	w := e.sync.wire
	pending := make([]int, 0, len(s.items))
	for i, it := range s.items {
		if !it.acked && !b.isDead(it.event) {
			pending = append(pending, i)
		}
	}
	room := w.maxRequest - w.enc.Overhead()
	for len(pending) > 0 {
		n, size := 0, 0
		for n < len(pending) {
			it := s.items[pending[n]]
			if n > 0 && size+it.end-it.start > room {
				break
			}
			size += it.end - it.start
			n++
		}
		if err := e.sendItems(ctx, b, s, sender, signal, pending[:n]); err != nil {
			return err
		}
		pending = pending[n:]
	}
	return nil
}

// acked reports whether every item of s was acknowledged.
func (s *wireSignal) acked() bool {
	for _, it := range s.items {
		if !it.acked {
			return false
		}
	}
	return true
}

// sendItems sends one request of the items idx of s. When the endpoint
// refuses it for its content, the items are split between their events
// and each half is sent again, until the refused event is alone: it is set
// aside as a dead letter, everything else goes on. Other failures are
// returned (a *SendError): nothing more is sent this time.
func (e *Exporter) sendItems(ctx context.Context, b *Batch, s *wireSignal, sender requestSender, signal string, idx []int) error {
	w := e.sync.wire
	idx = slices.DeleteFunc(slices.Clone(idx), func(i int) bool { return b.isDead(s.items[i].event) })
	if len(idx) == 0 {
		return nil
	}
	parts := make([][]byte, len(idx))
	for k, i := range idx {
		parts[k] = s.arena[s.items[i].start:s.items[i].end]
	}
	var req []byte
	if signal == signalTraces {
		req = w.enc.TracesRequest(w.buffer(), parts...)
	} else {
		req = w.enc.LogsRequest(w.buffer(), parts...)
	}
	res, err := sender.Export(ctx, req)
	if err == nil {
		// After a failure the transport may still read a stalled request
		// (see otlpclient.Client.Export): its buffer is left to the GC.
		w.release(req)
		for _, i := range idx {
			s.items[i].acked = true
		}
		e.failures.partial(signal, res.Rejected, res.Message)
		return nil
	}
	e.failures.record(signal, len(idx), err)
	class, after := otlpclient.Classify(err)
	if class != otlpclient.Refused {
		return &SendError{Misconfigured: class == otlpclient.Misconfigured, RetryAfter: after, Err: err}
	}
	first, last := s.items[idx[0]].event, s.items[idx[len(idx)-1]].event
	if first == last {
		b.setDead(first, signal, otlpclient.Reason(err), err.Error())
		return nil
	}
	// Split between events, halving the events.
	events := make([]int, 0, len(idx))
	for _, i := range idx {
		if ev := s.items[i].event; len(events) == 0 || events[len(events)-1] != ev {
			events = append(events, ev)
		}
	}
	mid := events[len(events)/2]
	k := slices.IndexFunc(idx, func(i int) bool { return s.items[i].event == mid })
	if err := e.sendItems(ctx, b, s, sender, signal, idx[:k]); err != nil {
		return err
	}
	return e.sendItems(ctx, b, s, sender, signal, idx[k:])
}

// refuseAllMin is the fewest events of a batch that, all refused one by
// one, make Send take the endpoint as misconfigured rather than set every
// event aside (an endpoint that refuses whatever it is sent, such as a
// proxy answering 400 to anything).
const refuseAllMin = 8

// sendWireBatch is Send on the wire path; a signal bound for the console
// (when the other goes over OTLP) goes through its SDK exporter.
func (e *Exporter) sendWireBatch(ctx context.Context, b *Batch) error {
	events := map[int]bool{}
	for _, s := range []*wireSignal{&b.wireTraces, &b.wireLogs} {
		for _, it := range s.items {
			events[it.event] = true
		}
	}
	err := e.sendWireSignals(ctx, b)
	if dead := b.DeadLetters(); len(events) >= refuseAllMin && len(dead) == len(events) {
		b.deadMu.Lock()
		b.dead = nil
		b.deadMu.Unlock()
		b.spansDone = b.spansDone && b.wireTraces.acked()
		b.logsDone = b.logsDone && b.wireLogs.acked()
		return errors.Join(err, &SendError{Misconfigured: true,
			Err: fmt.Errorf("the endpoint refused each of the %d events of a batch on its own: taken as refusing everything (%s)", len(events), dead[0].Message)})
	}
	if b.Done() {
		w := e.sync.wire
		for _, s := range []*wireSignal{&b.wireTraces, &b.wireLogs} {
			w.release(s.arena)
			s.arena = nil
		}
	}
	return err
}

func (e *Exporter) sendWireSignals(ctx context.Context, b *Batch) error {
	w := e.sync.wire
	return sendBoth(b, func() error {
		if w.traces == nil {
			return e.sendSDKSpans(ctx, b)
		}
		return e.sendSignal(ctx, b, &b.wireTraces, w.traces, signalTraces)
	}, func() error {
		if w.logs == nil {
			return e.sendSDKLogs(ctx, b)
		}
		return e.sendSignal(ctx, b, &b.wireLogs, w.logs, signalLogs)
	})
}
