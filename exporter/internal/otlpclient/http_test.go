package otlpclient

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
)

func writeProto(w http.ResponseWriter, code int, m proto.Message) {
	b, _ := proto.Marshal(m)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// startHTTP starts an OTLP/HTTP endpoint that keeps its requests.
func startHTTP(t testing.TB) *otlptest.Server {
	return otlptest.StartHTTP(t, otlptest.KeepRequests())
}

func TestHTTPExport(t *testing.T) {
	srv := startHTTP(t)
	for _, gz := range []bool{false, true} {
		env := map[string]string{
			gn + "PROTOCOL": "http/protobuf",
			gn + "ENDPOINT": srv.Endpoint() + "/otlp",
			gn + "HEADERS":  secretKey + "=" + secretValue + ",X-Tenant=a%20b",
		}
		if gz {
			env[gn+"COMPRESSION"] = "gzip"
		}
		wantTraces, req := traceRequest(t, 2000)
		if res, err := newClient(t, Traces, env).Export(context.Background(), req); err != nil || res != (Result{}) {
			t.Fatalf("traces gzip=%t: Export = %+v, %v", gz, res, err)
		}
		var gotTraces coltracepb.ExportTraceServiceRequest
		got := lastRequest(t, srv, &gotTraces)
		if !proto.Equal(&gotTraces, wantTraces) {
			t.Errorf("traces gzip=%t: the server got another request", gz)
		}
		if got.Path != "/otlp/v1/traces" || got.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("path %q, content type %q", got.Path, got.Header.Get("Content-Type"))
		}
		if wantEnc := map[bool]string{true: "gzip"}[gz]; got.Compression != wantEnc {
			t.Errorf("content encoding %q, want %q", got.Compression, wantEnc)
		}
		if got.Header.Get(secretKey) != secretValue || got.Header.Get("X-Tenant") != "a b" {
			t.Errorf("headers %v", got.Header)
		}

		wantLogs, req := logsRequest(t, 50)
		env[gn+"LOGS_ENDPOINT"] = srv.Endpoint() + "/custom/logs"
		if _, err := newClient(t, Logs, env).Export(context.Background(), req); err != nil {
			t.Fatalf("logs: %v", err)
		}
		var gotLogs collogspb.ExportLogsServiceRequest
		if got = lastRequest(t, srv, &gotLogs); !proto.Equal(&gotLogs, wantLogs) || got.Path != "/custom/logs" {
			t.Errorf("logs gzip=%t: the server got another request at %s", gz, got.Path)
		}
	}

	// An empty request is sent with an empty body.
	c := newClient(t, Traces, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.Endpoint()})
	if _, err := c.Export(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := lastRequest(t, srv, nil); len(got.Body) != 0 {
		t.Errorf("body %q", got.Body)
	}
}

func TestHTTPKeepAlive(t *testing.T) {
	srv := startHTTP(t)
	for _, gz := range []string{"none", "gzip"} {
		before := srv.Connections()
		c := newClient(t, Logs, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.Endpoint(), gn + "COMPRESSION": gz})
		_, req := logsRequest(t, 100)
		for range 10 {
			if _, err := c.Export(context.Background(), req); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.Connections() - before; n != 1 {
			t.Errorf("compression %s: 10 sequential exports opened %d connections", gz, n)
		}
	}
}

func TestHTTPPartialSuccess(t *testing.T) {
	srv := startHTTP(t)
	c := newClient(t, Traces, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.Endpoint()})
	lc := newClient(t, Logs, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.Endpoint()})
	_, req := traceRequest(t, 5)
	tracesPartial := &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 2, ErrorMessage: "2 spans dropped"}}

	tests := []struct {
		name   string
		client *Client
		reply  func(w http.ResponseWriter, r *http.Request)
		want   Result
	}{
		{"empty 200", c, func(w http.ResponseWriter, _ *http.Request) {}, Result{}},
		{"traces partial", c, func(w http.ResponseWriter, _ *http.Request) { writeProto(w, http.StatusOK, tracesPartial) }, Result{2, "2 spans dropped"}},
		{"logs partial", lc, func(w http.ResponseWriter, _ *http.Request) {
			writeProto(w, http.StatusOK, &collogspb.ExportLogsServiceResponse{PartialSuccess: &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: 7, ErrorMessage: "too big"}})
		}, Result{7, "too big"}},
		{"gzip partial", c, func(w http.ResponseWriter, _ *http.Request) {
			b, _ := proto.Marshal(tracesPartial)
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			_, _ = zw.Write(b)
			_ = zw.Close()
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(z.Bytes())
		}, Result{2, "2 spans dropped"}},
		{"json ignored", c, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"partialSuccess":{"rejectedSpans":"2"}}`))
		}, Result{}},
		{"202 empty", lc, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }, Result{}},
		{"malformed", c, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/x-protobuf")
			_, _ = w.Write([]byte{0x0a, 0x05, 0x08})
		}, Result{Message: "accepted, but the response is malformed: unexpected EOF"}},
	}
	for _, tc := range tests {
		srv.SetHTTPReply(tc.reply)
		res, err := tc.client.Export(context.Background(), req)
		if err != nil || res != tc.want {
			t.Errorf("%s: Export = %+v, %v, want %+v", tc.name, res, err, tc.want)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	srv := startHTTP(t)
	env := map[string]string{
		gn + "PROTOCOL": "http/protobuf",
		gn + "ENDPOINT": srv.Endpoint(),
		gn + "HEADERS":  secretKey + "=" + secretValue,
	}
	c := newClient(t, Traces, env)
	_, req := traceRequest(t, 5)
	long := strings.Repeat("é", 300)

	tests := []struct {
		name       string
		reply      func(w http.ResponseWriter, r *http.Request)
		code       int
		message    string // substring of the error
		retry      bool
		retryAfter time.Duration
	}{
		{"503 status", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			writeProto(w, http.StatusServiceUnavailable, status.New(codes.Unavailable, "memory limiter refused the data").Proto())
		}, 503, "HTTP 503 Service Unavailable: memory limiter refused the data", true, 7 * time.Second},
		{"400 status", func(w http.ResponseWriter, _ *http.Request) {
			writeProto(w, http.StatusBadRequest, status.New(codes.InvalidArgument, "proto: cannot parse invalid wire-format data").Proto())
		}, 400, "HTTP 400 Bad Request: proto: cannot parse invalid wire-format data", false, 0},
		{"429 text", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "slow down\nplease", http.StatusTooManyRequests)
		}, 429, "HTTP 429 Too Many Requests: slow down please", true, 0},
		{"500 echoing the header", func(w http.ResponseWriter, r *http.Request) {
			writeProto(w, http.StatusInternalServerError, status.New(codes.Internal, "bad key "+r.Header.Get(secretKey)).Proto())
		}, 500, "bad key [redacted]", true, 0}, // a server fault: retried, not held against the data
		{"502 long message", func(w http.ResponseWriter, _ *http.Request) {
			writeProto(w, http.StatusBadGateway, status.New(codes.Unavailable, long).Proto())
		}, 502, strings.Repeat("é", 100) + "…", true, 0},
		{"binary body", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte{0, 1, 2, 0xff})
		}, 404, "HTTP 404 Not Found", false, 0},
	}
	for _, tc := range tests {
		srv.SetHTTPReply(tc.reply)
		_, err := c.Export(context.Background(), req)
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != tc.code {
			t.Errorf("%s: Export = %v, want HTTP %d", tc.name, err, tc.code)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "otlp traces export (http/protobuf → "+srv.Endpoint()+"/v1/traces): ") || !strings.Contains(msg, tc.message) {
			t.Errorf("%s: error %q does not contain %q", tc.name, msg, tc.message)
		}
		if strings.Contains(msg, secretValue) {
			t.Errorf("%s: error %q shows a header value", tc.name, msg)
		}
		if len(he.Message) > maxMessage+len("…") {
			t.Errorf("%s: message of %d bytes", tc.name, len(he.Message))
		}
		if retry, after := Retryable(err); retry != tc.retry || after != tc.retryAfter {
			t.Errorf("%s: Retryable = %t, %s", tc.name, retry, after)
		}
	}
}

func TestHTTPTransportErrors(t *testing.T) {
	// Nothing listens: connection refused.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	c := newClient(t, Logs, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "http://" + addr, gn + "HEADERS": "k=" + secretValue})
	_, req := logsRequest(t, 1)
	_, err = c.Export(context.Background(), req)
	if err == nil || !strings.HasPrefix(err.Error(), "otlp logs export (http/protobuf → http://"+addr+"/v1/logs): ") || strings.Contains(err.Error(), secretValue) {
		t.Errorf("Export = %v", err)
	}
	if retry, _ := Retryable(err); !retry {
		t.Error("connection refused is not retryable")
	}

	// A server slower than the timeout.
	srv := startHTTP(t)
	srv.SetHTTPReply(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c = newClient(t, Traces, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.Endpoint(), gn + "TIMEOUT": "200"})
	start := time.Now()
	_, err = c.Export(context.Background(), req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Export = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Export took %s with a 200ms timeout", d)
	}
	if retry, _ := Retryable(err); !retry {
		t.Error("a timeout is not retryable")
	}
}

// TestHTTPRequestReleased checks that the caller may overwrite its request
// as soon as Export returns, even when the server answered before reading
// it (run with -race). The server is not an OTLP endpoint (otlptest reads
// every body before it answers), only one that answers at once.
func TestHTTPRequestReleased(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		http.Error(w, "go away", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	for _, comp := range []string{"none", "gzip"} {
		c := newClient(t, Traces, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.URL, gn + "COMPRESSION": comp})
		_, req := traceRequest(t, 40000)
		for range 5 {
			_, err := c.Export(context.Background(), req)
			var he *HTTPError
			if !errors.As(err, &he) {
				// The server may close before the response is read.
				t.Logf("Export = %v", err)
			}
			for i := range req {
				req[i] = 0
			}
		}
	}
}

func TestHTTPTLS(t *testing.T) {
	p := newPKI(t)
	for _, mutual := range []bool{false, true} {
		srv := otlptest.StartHTTP(t, otlptest.WithTLS(p.serverTLS(mutual)))
		env := map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.Endpoint(), gn + "CERTIFICATE": p.caFile}
		if mutual {
			env[gn+"LOGS_CLIENT_CERTIFICATE"], env[gn+"LOGS_CLIENT_KEY"] = p.clientCert, p.clientKey
		}
		_, req := logsRequest(t, 3)
		if _, err := newClient(t, Logs, env).Export(context.Background(), req); err != nil {
			t.Errorf("mutual=%t: Export: %v", mutual, err)
		}
		delete(env, gn+"CERTIFICATE")
		if _, err := newClient(t, Logs, env).Export(context.Background(), req); err == nil {
			t.Errorf("mutual=%t: Export succeeded without the CA", mutual)
		}
	}
}

func TestHTTPShutdown(t *testing.T) {
	srv := startHTTP(t)
	c := newClient(t, Traces, map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": srv.Endpoint()})
	_, req := traceRequest(t, 1)
	if _, err := c.Export(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Export(context.Background(), req); !errors.Is(err, errShutdown) {
		t.Errorf("Export after Shutdown = %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Signal: "metrics", Protocol: ProtocolGRPC, Endpoint: "localhost:4317"},
		{Signal: Traces, Protocol: "http/json", Endpoint: "http://localhost:4318/v1/traces"},
		{Signal: Traces, Protocol: ProtocolGRPC},
		{Signal: Logs, Protocol: ProtocolHTTP, Endpoint: "localhost:4318"},
		{Signal: Logs, Protocol: ProtocolGRPC, Endpoint: "localhost:4317", Compression: "zstd"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%v) did not fail", cfg)
		}
	}
}
