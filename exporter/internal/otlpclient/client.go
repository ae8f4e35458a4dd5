package otlpclient

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// userAgent identifies this exporter to the Collector.
const userAgent = "assistant-otel OTLP exporter"

// releaseWait bounds how long a finished Export waits for the transport to
// stop reading the request (see Client.Export).
const releaseWait = time.Second

// errShutdown is returned by Export after Shutdown.
var errShutdown = errors.New("client is shut down")

// Result is the outcome of an accepted export.
type Result struct {
	// Rejected is the number of spans or log records the Collector
	// rejected (partial_success.rejected_spans or rejected_log_records).
	Rejected int64
	// Message is the Collector's partial_success.error_message, if any.
	Message string
}

// Client sends serialized export requests of one signal. It is safe for
// concurrent use.
type Client struct {
	cfg    Config
	prefix string            // "otlp traces export (grpc → host:port)"
	redact *strings.Replacer // hides header values in remote messages; nil without headers

	// gRPC.
	conn     *grpc.ClientConn
	method   string
	md       metadata.MD
	callOpts []grpc.CallOption

	// OTLP/HTTP.
	hc     *http.Client
	url    string
	header http.Header
	gzips  sync.Pool // *gzip.Writer
	bufs   sync.Pool // *bytes.Buffer holding a compressed body

	// Lifecycle.
	mu     sync.RWMutex
	closed bool
	active sync.WaitGroup
	stop   context.Context // cancelled when Shutdown gives up waiting
	cancel context.CancelFunc
}

// New builds a client. It does not block nor connect: gRPC connects on the
// first export, like the SDK.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:    cfg,
		prefix: fmt.Sprintf("otlp %s export (%s → %s)", cfg.Signal, cfg.Protocol, cfg.DisplayEndpoint()),
	}
	var pairs []string
	for _, v := range cfg.Headers {
		if len(v) >= 4 { // shorter values would blank out ordinary words
			pairs = append(pairs, v, "[redacted]")
		}
	}
	if pairs != nil {
		c.redact = strings.NewReplacer(pairs...)
	}
	var err error
	if cfg.Protocol == ProtocolGRPC {
		err = c.initGRPC()
	} else {
		c.initHTTP()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.prefix, err)
	}
	c.stop, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Export sends one serialized ExportTraceServiceRequest or
// ExportLogsServiceRequest (by the configured signal) and waits for the
// answer, within the configured timeout. It does not retry.
//
// A nil error means the Collector accepted the request; the Result then
// reports a partial success, if any. An error names the signal, protocol and
// endpoint, never a header value nor the request; Retryable classifies it.
//
// Export neither modifies nor keeps request, and it is not copied: it must
// not change until Export returns. When Export returns, the transport no
// longer reads it, except after a stalled connection that did not release it
// within a second of the end of the call.
func (c *Client) Export(ctx context.Context, request []byte) (Result, error) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return Result{}, fmt.Errorf("%s: %w", c.prefix, errShutdown)
	}
	c.active.Add(1)
	c.mu.RUnlock()
	defer c.active.Done()

	var cancel context.CancelFunc
	if c.cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	defer context.AfterFunc(c.stop, cancel)()

	var (
		res Result
		err error
	)
	if c.conn != nil {
		res, err = c.exportGRPC(ctx, request)
	} else {
		res, err = c.exportHTTP(ctx, request)
	}
	if err != nil {
		return Result{}, &exportError{msg: c.prefix + ": " + c.clean(err.Error()), err: err}
	}
	res.Message = c.clean(res.Message)
	return res, nil
}

// Shutdown stops the client: later exports fail, exports in flight are
// waited for until ctx is done and then cancelled, and the connections are
// closed. Calling it again does nothing.
func (c *Client) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	closed := c.closed
	c.closed = true
	c.mu.Unlock()
	if closed {
		return nil
	}

	done := make(chan struct{})
	go func() {
		c.active.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		c.cancel()
		<-done
	}
	c.cancel()
	if c.conn != nil {
		if e := c.conn.Close(); e != nil && err == nil {
			err = e
		}
	}
	if c.hc != nil {
		c.hc.CloseIdleConnections()
	}
	if err != nil {
		return fmt.Errorf("otlp %s shutdown: %w", c.cfg.Signal, err)
	}
	return nil
}

// clean hides header values in a message that came (in part) from the
// remote end, keeps it valid UTF-8 and bounds its length.
func (c *Client) clean(msg string) string {
	if c.redact != nil {
		msg = c.redact.Replace(msg)
	}
	const maxLen = 512
	if len(msg) > maxLen {
		msg = msg[:maxLen] + "…"
	}
	return strings.ToValidUTF8(msg, "�")
}

// exportError is a failed export: the message, with context and without
// header values, and the underlying error, for errors.Is, errors.As and
// status.FromError.
type exportError struct {
	msg string
	err error
}

func (e *exportError) Error() string { return e.msg }
func (e *exportError) Unwrap() error { return e.err }

// released is closed when the transport no longer reads a request.
type released chan struct{}

// wait waits for the release, at most releaseWait.
func (r released) wait() {
	select {
	case <-r:
		return
	default:
	}
	t := time.NewTimer(releaseWait)
	defer t.Stop()
	select {
	case <-r:
	case <-t.C:
	}
}

// getGzip returns a pooled gzip writer reset to write to w.
func (c *Client) getGzip(w *bytes.Buffer) *gzip.Writer {
	if z, ok := c.gzips.Get().(*gzip.Writer); ok {
		z.Reset(w)
		return z
	}
	return gzip.NewWriter(w)
}
