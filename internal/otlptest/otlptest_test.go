package otlptest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
	"time"

	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func sumRequest(temporality metricspb.AggregationTemporality, at uint64, v float64, outcome string) *collectormetrics.ExportMetricsServiceRequest {
	return &collectormetrics.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: []*metricspb.Metric{{
			Name: "turns",
			Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
				AggregationTemporality: temporality, IsMonotonic: true,
				DataPoints: []*metricspb.NumberDataPoint{{
					TimeUnixNano: at,
					Value:        &metricspb.NumberDataPoint_AsDouble{AsDouble: v},
					Attributes: []*commonpb.KeyValue{{Key: "outcome", Value: &commonpb.AnyValue{
						Value: &commonpb.AnyValue_StringValue{StringValue: outcome}}}},
				}},
			}},
		}}}},
	}}}
}

func TestGRPCServer(t *testing.T) {
	s := StartGRPC(t)
	conn, err := grpc.NewClient(strings.TrimPrefix(s.Endpoint(), "http://"),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	metrics := collectormetrics.NewMetricsServiceClient(conn)
	cum := metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
	for _, req := range []*collectormetrics.ExportMetricsServiceRequest{
		sumRequest(cum, 1, 2, "answered"),
		sumRequest(cum, 3, 5, "answered"), // the latest cumulative value counts
		sumRequest(cum, 2, 4, "answered"), // older: ignored
		sumRequest(cum, 2, 1, "fallback"),
	} {
		if _, err := metrics.Export(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.CounterSum("turns"); got != 6 {
		t.Errorf("cumulative sum = %v, want 6", got)
	}
	if got := s.CounterSum("turns", Attr{"outcome", "fallback"}); got != 1 {
		t.Errorf("fallback sum = %v, want 1", got)
	}

	s.SetFailing(true)
	traces := collectortrace.NewTraceServiceClient(conn)
	_, err = traces.Export(t.Context(), &collectortrace.ExportTraceServiceRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("failing server answered %v, want Unavailable", err)
	}
	if accepted, refused := s.Requests(); accepted != 4 || refused != 1 {
		t.Errorf("requests accepted %d refused %d, want 4 and 1", accepted, refused)
	}
	if _, err := s.WaitSpans(1, 50*time.Millisecond); err == nil {
		t.Error("WaitSpans succeeded with no spans")
	}
}

func TestHTTPServer(t *testing.T) {
	s := StartHTTP(t)
	req := &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{
			TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8), Name: "turn",
			StartTimeUnixNano: 1_000_000_000, EndTimeUnixNano: 2_000_000_000,
			Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "boom"},
			Attributes: []*commonpb.KeyValue{{Key: "n", Value: &commonpb.AnyValue{
				Value: &commonpb.AnyValue_IntValue{IntValue: 7}}}},
		}}}},
	}}}
	body, _ := proto.Marshal(req)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	post := func() int {
		r, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Endpoint()+"/v1/traces", bytes.NewReader(gz.Bytes()))
		r.Header.Set("Content-Type", "application/x-protobuf")
		r.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	spans, err := s.WaitSpans(1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sp := spans[0]
	if sp.Name != "turn" || sp.TraceID[0] != 1 || sp.SpanID[7] != 2 || sp.Attributes["n"] != int64(7) ||
		sp.End.Sub(sp.Start) != time.Second || sp.StatusMessage != "boom" {
		t.Errorf("span %+v", sp)
	}
	s.SetFailing(true)
	if code := post(); code != http.StatusServiceUnavailable {
		t.Errorf("failing status %d, want 503", code)
	}
}
