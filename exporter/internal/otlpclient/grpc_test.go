package otlpclient

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"

	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/internal/retry"
)

// newClient returns a client from env, shut down when the test ends.
func newClient(t testing.TB, signal Signal, env map[string]string) *Client {
	t.Helper()
	cfg, err := FromEnv(signal, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

func TestGRPCExport(t *testing.T) {
	col := otlptest.StartGRPC(t, otlptest.KeepRequests())
	for _, gzip := range []bool{false, true} {
		env := map[string]string{
			gn + "ENDPOINT": col.Endpoint(),
			gn + "HEADERS":  secretKey + "=" + secretValue + ",X-Tenant=a%20b",
		}
		if gzip {
			env[gn+"COMPRESSION"] = "gzip"
		}
		for _, spans := range []int{0, 1, 5000} { // empty, below and above gRPC's buffer pooling threshold
			tc := newClient(t, Traces, env)
			want, req := traceRequest(t, spans)
			res, err := tc.Export(context.Background(), req)
			if err != nil || res != (Result{}) {
				t.Fatalf("traces gzip=%t: Export = %+v, %v", gzip, res, err)
			}
			got := new(coltracepb.ExportTraceServiceRequest)
			r := lastRequest(t, col, got)
			if !proto.Equal(got, want) {
				t.Errorf("traces gzip=%t spans=%d: the collector got another request", gzip, spans)
			}
			if v := r.Header.Values("api-key"); len(v) != 1 || v[0] != secretValue {
				t.Errorf("api-key metadata = %q", v)
			}
			if v := r.Header.Values("x-tenant"); len(v) != 1 || v[0] != "a b" {
				t.Errorf("x-tenant metadata = %q", v)
			}
			if v := r.Header.Values("content-type"); len(v) != 1 || v[0] != "application/grpc" {
				t.Errorf("content-type = %q, want application/grpc", v)
			}
			if wantComp := map[bool]string{true: "gzip"}[gzip]; r.Compression != wantComp && spans > 0 {
				t.Errorf("compression = %q, want %q", r.Compression, wantComp)
			}
		}

		lc := newClient(t, Logs, env)
		want, req := logsRequest(t, 300)
		if res, err := lc.Export(context.Background(), req); err != nil || res != (Result{}) {
			t.Fatalf("logs: Export = %+v, %v", res, err)
		}
		got := new(collogspb.ExportLogsServiceRequest)
		if lastRequest(t, col, got); !proto.Equal(got, want) {
			t.Errorf("logs gzip=%t: the collector got another request", gzip)
		}
	}
}

func TestGRPCPartialSuccess(t *testing.T) {
	col := otlptest.StartGRPC(t)
	col.SetGRPCAnswer(func(context.Context) (int64, string, error) { return 3, "3 spans too old", nil })
	env := map[string]string{gn + "ENDPOINT": col.Endpoint()}
	for _, signal := range []Signal{Traces, Logs} {
		_, req := traceRequest(t, 3)
		if signal == Logs {
			_, req = logsRequest(t, 3)
		}
		res, err := newClient(t, signal, env).Export(context.Background(), req)
		if err != nil || res != (Result{Rejected: 3, Message: "3 spans too old"}) {
			t.Errorf("%s: Export = %+v, %v", signal, res, err)
		}
	}
}

func TestGRPCError(t *testing.T) {
	col := otlptest.StartGRPC(t)
	col.SetGRPCAnswer(func(context.Context) (int64, string, error) {
		return 0, "", status.Error(codes.Unavailable, "memory limiter: refused, key was "+secretValue)
	})
	c := newClient(t, Logs, map[string]string{
		gn + "ENDPOINT": col.Endpoint(),
		gn + "HEADERS":  secretKey + "=" + secretValue,
	})
	_, req := logsRequest(t, 10)
	_, err := c.Export(context.Background(), req)
	if err == nil {
		t.Fatal("Export did not fail")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "otlp logs export (grpc → "+col.Addr()+"): ") || !strings.Contains(msg, "memory limiter: refused") {
		t.Errorf("error = %q", msg)
	}
	if strings.Contains(msg, secretValue) {
		t.Errorf("error %q shows a header value", msg)
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("status.Code = %v", status.Code(err))
	}
	if retry, _ := Retryable(err); !retry {
		t.Error("Unavailable is not retryable")
	}

	col.SetGRPCAnswer(func(context.Context) (int64, string, error) {
		return 0, "", status.Error(codes.InvalidArgument, "bad request")
	})
	if _, err = c.Export(context.Background(), req); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Export = %v", err)
	}
	if retry, _ := Retryable(err); retry {
		t.Error("InvalidArgument is retryable")
	}
}

func TestGRPCTimeout(t *testing.T) {
	col := otlptest.StartGRPC(t)
	col.SetGRPCAnswer(func(ctx context.Context) (int64, string, error) {
		<-ctx.Done()
		return 0, "", ctx.Err()
	})
	c := newClient(t, Traces, map[string]string{gn + "ENDPOINT": col.Endpoint(), tr + "TIMEOUT": "200"})
	_, req := traceRequest(t, 10)
	start := time.Now()
	_, err := c.Export(context.Background(), req)
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("Export = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Errorf("Export took %s with a 200ms timeout", d)
	}
}

func TestGRPCTLS(t *testing.T) {
	p := newPKI(t)
	for _, mutual := range []bool{false, true} {
		col := otlptest.StartGRPC(t, otlptest.WithTLS(p.serverTLS(mutual)))
		env := map[string]string{gn + "ENDPOINT": col.Endpoint(), gn + "CERTIFICATE": p.caFile}
		if mutual {
			env[gn+"TRACES_CLIENT_CERTIFICATE"], env[gn+"TRACES_CLIENT_KEY"] = p.clientCert, p.clientKey
		}
		_, req := traceRequest(t, 2)
		if _, err := newClient(t, Traces, env).Export(context.Background(), req); err != nil {
			t.Errorf("mutual=%t: Export: %v", mutual, err)
		}

		// Without the CA, the server is not trusted.
		delete(env, gn+"CERTIFICATE")
		if _, err := newClient(t, Traces, env).Export(context.Background(), req); err == nil {
			t.Errorf("mutual=%t: Export succeeded without the CA", mutual)
		}
	}
}

func TestGRPCLazyConnect(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()

	c := newClient(t, Traces, map[string]string{gn + "ENDPOINT": "http://" + addr, gn + "TIMEOUT": "5000"})
	_, req := traceRequest(t, 2)
	start := time.Now()
	_, err = c.Export(context.Background(), req)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Export without a server = %v, want Unavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Export without a server took %s: it should fail fast, not retry", d)
	}

	col := otlptest.StartGRPC(t, otlptest.KeepRequests(), otlptest.At(addr))
	waitCtx, stop := context.WithTimeout(context.Background(), 15*time.Second) // reconnect backoff is at most 5s
	defer stop()
	err = retry.Do(waitCtx, retry.Policy{Min: 50 * time.Millisecond, Max: 50 * time.Millisecond}, func(ctx context.Context) error {
		_, err := c.Export(context.Background(), req)
		return err
	})
	if err != nil {
		t.Fatalf("Export after the server started: %v", err)
	}
	if n := len(col.Received()); n != 1 {
		t.Errorf("the collector got %d requests, want 1", n)
	}
}

// TestGRPCRequestReleased checks that the caller may overwrite its request
// as soon as Export returns, even when the server refused the stream while
// the request was still being sent (run with -race).
func TestGRPCRequestReleased(t *testing.T) {
	col := otlptest.StartGRPC(t, otlptest.GRPCServerOptions(
		grpc.MaxRecvMsgSize(64<<20),
		grpc.InTapHandle(func(ctx context.Context, _ *tap.Info) (context.Context, error) {
			return ctx, status.Error(codes.ResourceExhausted, "refused by tap")
		})))
	c := newClient(t, Traces, map[string]string{gn + "ENDPOINT": col.Endpoint()})
	_, req := traceRequest(t, 60000) // several MB: more than the flow control window
	for range 5 {
		_, err := c.Export(context.Background(), req)
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("Export = %v", err)
		}
		for i := range req {
			req[i] = 0
		}
	}
}

func TestGRPCConcurrentAndShutdown(t *testing.T) {
	col := otlptest.StartGRPC(t, otlptest.KeepRequests())
	cfg, err := FromEnv(Traces, envOf(map[string]string{gn + "ENDPOINT": col.Endpoint(), gn + "COMPRESSION": "gzip"}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, req := traceRequest(t, 200)
			for range 20 {
				if _, err := c.Export(context.Background(), req); err != nil {
					t.Error(err)
					return
				}
				req[len(req)-1] ^= 1 // the caller owns the request again
				req[len(req)-1] ^= 1
			}
		})
	}
	wg.Wait()
	if n := len(col.Received()); n != 160 {
		t.Errorf("the collector got %d requests, want 160", n)
	}

	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	_, req := traceRequest(t, 1)
	_, err = c.Export(context.Background(), req)
	if !errors.Is(err, errShutdown) {
		t.Fatalf("Export after Shutdown = %v", err)
	}
	if retry, _ := Retryable(err); retry {
		t.Error("an export after Shutdown is retryable")
	}
}

func TestGRPCShutdownCancelsExports(t *testing.T) {
	col := otlptest.StartGRPC(t)
	started := make(chan struct{}, 1)
	col.SetGRPCAnswer(func(ctx context.Context) (int64, string, error) {
		started <- struct{}{}
		<-ctx.Done()
		return 0, "", ctx.Err()
	})
	c := newClient(t, Logs, map[string]string{gn + "ENDPOINT": col.Endpoint(), gn + "TIMEOUT": "0"})
	_, req := logsRequest(t, 10)
	done := make(chan error, 1)
	go func() {
		_, err := c.Export(context.Background(), req)
		done <- err
	}()
	select {
	case <-started: // the server holds the export
	case <-time.After(5 * time.Second):
		t.Fatal("the export did not reach the server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	select {
	case err := <-done:
		if status.Code(err) != codes.Canceled {
			t.Errorf("Export = %v, want Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not cancel the export")
	}
}
