package otlptest

import (
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Span is one received span. Attribute values are string, bool, int64,
// float64, []byte, []any or map[string]any.
type Span struct {
	TraceID       trace.TraceID
	SpanID        trace.SpanID
	ParentSpanID  trace.SpanID
	Flags         uint32
	Name          string
	Kind          trace.SpanKind
	Start, End    time.Time
	Attributes    map[string]any
	Events        []Event
	Links         []Link
	StatusCode    otelcodes.Code
	StatusMessage string
	Resource      map[string]any
	Scope         string
	ScopeVersion  string
}

// Event is a span event.
type Event struct {
	Name       string
	Time       time.Time
	Attributes map[string]any
}

// Link is a span link.
type Link struct {
	TraceID    trace.TraceID
	SpanID     trace.SpanID
	Attributes map[string]any
}

// LogRecord is one received log record.
type LogRecord struct {
	EventName    string
	Time         time.Time
	ObservedTime time.Time
	Severity     log.Severity
	SeverityText string
	Body         any
	Attributes   map[string]any
	TraceID      trace.TraceID
	SpanID       trace.SpanID
	Flags        uint32
	Resource     map[string]any
	Scope        string
}

// Metric is one metric of one request.
type Metric struct {
	Name        string
	Unit        string
	Description string
	// Type is sum, gauge, histogram, exponential_histogram or summary.
	Type        string
	Monotonic   bool
	Temporality string // delta, cumulative or "" (gauge)
	Points      []Point
	Resource    map[string]any
	Scope       string
}

// Point is a metric data point. Value is set for sums and gauges; Count,
// Sum, Bounds and BucketCounts for histograms.
type Point struct {
	Attributes   map[string]any
	Start, Time  time.Time
	Value        float64
	Count        uint64
	Sum          float64
	Bounds       []float64
	BucketCounts []uint64
	Exemplars    []Exemplar
}

// Exemplar is a sample measurement linked to a span.
type Exemplar struct {
	TraceID trace.TraceID
	SpanID  trace.SpanID
	Value   float64
	Time    time.Time
}

func flattenSpans(req *collectortrace.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{
					TraceID:       traceID(s.GetTraceId()),
					SpanID:        spanID(s.GetSpanId()),
					ParentSpanID:  spanID(s.GetParentSpanId()),
					Flags:         s.GetFlags(),
					Name:          s.GetName(),
					Kind:          trace.SpanKind(s.GetKind()), // same numbering
					Start:         unixNano(s.GetStartTimeUnixNano()),
					End:           unixNano(s.GetEndTimeUnixNano()),
					Attributes:    attrs(s.GetAttributes()),
					StatusCode:    statusCode(s.GetStatus().GetCode()),
					StatusMessage: s.GetStatus().GetMessage(),
					Resource:      res,
					Scope:         ss.GetScope().GetName(),
					ScopeVersion:  ss.GetScope().GetVersion(),
				}
				for _, e := range s.GetEvents() {
					sp.Events = append(sp.Events, Event{
						Name: e.GetName(), Time: unixNano(e.GetTimeUnixNano()), Attributes: attrs(e.GetAttributes()),
					})
				}
				for _, l := range s.GetLinks() {
					sp.Links = append(sp.Links, Link{
						TraceID: traceID(l.GetTraceId()), SpanID: spanID(l.GetSpanId()), Attributes: attrs(l.GetAttributes()),
					})
				}
				out = append(out, sp)
			}
		}
	}
	return out
}

func statusCode(c tracepb.Status_StatusCode) otelcodes.Code {
	switch c {
	case tracepb.Status_STATUS_CODE_OK:
		return otelcodes.Ok
	case tracepb.Status_STATUS_CODE_ERROR:
		return otelcodes.Error
	default:
		return otelcodes.Unset
	}
}

func flattenLogs(req *collectorlogs.ExportLogsServiceRequest) []LogRecord {
	var out []LogRecord
	for _, rl := range req.GetResourceLogs() {
		res := attrs(rl.GetResource().GetAttributes())
		for _, sl := range rl.GetScopeLogs() {
			for _, r := range sl.GetLogRecords() {
				out = append(out, LogRecord{
					EventName:    r.GetEventName(),
					Time:         unixNano(r.GetTimeUnixNano()),
					ObservedTime: unixNano(r.GetObservedTimeUnixNano()),
					Severity:     log.Severity(r.GetSeverityNumber()), // same numbering
					SeverityText: r.GetSeverityText(),
					Body:         value(r.GetBody()),
					Attributes:   attrs(r.GetAttributes()),
					TraceID:      traceID(r.GetTraceId()),
					SpanID:       spanID(r.GetSpanId()),
					Flags:        r.GetFlags(),
					Resource:     res,
					Scope:        sl.GetScope().GetName(),
				})
			}
		}
	}
	return out
}

func flattenMetrics(req *collectormetrics.ExportMetricsServiceRequest) []Metric {
	var out []Metric
	for _, rm := range req.GetResourceMetrics() {
		res := attrs(rm.GetResource().GetAttributes())
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				fm := Metric{
					Name: m.GetName(), Unit: m.GetUnit(), Description: m.GetDescription(),
					Resource: res, Scope: sm.GetScope().GetName(),
				}
				switch d := m.GetData().(type) {
				case *metricspb.Metric_Sum:
					fm.Type, fm.Monotonic = "sum", d.Sum.GetIsMonotonic()
					fm.Temporality = temporality(d.Sum.GetAggregationTemporality())
					for _, p := range d.Sum.GetDataPoints() {
						fm.Points = append(fm.Points, numberPoint(p))
					}
				case *metricspb.Metric_Gauge:
					fm.Type = "gauge"
					for _, p := range d.Gauge.GetDataPoints() {
						fm.Points = append(fm.Points, numberPoint(p))
					}
				case *metricspb.Metric_Histogram:
					fm.Type = "histogram"
					fm.Temporality = temporality(d.Histogram.GetAggregationTemporality())
					for _, p := range d.Histogram.GetDataPoints() {
						fm.Points = append(fm.Points, Point{
							Attributes:   attrs(p.GetAttributes()),
							Start:        unixNano(p.GetStartTimeUnixNano()),
							Time:         unixNano(p.GetTimeUnixNano()),
							Count:        p.GetCount(),
							Sum:          p.GetSum(),
							Bounds:       p.GetExplicitBounds(),
							BucketCounts: p.GetBucketCounts(),
							Exemplars:    exemplars(p.GetExemplars()),
						})
					}
				case *metricspb.Metric_ExponentialHistogram:
					fm.Type = "exponential_histogram"
					fm.Temporality = temporality(d.ExponentialHistogram.GetAggregationTemporality())
					for _, p := range d.ExponentialHistogram.GetDataPoints() {
						fm.Points = append(fm.Points, Point{
							Attributes: attrs(p.GetAttributes()),
							Start:      unixNano(p.GetStartTimeUnixNano()),
							Time:       unixNano(p.GetTimeUnixNano()),
							Count:      p.GetCount(),
							Sum:        p.GetSum(),
						})
					}
				case *metricspb.Metric_Summary:
					fm.Type = "summary"
				}
				out = append(out, fm)
			}
		}
	}
	return out
}

func numberPoint(p *metricspb.NumberDataPoint) Point {
	v := p.GetAsDouble()
	if _, ok := p.GetValue().(*metricspb.NumberDataPoint_AsInt); ok {
		v = float64(p.GetAsInt())
	}
	return Point{
		Attributes: attrs(p.GetAttributes()),
		Start:      unixNano(p.GetStartTimeUnixNano()),
		Time:       unixNano(p.GetTimeUnixNano()),
		Value:      v,
		Exemplars:  exemplars(p.GetExemplars()),
	}
}

func exemplars(es []*metricspb.Exemplar) []Exemplar {
	var out []Exemplar
	for _, e := range es {
		v := e.GetAsDouble()
		if _, ok := e.GetValue().(*metricspb.Exemplar_AsInt); ok {
			v = float64(e.GetAsInt())
		}
		out = append(out, Exemplar{
			TraceID: traceID(e.GetTraceId()), SpanID: spanID(e.GetSpanId()),
			Value: v, Time: unixNano(e.GetTimeUnixNano()),
		})
	}
	return out
}

func temporality(t metricspb.AggregationTemporality) string {
	switch t {
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA:
		return "delta"
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE:
		return "cumulative"
	default:
		return ""
	}
}

func attrs(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = value(kv.GetValue())
	}
	return m
}

func value(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, value(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return attrs(x.KvlistValue.GetValues())
	default:
		return nil
	}
}

func traceID(b []byte) trace.TraceID {
	var id trace.TraceID
	copy(id[:], b)
	return id
}

func spanID(b []byte) trace.SpanID {
	var id trace.SpanID
	copy(id[:], b)
	return id
}

func unixNano(ns uint64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ns)) //nolint:gosec // OTLP times fit in int64 until 2262
}
