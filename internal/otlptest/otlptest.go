// Package otlptest is the fake OTLP endpoint of the tests: a gRPC or
// HTTP/protobuf server on the loopback interface that records everything it
// is sent and offers it back as flat, comparable values. It can also keep
// each request as received (headers, compression, body: KeepRequests), fail
// or refuse on purpose (Failing, SetRefuse), answer as a test says
// (SetGRPCAnswer, SetHTTPReply: status codes, partial successes, delays),
// serve TLS (WithTLS) and count connections. It imports only the OTLP
// protobuf types and gRPC, so any package's tests may use it.
package otlptest

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"sync"
	"testing"
	"time"

	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // accept OTEL_EXPORTER_OTLP_COMPRESSION=gzip
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
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
	addr     string      // to listen on; "" is 127.0.0.1:0
	tls      *tls.Config // nil: plain text
	grpcOpts []grpc.ServerOption
	keep     bool // keep every request in received
	grpc     *grpc.Server
	http     *http.Server

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced whenever something arrives
	failing    bool
	refuse     func(spans []Span, logs []LogRecord) Refusal
	grpcAnswer func(ctx context.Context) (rejected int64, message string, err error)
	httpReply  http.HandlerFunc
	requests   int // accepted export requests, all signals
	refused    int // export requests answered with an error
	conns      int // connections accepted
	sizes      []int
	received   []Request
	spans      []Span
	logs       []LogRecord
	metrics    []Metric
}

// Request is one request as the server received it (KeepRequests).
type Request struct {
	// Signal is "traces", "logs" or "metrics": the gRPC service, or the
	// last segment of the HTTP path ("" when it names none).
	Signal string
	// Path is the HTTP path or the gRPC method.
	Path string
	// Header holds the HTTP headers or the gRPC metadata, with canonical
	// keys (Header.Get works for both).
	Header http.Header
	// Compression is the HTTP Content-Encoding or the gRPC compressor:
	// "gzip" or "".
	Compression string
	// Body is the serialized export request, decompressed.
	Body []byte
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

// KeepRequests makes the server keep every request as received (Received).
func KeepRequests() Option { return func(s *Server) { s.keep = true } }

// At makes the server listen on addr (host:port) instead of a free port on
// 127.0.0.1, e.g. to start it where a client already points.
func At(addr string) Option { return func(s *Server) { s.addr = addr } }

// WithTLS serves TLS with cfg; the endpoint is then https://.
func WithTLS(cfg *tls.Config) Option { return func(s *Server) { s.tls = cfg } }

// GRPCServerOptions adds options to a gRPC server (e.g. an InTapHandle).
func GRPCServerOptions(opts ...grpc.ServerOption) Option {
	return func(s *Server) { s.grpcOpts = append(s.grpcOpts, opts...) }
}

// SetGRPCAnswer makes a gRPC server answer every request with answer
// instead of recording its contents (it is still kept with KeepRequests): a
// partial success (rejected, message) or err, a gRPC status error. answer
// may block until ctx ends, to play a slow endpoint. nil restores the
// server's own answers.
func (s *Server) SetGRPCAnswer(answer func(ctx context.Context) (rejected int64, message string, err error)) {
	s.mu.Lock()
	s.grpcAnswer = answer
	s.mu.Unlock()
}

// SetHTTPReply makes an HTTP server answer every request with reply instead
// of recording its contents (it is still kept with KeepRequests); the body
// was read already. nil restores the server's own answers.
func (s *Server) SetHTTPReply(reply http.HandlerFunc) {
	s.mu.Lock()
	s.httpReply = reply
	s.mu.Unlock()
}

// StartGRPC starts an OTLP/gRPC receiver on 127.0.0.1 and stops it when the
// test ends.
func StartGRPC(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, lis := newServer(tb, GRPC, opts)
	// A sink takes what it is sent, whatever the size (a Collector's batch
	// processor in front of it may merge requests beyond gRPC's 4 MiB
	// default); size limits are the Collector's under test.
	serverOpts := append([]grpc.ServerOption{grpc.MaxRecvMsgSize(256 << 20), grpc.StatsHandler(grpcStats{s})}, s.grpcOpts...)
	if s.tls != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(s.tls)))
	}
	s.grpc = grpc.NewServer(serverOpts...)
	collectortrace.RegisterTraceServiceServer(s.grpc, traceService{s: s})
	collectorlogs.RegisterLogsServiceServer(s.grpc, logsService{s: s})
	collectormetrics.RegisterMetricsServiceServer(s.grpc, metricsService{s: s})
	go func() { _ = s.grpc.Serve(lis) }()
	tb.Cleanup(s.Close)
	return s
}

// StartHTTP starts an OTLP/HTTP (protobuf) receiver on 127.0.0.1 and stops
// it when the test ends. It takes POSTs to any path whose last segment
// names a signal: /v1/traces, /v1/logs and /v1/metrics, or /custom/logs.
func StartHTTP(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, lis := newServer(tb, HTTP, opts)
	if s.tls != nil {
		lis = tls.NewListener(lis, s.tls)
	}
	s.http = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.mu.Lock()
				s.conns++
				s.mu.Unlock()
			}
		}}
	go func() { _ = s.http.Serve(lis) }()
	tb.Cleanup(s.Close)
	return s
}

func newServer(tb testing.TB, protocol string, opts []Option) (*Server, net.Listener) {
	tb.Helper()
	s := &Server{protocol: protocol, addr: "127.0.0.1:0", changed: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}
	lis, err := net.Listen("tcp", s.addr)
	if err != nil {
		tb.Fatalf("otlptest: listen: %v", err)
	}
	s.addr = lis.Addr().String()
	s.endpoint = "http://" + s.addr
	if s.tls != nil {
		s.endpoint = "https://" + s.addr
	}
	return s, lis
}

// Endpoint is the server's URL, http://127.0.0.1:PORT (https:// with
// WithTLS), fit for OTEL_EXPORTER_OTLP_ENDPOINT with either protocol.
func (s *Server) Endpoint() string { return s.endpoint }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

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

// Connections returns the number of connections the server accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Received returns the requests kept so far (KeepRequests), in arrival
// order.
func (s *Server) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.received...)
}

// TakeReceived returns the requests kept so far and forgets them.
func (s *Server) TakeReceived() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.received
	s.received = nil
	return r
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

// keepRequest keeps r when the server keeps requests.
func (s *Server) keepRequest(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.keep {
		return
	}
	s.received = append(s.received, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

// serveGRPC keeps req, then answers it as SetGRPCAnswer says, or records
// it.
func (s *Server) serveGRPC(ctx context.Context, signal string, req proto.Message, record func() error) (int64, string, error) {
	if s.keep {
		md, _ := metadata.FromIncomingContext(ctx)
		header := http.Header{}
		for k, vs := range md {
			for _, v := range vs {
				header.Add(k, v)
			}
		}
		method, _ := grpc.Method(ctx)
		body, err := proto.Marshal(req)
		if err != nil {
			return 0, "", status.Error(codes.Internal, err.Error())
		}
		r := Request{Signal: signal, Path: method, Header: header, Body: body}
		if comp, ok := ctx.Value(compressionKey{}).(*string); ok {
			r.Compression = *comp
		}
		s.keepRequest(r)
	}
	s.mu.Lock()
	answer := s.grpcAnswer
	s.mu.Unlock()
	if answer != nil {
		return answer(ctx)
	}
	if err := record(); err != nil {
		return 0, "", grpcError(err)
	}
	return 0, "", nil
}

// grpcStats counts the connections of a gRPC server and notes the
// compression of each request in its context.
type grpcStats struct{ s *Server }

type compressionKey struct{}

func (g grpcStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, compressionKey{}, new(string))
}

func (g grpcStats) HandleRPC(ctx context.Context, st stats.RPCStats) {
	if h, ok := st.(*stats.InHeader); ok {
		if comp, ok := ctx.Value(compressionKey{}).(*string); ok {
			*comp = h.Compression
		}
	}
}

func (g grpcStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (g grpcStats) HandleConn(_ context.Context, st stats.ConnStats) {
	if _, ok := st.(*stats.ConnBegin); ok {
		g.s.mu.Lock()
		g.s.conns++
		g.s.mu.Unlock()
	}
}

type traceService struct {
	collectortrace.UnimplementedTraceServiceServer
	s *Server
}

func (t traceService) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	rejected, msg, err := t.s.serveGRPC(ctx, "traces", req, func() error { return t.s.record(proto.Size(req), flattenSpans(req), nil, nil) })
	if err != nil {
		return nil, err
	}
	resp := &collectortrace.ExportTraceServiceResponse{}
	if rejected != 0 || msg != "" {
		resp.PartialSuccess = &collectortrace.ExportTracePartialSuccess{RejectedSpans: rejected, ErrorMessage: msg}
	}
	return resp, nil
}

type logsService struct {
	collectorlogs.UnimplementedLogsServiceServer
	s *Server
}

func (l logsService) Export(ctx context.Context, req *collectorlogs.ExportLogsServiceRequest) (*collectorlogs.ExportLogsServiceResponse, error) {
	rejected, msg, err := l.s.serveGRPC(ctx, "logs", req, func() error { return l.s.record(proto.Size(req), nil, flattenLogs(req), nil) })
	if err != nil {
		return nil, err
	}
	resp := &collectorlogs.ExportLogsServiceResponse{}
	if rejected != 0 || msg != "" {
		resp.PartialSuccess = &collectorlogs.ExportLogsPartialSuccess{RejectedLogRecords: rejected, ErrorMessage: msg}
	}
	return resp, nil
}

type metricsService struct {
	collectormetrics.UnimplementedMetricsServiceServer
	s *Server
}

func (m metricsService) Export(ctx context.Context, req *collectormetrics.ExportMetricsServiceRequest) (*collectormetrics.ExportMetricsServiceResponse, error) {
	rejected, msg, err := m.s.serveGRPC(ctx, "metrics", req, func() error { return m.s.record(proto.Size(req), nil, nil, flattenMetrics(req)) })
	if err != nil {
		return nil, err
	}
	resp := &collectormetrics.ExportMetricsServiceResponse{}
	if rejected != 0 || msg != "" {
		resp.PartialSuccess = &collectormetrics.ExportMetricsPartialSuccess{RejectedDataPoints: rejected, ErrorMessage: msg}
	}
	return resp, nil
}

// serveHTTP serves an OTLP/HTTP export: a protobuf request body, optionally
// gzipped, and a protobuf response.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "OTLP takes POST", http.StatusMethodNotAllowed)
		return
	}
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
	signal := path.Base(r.URL.Path)
	var req, resp proto.Message
	switch signal {
	case "traces":
		req, resp = &collectortrace.ExportTraceServiceRequest{}, &collectortrace.ExportTraceServiceResponse{}
	case "logs":
		req, resp = &collectorlogs.ExportLogsServiceRequest{}, &collectorlogs.ExportLogsServiceResponse{}
	case "metrics":
		req, resp = &collectormetrics.ExportMetricsServiceRequest{}, &collectormetrics.ExportMetricsServiceResponse{}
	default:
		signal = ""
	}
	s.keepRequest(Request{Signal: signal, Path: r.URL.Path, Header: r.Header.Clone(), Compression: r.Header.Get("Content-Encoding"), Body: data})
	s.mu.Lock()
	reply := s.httpReply
	s.mu.Unlock()
	if reply != nil {
		reply(w, r)
		return
	}
	if req == nil {
		http.NotFound(w, r)
		return
	}
	if err := proto.Unmarshal(data, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var spans []Span
	var logs []LogRecord
	var metrics []Metric
	switch req := req.(type) {
	case *collectortrace.ExportTraceServiceRequest:
		spans = flattenSpans(req)
	case *collectorlogs.ExportLogsServiceRequest:
		logs = flattenLogs(req)
	case *collectormetrics.ExportMetricsServiceRequest:
		metrics = flattenMetrics(req)
	}
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
