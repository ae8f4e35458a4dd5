package mapping

import (
	"math"
	"slices"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Reasons a number or timestamp of a payload was clamped or ignored at the
// edge of the mapping (the reason attribute of ClampedValues and the values
// of assistant_otel.mapping.clamped on the span).
const (
	// ClampConfidenceNotFinite: a confidence was NaN or ±Inf; it counts as 0.
	ClampConfidenceNotFinite = "confidence_not_finite"
	// ClampConfidenceRange: a confidence was outside [0, 1]; it is clamped
	// to the nearer bound.
	ClampConfidenceRange = "confidence_out_of_range"
	// ClampTimestampWindow: a timestamp lay outside the window around now
	// (Options.MaxEventAge before, MaxClockSkew after); it counts as absent.
	ClampTimestampWindow = "timestamp_out_of_window"
	// ClampLatency: a turn took longer than MaxTurnLatency; its duration is
	// clamped to it.
	ClampLatency = "latency_out_of_range"
	// ClampDuration: a call's or component's duration (or an RTP jitter)
	// was negative, not finite or longer than MaxCallDuration; it counts as
	// absent, i.e. 0 (a call whose timestamps span more is cut at
	// MaxCallDuration).
	ClampDuration = "duration_out_of_range"
	// ClampCount: an RTP packet count was negative or not finite; it
	// counts as 0.
	ClampCount = "count_out_of_range"
)

// Bounds of the time checks.
const (
	// DefaultMaxEventAge is the window before now of `serve` (zero
	// Options.MaxEventAge): the webhook is near-real-time, but `backfill
	// --via` posts through it logs as old as Watson keeps them (90 days on
	// Enterprise plans), so the window is Watson's longest log retention.
	DefaultMaxEventAge = 90 * 24 * time.Hour
	// HistoryMaxEventAge is the window of DefaultOptions, which `backfill`
	// and `replay` use: they import history, years of it from exported
	// files; Watson Assistant did not exist 20 years ago.
	HistoryMaxEventAge = 20 * 365 * 24 * time.Hour
	// MaxClockSkew is how far after now a timestamp may lie (Watson's
	// clock against ours).
	MaxClockSkew = time.Hour
	// MaxTurnLatency bounds a turn's duration: Watson times out extension
	// calls and generative answers within seconds to a minute.
	MaxTurnLatency = 5 * time.Minute
	// MaxCallDuration bounds a phone call's duration and its components'
	// response times.
	MaxCallDuration = 24 * time.Hour
)

// clamps collects the distinct reasons of one event, in order of first use.
type clamps []string

func (c *clamps) add(reason string) {
	if !slices.Contains(*c, reason) {
		*c = append(*c, reason)
	}
}

// confidence returns v inside [0, 1], recording why it had to change.
func (c *clamps) confidence(v watson.Float) watson.Float {
	f := float64(v)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		c.add(ClampConfidenceNotFinite)
		return 0
	case f < 0:
		c.add(ClampConfidenceRange)
		return 0
	case f > 1:
		c.add(ClampConfidenceRange)
		return 1
	}
	return v
}

// millis returns a duration in milliseconds, or 0 (absent, not recorded)
// when it is negative, not finite or beyond MaxCallDuration, recording why.
func (c *clamps) millis(v watson.Float) watson.Float {
	f := float64(v)
	maxMS := float64(MaxCallDuration / time.Millisecond)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0) || f < 0:
		c.add(ClampDuration)
		return 0
	case f > maxMS:
		c.add(ClampDuration)
		return 0 // absent: a day's worth would still pin the histogram
	}
	return v
}

// count returns a packet count, or 0 when it is negative or not finite.
func (c *clamps) count(v watson.Float) watson.Float {
	if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		c.add(ClampCount)
		return 0
	}
	return v
}

// sttConfidence records why a speech-to-text confidence that is present is
// left out (sttConfidence keeps only values inside [0, 1]).
func (c *clamps) sttConfidence(t *watson.CDRTurn) {
	st := t.Request.StreamingStatistics
	if st == nil || st.Confidence == nil {
		return
	}
	c.confidence(*st.Confidence)
}

// intent returns a copy of in with its confidence clamped (nil stays
// nil): the payload is never modified.
func (c *clamps) intent(in *watson.Intent) *watson.Intent {
	if in == nil {
		return nil
	}
	cp := *in
	cp.Confidence = c.confidence(cp.Confidence)
	return &cp
}

// now is the mapping's clock.
func (m *Mapper) now() time.Time {
	if m.opts.Now != nil {
		return m.opts.Now()
	}
	return time.Now()
}

// parseTime parses a payload timestamp; one outside the window around now
// counts as absent.
func (m *Mapper) parseTime(s string, c *clamps) time.Time {
	t := watson.ParseTime(s)
	if t.IsZero() {
		return t
	}
	now := m.now()
	age := m.opts.MaxEventAge
	if age <= 0 {
		age = DefaultMaxEventAge
	}
	if t.Before(now.Add(-age)) || t.After(now.Add(MaxClockSkew)) {
		c.add(ClampTimestampWindow)
		return time.Time{}
	}
	return t
}

// window returns a span's start and end from two optional timestamps.
func (m *Mapper) window(startS, endS string, received time.Time, c *clamps) (time.Time, time.Time) {
	start, end := m.parseTime(startS, c), m.parseTime(endS, c)
	switch {
	case start.IsZero() && end.IsZero():
		start, end = received, received
	case start.IsZero():
		start = end
	case end.IsZero():
		end = start
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// attrs is the span attribute naming the reasons, if any.
func (c clamps) attrs() []attribute.KeyValue {
	if len(c) == 0 {
		return nil
	}
	return []attribute.KeyValue{AttrClamped.StringSlice(c)}
}

// measurements counts each reason once for the event.
func (c clamps) measurements(traceID trace.TraceID, spanID trace.SpanID) []Measurement {
	ms := make([]Measurement, 0, len(c))
	for _, r := range c {
		ms = append(ms, Measurement{Instrument: ClampedValues, Value: 1,
			Attributes: []attribute.KeyValue{AttrClampReason.String(r)}, TraceID: traceID, SpanID: spanID})
	}
	return ms
}
