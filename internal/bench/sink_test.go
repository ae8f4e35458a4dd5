package bench

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// discardCodec reads a request and does not decode it: the sink costs the
// process as little as an OTLP endpoint can (the real Collector's decoding
// is measured by scripts/bench.sh, in its own process).
type discardCodec struct{ bytes *atomic.Int64 }

func (c discardCodec) Marshal(v any) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }
func (c discardCodec) Unmarshal(data []byte, _ any) error {
	c.bytes.Add(int64(len(data)))
	return nil
}
func (discardCodec) Name() string { return "proto" }

type sink struct {
	collectortrace.UnimplementedTraceServiceServer
	collectorlogs.UnimplementedLogsServiceServer
	collectormetrics.UnimplementedMetricsServiceServer
	requests atomic.Int64
	bytes    atomic.Int64
	endpoint string
}

func (s *sink) Export(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	s.requests.Add(1)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

type logsSink struct{ *sink }

func (s logsSink) Export(context.Context, *collectorlogs.ExportLogsServiceRequest) (*collectorlogs.ExportLogsServiceResponse, error) {
	s.requests.Add(1)
	return &collectorlogs.ExportLogsServiceResponse{}, nil
}

type metricsSink struct{ *sink }

func (s metricsSink) Export(context.Context, *collectormetrics.ExportMetricsServiceRequest) (*collectormetrics.ExportMetricsServiceResponse, error) {
	s.requests.Add(1)
	return &collectormetrics.ExportMetricsServiceResponse{}, nil
}

// startSink starts an OTLP/gRPC endpoint on 127.0.0.1 that acknowledges
// every export without decoding it, and points the OTLP exporters at it.
func startSink(b *testing.B) *sink {
	b.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &sink{endpoint: "http://" + lis.Addr().String()}
	srv := grpc.NewServer(grpc.ForceServerCodec(discardCodec{&s.bytes}))
	collectortrace.RegisterTraceServiceServer(srv, s)
	collectorlogs.RegisterLogsServiceServer(srv, logsSink{s})
	collectormetrics.RegisterMetricsServiceServer(srv, metricsSink{s})
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(srv.Stop)
	b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", s.endpoint)
	b.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	b.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	b.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "3600000")
	return s
}
