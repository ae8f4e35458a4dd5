// Package otlptest is an OTLP receiver for tests: a gRPC or HTTP/protobuf
// server on the loopback interface that records everything it is sent and
// offers it back as flat, comparable values.
package otlptest

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // accept OTEL_EXPORTER_OTLP_COMPRESSION=gzip
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Protocols a Server speaks.
const (
	GRPC = "grpc"
	HTTP = "http/protobuf"
)

// Server is a running OTLP receiver. Its methods are safe for concurrent use.
type Server struct {
	protocol string
	endpoint string
	grpc     *grpc.Server
	http     *http.Server

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever something arrives
	failing  bool
	refuse   func(spans []Span, logs []LogRecord) Refusal
	requests int // accepted export requests, all signals
	refused  int // export requests answered with an error
	sizes    []int
	spans    []Span
	logs     []LogRecord
	metrics  []Metric
}

// Refusal is how a Server answers a trace or logs request (SetRefuse).
type Refusal int

const (
	// Accept takes the request.
	Accept Refusal = iota
	// RefuseContent refuses it for what it holds: gRPC InvalidArgument,
	// HTTP 400.
	RefuseContent
	// RefuseAuth refuses it as unauthenticated: gRPC Unauthenticated,
	// HTTP 401.
	RefuseAuth
)

// SetRefuse makes the server ask f about every trace and logs request
// (its spans or log records) and answer as it says; nil accepts all.
func (s *Server) SetRefuse(f func(spans []Span, logs []LogRecord) Refusal) {
	s.mu.Lock()
	s.refuse = f
	s.mu.Unlock()
}

// RequestSizes returns the size in bytes (serialized, uncompressed) of
// every export request received, accepted or not, in arrival order.
func (s *Server) RequestSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.sizes...)
}

// Option configures a Server.
type Option func(*Server)

// Failing makes the server refuse every export (gRPC Unavailable, HTTP 503)
// until SetFailing(false).
func Failing() Option { return func(s *Server) { s.failing = true } }

// StartGRPC starts an OTLP/gRPC receiver on 127.0.0.1 and stops it when the
// test ends.
func StartGRPC(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, lis := newServer(tb, GRPC, opts)
	// A sink takes what it is sent, whatever the size (a Collector's batch
	// processor in front of it may merge requests beyond gRPC's 4 MiB
	// default); size limits are the Collector's under test.
	s.grpc = grpc.NewServer(grpc.MaxRecvMsgSize(256 << 20))
	collectortrace.RegisterTraceServiceServer(s.grpc, traceService{s: s})
	collectorlogs.RegisterLogsServiceServer(s.grpc, logsService{s: s})
	collectormetrics.RegisterMetricsServiceServer(s.grpc, metricsService{s: s})
	go func() { _ = s.grpc.Serve(lis) }()
	tb.Cleanup(s.Close)
	return s
}

// StartHTTP starts an OTLP/HTTP (protobuf) receiver on 127.0.0.1 serving
// /v1/traces, /v1/logs and /v1/metrics, and stops it when the test ends.
func StartHTTP(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, lis := newServer(tb, HTTP, opts)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", s.handleHTTP(
		func() proto.Message { return &collectortrace.ExportTraceServiceRequest{} },
		func(m proto.Message) ([]Span, []LogRecord, []Metric) {
			return flattenSpans(m.(*collectortrace.ExportTraceServiceRequest)), nil, nil
		},
		&collectortrace.ExportTraceServiceResponse{}))
	mux.HandleFunc("POST /v1/logs", s.handleHTTP(
		func() proto.Message { return &collectorlogs.ExportLogsServiceRequest{} },
		func(m proto.Message) ([]Span, []LogRecord, []Metric) {
			return nil, flattenLogs(m.(*collectorlogs.ExportLogsServiceRequest)), nil
		},
		&collectorlogs.ExportLogsServiceResponse{}))
	mux.HandleFunc("POST /v1/metrics", s.handleHTTP(
		func() proto.Message { return &collectormetrics.ExportMetricsServiceRequest{} },
		func(m proto.Message) ([]Span, []LogRecord, []Metric) {
			return nil, nil, flattenMetrics(m.(*collectormetrics.ExportMetricsServiceRequest))
		},
		&collectormetrics.ExportMetricsServiceResponse{}))
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(lis) }()
	tb.Cleanup(s.Close)
	return s
}

func newServer(tb testing.TB, protocol string, opts []Option) (*Server, net.Listener) {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("otlptest: listen: %v", err)
	}
	s := &Server{protocol: protocol, endpoint: "http://" + lis.Addr().String(), changed: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}
	return s, lis
}

// Endpoint is the server's URL, http://127.0.0.1:PORT, fit for
// OTEL_EXPORTER_OTLP_ENDPOINT with either protocol.
func (s *Server) Endpoint() string { return s.endpoint }

// Protocol is GRPC or HTTP.
func (s *Server) Protocol() string { return s.protocol }

// Close stops the server at once.
func (s *Server) Close() {
	if s.grpc != nil {
		s.grpc.Stop()
	}
	if s.http != nil {
		_ = s.http.Close()
	}
}

// SetFailing makes the server refuse (true) or accept (false) exports.
func (s *Server) SetFailing(failing bool) {
	s.mu.Lock()
	s.failing = failing
	s.mu.Unlock()
}

// Requests returns the number of export requests accepted and refused.
func (s *Server) Requests() (accepted, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.refused
}

// Spans returns every span received so far, in arrival order.
func (s *Server) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// LogRecords returns every log record received so far, in arrival order.
func (s *Server) LogRecords() []LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogRecord(nil), s.logs...)
}

// Metrics returns every metric received so far, one entry per metric per
// request, in arrival order.
func (s *Server) Metrics() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Metric(nil), s.metrics...)
}

// WaitSpans waits until at least n spans have arrived and returns all spans.
func (s *Server) WaitSpans(n int, timeout time.Duration) ([]Span, error) {
	err := s.wait(timeout, func() bool { return len(s.spans) >= n })
	if err != nil {
		return s.Spans(), fmt.Errorf("otlptest: waiting for %d spans, have %d: %w", n, len(s.Spans()), err)
	}
	return s.Spans(), nil
}

// WaitLogRecords waits until at least n log records have arrived and returns
// all log records.
func (s *Server) WaitLogRecords(n int, timeout time.Duration) ([]LogRecord, error) {
	err := s.wait(timeout, func() bool { return len(s.logs) >= n })
	if err != nil {
		return s.LogRecords(), fmt.Errorf("otlptest: waiting for %d log records, have %d: %w", n, len(s.LogRecords()), err)
	}
	return s.LogRecords(), nil
}

// WaitMetric waits until a metric with the name has arrived and returns the
// latest one received.
func (s *Server) WaitMetric(name string, timeout time.Duration) (Metric, error) {
	var m Metric
	err := s.wait(timeout, func() bool {
		for i := len(s.metrics) - 1; i >= 0; i-- {
			if s.metrics[i].Name == name {
				m = s.metrics[i]
				return true
			}
		}
		return false
	})
	if err != nil {
		return Metric{}, fmt.Errorf("otlptest: waiting for metric %q: %w", name, err)
	}
	return m, nil
}

// WaitRefused waits until at least n export requests have been refused.
func (s *Server) WaitRefused(n int, timeout time.Duration) error {
	return s.wait(timeout, func() bool { return s.refused >= n })
}

var errTimeout = errors.New("timed out")

// wait calls done, with the lock held, whenever something arrives, until it
// returns true or the timeout passes.
func (s *Server) wait(timeout time.Duration, done func() bool) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok, changed := done(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return errTimeout
		}
	}
}

// CounterSum returns the total of a sum metric over all its streams
// (attribute sets): for cumulative streams the latest value of each, for
// delta streams the sum of all points.
func (s *Server) CounterSum(name string, match ...Attr) float64 {
	var total float64
	for _, p := range s.points(name, match) {
		total += p.Value
	}
	return total
}

// HistogramCount returns the number of observations of a histogram metric
// over all its streams, counted like CounterSum.
func (s *Server) HistogramCount(name string, match ...Attr) uint64 {
	var total uint64
	for _, p := range s.points(name, match) {
		total += p.Count
	}
	return total
}

// Attr selects data points by attribute in CounterSum and HistogramCount.
type Attr struct {
	Key   string
	Value any
}

// points returns the data points of a metric that count towards its
// total: every delta point, and the latest point of each cumulative stream.
func (s *Server) points(name string, match []Attr) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Point
	latest := map[string]int{} // stream key → index in out
	for _, m := range s.metrics {
		if m.Name != name {
			continue
		}
	points:
		for _, p := range m.Points {
			for _, a := range match {
				if fmt.Sprint(p.Attributes[a.Key]) != fmt.Sprint(a.Value) {
					continue points
				}
			}
			if m.Temporality != "cumulative" {
				out = append(out, p)
				continue
			}
			key := fmt.Sprint(m.Resource, "|", m.Scope, "|", p.Attributes)
			if i, ok := latest[key]; ok {
				if !p.Time.Before(out[i].Time) {
					out[i] = p
				}
				continue
			}
			latest[key] = len(out)
			out = append(out, p)
		}
	}
	return out
}

// record stores a request's contents, or refuses it when failing or when
// the refuse function says so.
func (s *Server) record(size int, spans []Span, logs []LogRecord, metrics []Metric) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		close(s.changed)
		s.changed = make(chan struct{})
	}()
	s.sizes = append(s.sizes, size)
	if s.failing {
		s.refused++
		return errFailing
	}
	if s.refuse != nil && (len(spans) > 0 || len(logs) > 0) {
		if r := s.refuse(spans, logs); r != Accept {
			s.refused++
			return &refusal{r}
		}
	}
	s.requests++
	s.spans = append(s.spans, spans...)
	s.logs = append(s.logs, logs...)
	s.metrics = append(s.metrics, metrics...)
	return nil
}

var errFailing = errors.New("otlptest: refusing exports on purpose")

// refusal is a refusal of SetRefuse's function.
type refusal struct{ r Refusal }

func (r *refusal) Error() string {
	if r.r == RefuseAuth {
		return "otlptest: not authenticated (on purpose)"
	}
	return "otlptest: refusing this content (on purpose)"
}

// grpcError is err as the gRPC status the server answers.
func grpcError(err error) error {
	var r *refusal
	switch {
	case errors.As(err, &r) && r.r == RefuseAuth:
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.As(err, &r):
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Unavailable, err.Error())
}

// httpStatus is err as the HTTP status the server answers.
func httpStatus(err error) int {
	var r *refusal
	switch {
	case errors.As(err, &r) && r.r == RefuseAuth:
		return http.StatusUnauthorized
	case errors.As(err, &r):
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

type traceService struct {
	collectortrace.UnimplementedTraceServiceServer
	s *Server
}

func (t traceService) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	if err := t.s.record(proto.Size(req), flattenSpans(req), nil, nil); err != nil {
		return nil, grpcError(err)
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

type logsService struct {
	collectorlogs.UnimplementedLogsServiceServer
	s *Server
}

func (l logsService) Export(_ context.Context, req *collectorlogs.ExportLogsServiceRequest) (*collectorlogs.ExportLogsServiceResponse, error) {
	if err := l.s.record(proto.Size(req), nil, flattenLogs(req), nil); err != nil {
		return nil, grpcError(err)
	}
	return &collectorlogs.ExportLogsServiceResponse{}, nil
}

type metricsService struct {
	collectormetrics.UnimplementedMetricsServiceServer
	s *Server
}

func (m metricsService) Export(_ context.Context, req *collectormetrics.ExportMetricsServiceRequest) (*collectormetrics.ExportMetricsServiceResponse, error) {
	if err := m.s.record(proto.Size(req), nil, nil, flattenMetrics(req)); err != nil {
		return nil, grpcError(err)
	}
	return &collectormetrics.ExportMetricsServiceResponse{}, nil
}

// handleHTTP serves one OTLP/HTTP signal path: a protobuf request body,
// optionally gzipped, and a protobuf response.
func (s *Server) handleHTTP(newReq func() proto.Message, flatten func(proto.Message) ([]Span, []LogRecord, []Metric), resp proto.Message) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			defer zr.Close()
			body = zr
		}
		data, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := newReq()
		if err := proto.Unmarshal(data, req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		spans, logs, metrics := flatten(req)
		if err := s.record(len(data), spans, logs, metrics); err != nil {
			http.Error(w, err.Error(), httpStatus(err))
			return
		}
		out, err := proto.Marshal(resp)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}
}
