package exporter

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	"go.opentelemetry.io/otel/trace"
)

// wantedIDsKey is the context key under which Export passes the ids the next
// span must have to the id generator.
type wantedIDsKey struct{}

type wantedIDs struct {
	traceID trace.TraceID
	spanID  trace.SpanID
}

// withWantedIDs returns a context that makes the next span started with it
// get the given ids (the trace id is used only for a root span).
func withWantedIDs(ctx context.Context, traceID trace.TraceID, spanID trace.SpanID) context.Context {
	return context.WithValue(ctx, wantedIDsKey{}, wantedIDs{traceID: traceID, spanID: spanID})
}

// idGenerator is an sdktrace.IDGenerator that hands out the ids Export put in
// the context, and random ids to any other span.
type idGenerator struct{}

// NewIDs returns the ids for a root span.
func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if w, ok := ctx.Value(wantedIDsKey{}).(wantedIDs); ok && w.traceID.IsValid() && w.spanID.IsValid() {
		return w.traceID, w.spanID
	}
	return randomTraceID(), randomSpanID()
}

// NewSpanID returns the span id for a child span.
func (idGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if w, ok := ctx.Value(wantedIDsKey{}).(wantedIDs); ok && w.spanID.IsValid() {
		return w.spanID
	}
	return randomSpanID()
}

func randomTraceID() trace.TraceID {
	var id trace.TraceID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:8], rand.Uint64())
		binary.BigEndian.PutUint64(id[8:], rand.Uint64())
	}
	return id
}

func randomSpanID() trace.SpanID {
	var id trace.SpanID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}
