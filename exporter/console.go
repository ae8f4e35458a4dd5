package exporter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The console exporters write telemetry in a compact, human-readable form,
// one line per span, log record and metric data point (span events and links
// on indented lines below their span), for example:
//
//	2026-05-01T10:00:00.000Z resource service.name="assistant-otel" ...
//	2026-05-01T10:00:00.120Z span  invoke_agent Demo 1.234s trace=… span=… kind=server status=ok k="v"
//	    event intent +0.100s k="v"
//	2026-05-01T10:00:01.354Z log   INFO watson_assistant.turn trace=… span=… "body" k="v"
//	2026-05-01T10:00:10.000Z metric watson_assistant.turns +1 {outcome="answered"}
//
// Long strings are shortened to consoleMaxString bytes on the console only.

const (
	consoleTimeFormat = "2006-01-02T15:04:05.000Z07:00"
	consoleMaxString  = 240
)

// console serialises the writes of the three console exporters to one
// writer.
type console struct {
	mu            sync.Mutex
	w             io.Writer
	shownResource bool

	// transcript shows turns as a transcript (transcript.go) instead of
	// every span, log record and metric.
	transcript bool
	tmu        sync.Mutex // one transcript batch at a time
	lastConv   string     // the conversation whose header was shown last
}

func newConsole(w io.Writer, format string) *console {
	return &console{w: w, transcript: format == ConsoleTranscript}
}

// write writes the lines in buf at once, preceded the first time by a line
// describing the resource.
func (c *console) write(res *resource.Resource, buf *bytes.Buffer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.shownResource && res != nil {
		c.shownResource = true
		var head bytes.Buffer
		head.WriteString(time.Now().UTC().Format(consoleTimeFormat))
		head.WriteString(" resource")
		writeAttrs(&head, res.Attributes())
		head.WriteByte('\n')
		if _, err := c.w.Write(head.Bytes()); err != nil {
			return fmt.Errorf("console: write: %w", err)
		}
	}
	if buf.Len() == 0 {
		return nil
	}
	if _, err := c.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}

// consoleSpanExporter writes spans to the console.
type consoleSpanExporter struct{ c *console }

func (e consoleSpanExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 || e.c.transcript {
		return nil
	}
	var b bytes.Buffer
	for _, s := range spans {
		start := s.StartTime()
		b.WriteString(formatTime(start))
		b.WriteString(" span  ")
		b.WriteString(s.Name())
		b.WriteByte(' ')
		b.WriteString(s.EndTime().Sub(start).Round(time.Microsecond).String())
		b.WriteString(" trace=")
		b.WriteString(s.SpanContext().TraceID().String())
		b.WriteString(" span=")
		b.WriteString(s.SpanContext().SpanID().String())
		if p := s.Parent(); p.SpanID().IsValid() {
			b.WriteString(" parent=")
			b.WriteString(p.SpanID().String())
		}
		b.WriteString(" kind=")
		b.WriteString(s.SpanKind().String())
		if st := s.Status(); st.Code != codes.Unset {
			b.WriteString(" status=")
			if st.Code == codes.Error {
				b.WriteString("error")
				if st.Description != "" {
					b.WriteByte('(')
					b.WriteString(quote(st.Description))
					b.WriteByte(')')
				}
			} else {
				b.WriteString("ok")
			}
		}
		writeAttrs(&b, s.Attributes())
		b.WriteByte('\n')
		for _, ev := range s.Events() {
			b.WriteString("    event ")
			b.WriteString(ev.Name)
			b.WriteString(" +")
			b.WriteString(ev.Time.Sub(start).Round(time.Microsecond).String())
			writeAttrs(&b, ev.Attributes)
			b.WriteByte('\n')
		}
		for _, l := range s.Links() {
			b.WriteString("    link trace=")
			b.WriteString(l.SpanContext.TraceID().String())
			b.WriteString(" span=")
			b.WriteString(l.SpanContext.SpanID().String())
			writeAttrs(&b, l.Attributes)
			b.WriteByte('\n')
		}
	}
	return e.c.write(spans[0].Resource(), &b)
}

func (consoleSpanExporter) Shutdown(context.Context) error { return nil }

// consoleLogExporter writes log records to the console.
type consoleLogExporter struct{ c *console }

func (e consoleLogExporter) Export(_ context.Context, records []sdklog.Record) error {
	if len(records) == 0 {
		return nil
	}
	var b bytes.Buffer
	if e.c.transcript {
		e.c.tmu.Lock()
		defer e.c.tmu.Unlock()
		writeTranscript(&b, records, &e.c.lastConv)
		return e.c.write(records[0].Resource(), &b)
	}
	for i := range records {
		r := &records[i]
		t := r.Timestamp()
		if t.IsZero() {
			t = r.ObservedTimestamp()
		}
		b.WriteString(formatTime(t))
		b.WriteString(" log   ")
		sev := r.SeverityText()
		if sev == "" {
			sev = r.Severity().String()
		}
		b.WriteString(sev)
		if name := r.EventName(); name != "" {
			b.WriteByte(' ')
			b.WriteString(name)
		}
		if r.TraceID().IsValid() {
			b.WriteString(" trace=")
			b.WriteString(r.TraceID().String())
		}
		if r.SpanID().IsValid() {
			b.WriteString(" span=")
			b.WriteString(r.SpanID().String())
		}
		if body := r.Body(); body.Type() != attribute.EMPTY {
			b.WriteByte(' ')
			writeValue(&b, body)
		}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			writeAttr(&b, kv)
			return true
		})
		b.WriteByte('\n')
	}
	return e.c.write(records[0].Resource(), &b)
}

func (consoleLogExporter) Shutdown(context.Context) error   { return nil }
func (consoleLogExporter) ForceFlush(context.Context) error { return nil }

// consoleMetricExporter writes metric data points to the console. It asks
// for delta temporality so that each line shows what happened in one
// interval, and quiet intervals print nothing.
type consoleMetricExporter struct{ c *console }

func (consoleMetricExporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DeltaTemporalitySelector(k)
}

func (consoleMetricExporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (e consoleMetricExporter) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	if e.c.transcript {
		return nil
	}
	var b bytes.Buffer
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			writeMetric(&b, m)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return e.c.write(rm.Resource, &b)
}

func (consoleMetricExporter) ForceFlush(context.Context) error { return nil }
func (consoleMetricExporter) Shutdown(context.Context) error   { return nil }

func writeMetric(b *bytes.Buffer, m metricdata.Metrics) {
	head := func(t time.Time) {
		b.WriteString(formatTime(t))
		b.WriteString(" metric ")
		b.WriteString(m.Name)
		b.WriteByte(' ')
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			head(p.Time)
			writeSum(b, p.Value, d.IsMonotonic, d.Temporality)
			writeAttrSet(b, p.Attributes)
		}
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			head(p.Time)
			writeSum(b, float64(p.Value), d.IsMonotonic, d.Temporality)
			writeAttrSet(b, p.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			head(p.Time)
			b.WriteString("=" + formatFloat(p.Value))
			writeAttrSet(b, p.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			head(p.Time)
			b.WriteString("=" + strconv.FormatInt(p.Value, 10))
			writeAttrSet(b, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			head(p.Time)
			fmt.Fprintf(b, "count=%d sum=%s", p.Count, formatFloat(p.Sum))
			if v, ok := p.Min.Value(); ok {
				b.WriteString(" min=" + formatFloat(v))
			}
			if v, ok := p.Max.Value(); ok {
				b.WriteString(" max=" + formatFloat(v))
			}
			writeAttrSet(b, p.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			head(p.Time)
			fmt.Fprintf(b, "count=%d sum=%d", p.Count, p.Sum)
			writeAttrSet(b, p.Attributes)
		}
	default:
		head(time.Now())
		fmt.Fprintf(b, "(%T)\n", m.Data)
	}
}

func writeSum(b *bytes.Buffer, v float64, monotonic bool, t metricdata.Temporality) {
	switch {
	case t == metricdata.DeltaTemporality && (monotonic || v >= 0):
		b.WriteString("+" + formatFloat(v))
	case t == metricdata.DeltaTemporality:
		b.WriteString(formatFloat(v))
	default:
		b.WriteString("total=" + formatFloat(v))
	}
}

// writeAttrSet writes a data point's attributes in braces and ends the line.
func writeAttrSet(b *bytes.Buffer, set attribute.Set) {
	if set.Len() > 0 {
		b.WriteString(" {")
		for i, kv := range set.ToSlice() {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(string(kv.Key))
			b.WriteByte('=')
			writeValue(b, kv.Value)
		}
		b.WriteByte('}')
	}
	b.WriteByte('\n')
}

func writeAttrs(b *bytes.Buffer, kvs []attribute.KeyValue) {
	for _, kv := range kvs {
		writeAttr(b, kv)
	}
}

func writeAttr(b *bytes.Buffer, kv attribute.KeyValue) {
	b.WriteByte(' ')
	b.WriteString(string(kv.Key))
	b.WriteByte('=')
	writeValue(b, kv.Value)
}

func writeValue(b *bytes.Buffer, v attribute.Value) {
	switch v.Type() {
	case attribute.STRING:
		b.WriteString(quote(v.AsString()))
	case attribute.FLOAT64:
		b.WriteString(formatFloat(v.AsFloat64()))
	default:
		b.WriteString(shorten(v.String()))
	}
}

// quote quotes s (Go syntax, Unicode kept), shortened for the console.
func quote(s string) string {
	return strconv.Quote(shorten(s))
}

// shorten cuts s to at most consoleMaxString bytes on a rune boundary,
// saying how long it was.
func shorten(s string) string {
	if len(s) <= consoleMaxString {
		return s
	}
	cut := consoleMaxString
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

func formatTime(t time.Time) string { return t.UTC().Format(consoleTimeFormat) }

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Compile-time checks.
var (
	_ sdktrace.SpanExporter = consoleSpanExporter{}
	_ sdklog.Exporter       = consoleLogExporter{}
	_ sdkmetric.Exporter    = consoleMetricExporter{}
)
