package exporter

import (
	"context"
	"fmt"
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
	bufs   sync.Pool // of *[]byte, request buffers returned after Send
}

// wireable reports whether the wire path can carry traces and logs: each
// goes over OTLP or nowhere, and at least one over OTLP.
func (c exportConfig) wireable() bool {
	otlp := 0
	for _, s := range []signalConfig{c.traces(), c.logs()} {
		switch s.output {
		case outputOTLP:
			otlp++
		case outputNone:
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

// encode writes the spans and log records of ts into b's requests, deciding
// sampling as the SDK would for spans started with these ids and parents,
// and records the metric measurements. The caller holds e.sync.mu.
func (e *Exporter) encode(ctx context.Context, ts []mapping.Telemetry, b *Batch) {
	w := e.sync.wire
	var tr *otlpwire.Traces
	var lr *otlpwire.Logs
	if w.traces != nil {
		tr = w.enc.Traces(w.buffer())
	}
	if w.logs != nil {
		lr = w.enc.Logs(w.buffer())
	}
	started := make(map[trace.SpanID]trace.SpanContext)
	for i := range ts {
		t := &ts[i]
		clear(started)
		now := time.Now()
		for j := range t.Spans {
			s := &t.Spans[j]
			sc, meta, sampled := e.decide(s, started, now)
			started[s.SpanID] = sc
			if sampled && tr != nil {
				tr.Add(s, meta)
			}
		}
		for j := range t.Logs {
			r := &t.Logs[j]
			if lr != nil {
				sc := e.spanContext(r.TraceID, r.SpanID, started)
				lr.Add(r, otlpwire.LogMeta{TraceFlags: uint8(sc.TraceFlags()), Observed: now})
			}
		}
		for j := range t.Metrics {
			e.record(ctx, &t.Metrics[j], started)
		}
	}
	if tr != nil && tr.Len() > 0 {
		b.traceReq, b.wireSpans = tr.Finish(), tr.Len()
	} else if tr != nil {
		w.release(tr.Finish())
	}
	if lr != nil && lr.Len() > 0 {
		b.logReq, b.wireLogs = lr.Finish(), lr.Len()
	} else if lr != nil {
		w.release(lr.Finish())
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

// sendWire posts one encoded request. Rejected items of a partial success
// count as a failed export (resending would not help); a partial success
// with a message only is a warning.
func (e *Exporter) sendWire(ctx context.Context, s requestSender, signal string, request []byte, items int) error {
	res, err := s.Export(ctx, request)
	if err != nil {
		e.failures.record(signal, items, err)
		return err
	}
	switch {
	case res.Rejected > 0:
		e.failures.record(signal, int(res.Rejected), fmt.Errorf("partial success: %d rejected: %s", res.Rejected, res.Message))
	case res.Message != "":
		e.log.Warn("telemetry export partly succeeded", "signal", signal, "message", res.Message)
	}
	return nil
}

// sendWireBatch is Send on the wire path: it posts the requests of b not
// acknowledged yet and returns their buffers once sent.
func (e *Exporter) sendWireBatch(ctx context.Context, b *Batch) error {
	w := e.sync.wire
	return sendBoth(b, func() error {
		err := e.sendWire(ctx, w.traces, signalTraces, b.traceReq, b.wireSpans)
		if err == nil {
			w.release(b.traceReq)
			b.traceReq = nil
		}
		return err
	}, func() error {
		err := e.sendWire(ctx, w.logs, signalLogs, b.logReq, b.wireLogs)
		if err == nil {
			w.release(b.logReq)
			b.logReq = nil
		}
		return err
	})
}
