package exporter

import (
	"context"
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/exporter/internal/otlpwire"
	"github.com/assistant-otel/assistant-otel/mapping"
)

// Export records one event's telemetry: its spans (with the exact ids and
// times mapping chose), its log records and its metric measurements. It only
// hands data to the SDK's in-memory batches and never waits for the network;
// when a batch queue is full the SDK drops data (the service itself uses the
// synchronous path, through package pump).
//
// A span, record or measurement inherits nothing from the trace in ctx:
// every span is a root or the child of a span named by mapping.
//
// In synchronous mode (WithSynchronous) Export builds and sends at once and
// waits for the export (failures are counted and logged, not returned): use
// Build, Send and FlushMetrics to know the outcome.
func (e *Exporter) Export(ctx context.Context, t mapping.Telemetry) {
	if e.sync != nil {
		if b, err := e.Build(ctx, []mapping.Telemetry{t}); err == nil {
			_ = e.Send(ctx, b)
		}
		return
	}
	e.record1(ctx, t, true)
}

// record1 hands one event's telemetry to the providers: its spans and log
// records, and its metric measurements when withMetrics.
func (e *Exporter) record1(ctx context.Context, t mapping.Telemetry, withMetrics bool) {
	started := make(map[trace.SpanID]trace.SpanContext, len(t.Spans))
	for i := range t.Spans {
		s := &t.Spans[i]
		started[s.SpanID] = e.exportSpan(ctx, s, started)
	}
	for i := range t.Logs {
		e.emitLog(ctx, &t.Logs[i], started)
	}
	if !withMetrics {
		return
	}
	e.recordAll(ctx, t.Metrics, started)
}

func (e *Exporter) exportSpan(ctx context.Context, s *mapping.Span, started map[trace.SpanID]trace.SpanContext) trace.SpanContext {
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(s.Kind),
		trace.WithAttributes(s.Attributes...),
	}
	if !s.Start.IsZero() {
		opts = append(opts, trace.WithTimestamp(s.Start))
	}
	if len(s.Links) > 0 {
		links := make([]trace.Link, 0, len(s.Links))
		for _, l := range s.Links {
			links = append(links, trace.Link{
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: l.TraceID, SpanID: l.SpanID, Remote: true,
				}),
				Attributes: l.Attributes,
			})
		}
		opts = append(opts, trace.WithLinks(links...))
	}

	parent := ctx
	switch {
	case !s.ParentID.IsValid():
		opts = append(opts, trace.WithNewRoot())
	case started[s.ParentID].IsValid() && started[s.ParentID].TraceID() == s.TraceID:
		parent = trace.ContextWithSpanContext(ctx, started[s.ParentID])
	default:
		// The parent was exported with an earlier event: continue its trace
		// with the decision the sampler made (or will make) for it.
		parent = trace.ContextWithRemoteSpanContext(ctx, e.spanContext(s.TraceID, s.ParentID, nil))
	}

	_, span := e.tracer.Start(withWantedIDs(parent, s.TraceID, s.SpanID), s.Name, opts...)
	for _, ev := range s.Events {
		evOpts := []trace.EventOption{trace.WithAttributes(ev.Attributes...)}
		if !ev.Time.IsZero() {
			evOpts = append(evOpts, trace.WithTimestamp(ev.Time))
		}
		span.AddEvent(ev.Name, evOpts...)
	}
	if s.Status != codes.Unset {
		span.SetStatus(s.Status, s.StatusDescription)
	}
	if s.End.IsZero() {
		span.End()
	} else {
		span.End(trace.WithTimestamp(s.End))
	}
	return span.SpanContext()
}

func (e *Exporter) emitLog(ctx context.Context, r *mapping.LogRecord, started map[trace.SpanID]trace.SpanContext) {
	var rec otellog.Record
	rec.SetEventName(r.EventName)
	rec.SetTimestamp(r.Time)
	rec.SetObservedTimestamp(time.Now())
	rec.SetSeverity(r.Severity)
	rec.SetSeverityText(r.SeverityText)
	if r.Body != "" {
		rec.SetBody(attribute.StringValue(r.Body))
	}
	rec.AddAttributes(otlpwire.DedupAttributes(r.Attributes)...)
	e.logger.Emit(e.correlated(ctx, r.TraceID, r.SpanID, started), rec)
}

// recordAll records the measurements of one event; those of the same span
// (all of a turn's) share one correlated context.
func (e *Exporter) recordAll(ctx context.Context, ms []mapping.Measurement, started map[trace.SpanID]trace.SpanContext) {
	var mctx context.Context
	var traceID trace.TraceID
	var spanID trace.SpanID
	for i := range ms {
		m := &ms[i]
		if mctx == nil || m.TraceID != traceID || m.SpanID != spanID {
			mctx, traceID, spanID = e.correlated(ctx, m.TraceID, m.SpanID, started), m.TraceID, m.SpanID
		}
		e.record(mctx, m)
	}
}

// record records m; ctx carries the span context of m's span.
func (e *Exporter) record(ctx context.Context, m *mapping.Measurement) {
	inst, ok := e.instruments[m.Instrument]
	if !ok || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
		e.log.Debug("measurement dropped", "instrument", int(m.Instrument), "value", m.Value)
		return
	}
	opt := e.measureOpts.of(e.labels.apply(m.Attributes))
	switch {
	case inst.counter != nil && m.Value >= 0:
		inst.counter.Add(ctx, m.Value, opt.add...)
		e.handoffs.record(ctx, m, opt.add[0])
	case inst.histogram != nil:
		inst.histogram.Record(ctx, m.Value, opt.record...)
	default:
		e.log.Debug("negative counter increment dropped", "instrument", int(m.Instrument), "value", m.Value)
	}
}

// correlated returns ctx carrying the span context of traceID/spanID (and no
// other), so that a log record takes its ids from it and a measurement can
// carry them in an exemplar.
func (e *Exporter) correlated(ctx context.Context, traceID trace.TraceID, spanID trace.SpanID, started map[trace.SpanID]trace.SpanContext) context.Context {
	return trace.ContextWithSpanContext(ctx, e.spanContext(traceID, spanID, started))
}

// spanContext returns the span context of a span: the one started in this
// export if it is there, else one whose sampled flag is the sampler's
// decision for a root span of that trace (a conversation's turns are roots).
// Without a trace id it is empty; without a span id it carries the trace id
// only (a log record can belong to a trace but no span).
func (e *Exporter) spanContext(traceID trace.TraceID, spanID trace.SpanID, started map[trace.SpanID]trace.SpanContext) trace.SpanContext {
	if !traceID.IsValid() {
		return trace.SpanContext{}
	}
	if sc, ok := started[spanID]; ok && sc.TraceID() == traceID {
		return sc
	}
	var flags trace.TraceFlags
	res := e.sampler.ShouldSample(sdktrace.SamplingParameters{
		ParentContext: context.Background(),
		TraceID:       traceID,
	})
	if res.Decision == sdktrace.RecordAndSample {
		flags = trace.FlagsSampled
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: flags})
}
