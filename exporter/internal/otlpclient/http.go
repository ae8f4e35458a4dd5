package otlpclient

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds of what is read from an OTLP/HTTP response, and of the bodies kept
// for reuse.
const (
	maxResponse   = 64 << 10
	maxMessage    = 200
	maxPooledBody = 16 << 20
)

// HTTPError is returned (wrapped) by Export when an OTLP/HTTP endpoint
// answers with a status other than 2xx.
type HTTPError struct {
	StatusCode int
	// Message is the message of the google.rpc.Status body, or the text
	// body, shortened to about 200 bytes.
	Message string
	// RetryAfter is the delay of a Retry-After header, 0 without one.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	s := "HTTP " + strconv.Itoa(e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		s += " " + t
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (c *Client) initHTTP() {
	c.hc = &http.Client{Transport: &http.Transport{
		// As the SDK's transport (a copy of http.DefaultTransport), with
		// more idle connections per host for concurrent exports.
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       c.cfg.TLS.Clone(),
	}}
	c.url = c.cfg.Endpoint
	c.header = http.Header{}
	c.header.Set("User-Agent", userAgent)
	for k, v := range c.cfg.Headers {
		c.header.Set(k, v)
	}
	c.header.Set("Content-Type", "application/x-protobuf")
	if c.cfg.Compression == "gzip" {
		c.header.Set("Content-Encoding", "gzip")
	}
}

func (c *Client) exportHTTP(ctx context.Context, request []byte) (Result, error) {
	p := &payload{data: request, refs: 1, released: make(released)}
	if c.cfg.Compression == "gzip" {
		buf, err := c.compress(request)
		if err != nil {
			return Result{}, err
		}
		p.data, p.buf, p.pool = buf.Bytes(), buf, &c.bufs
	} else {
		// The transport may still read the body when a response arrives.
		defer p.released.wait()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, nil)
	if err != nil {
		p.unref()
		return Result{}, err
	}
	req.Header = c.header.Clone()
	if len(p.data) > 0 {
		req.ContentLength = int64(len(p.data))
		req.Body = p.open()
		req.GetBody = func() (io.ReadCloser, error) { return p.open(), nil }
	}
	resp, err := c.hc.Do(req)
	p.unref()
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return Result{}, err
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, maxResponse) // for keep-alive
		_ = resp.Body.Close()
	}()

	body, readErr := readBody(resp)
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if readErr != nil {
			return Result{Message: "accepted, but the response could not be read: " + readErr.Error()}, nil
		}
		if len(body) == 0 || !isProtobuf(resp.Header) {
			return Result{}, nil
		}
		return decodeResponse(body), nil
	}
	e := &HTTPError{StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	if isProtobuf(resp.Header) {
		e.Message = statusMessage(body)
	} else if text := strings.Join(strings.Fields(string(body)), " "); utf8Text(text) {
		e.Message = text
	}
	if len(e.Message) > maxMessage {
		e.Message = strings.ToValidUTF8(e.Message[:maxMessage], "") + "…"
	}
	return Result{}, e
}

// compress gzips p into a pooled buffer.
func (c *Client) compress(p []byte) (*bytes.Buffer, error) {
	buf, _ := c.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	z := c.getGzip(buf)
	_, err := z.Write(p)
	if e := z.Close(); err == nil {
		err = e
	}
	z.Reset(io.Discard)
	c.gzips.Put(z)
	if err != nil {
		c.bufs.Put(buf)
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf, nil
}

// readBody reads at most maxResponse bytes of the response body,
// decompressing it if the transport did not.
func readBody(resp *http.Response) ([]byte, error) {
	if resp.ContentLength == 0 {
		return nil, nil
	}
	var r io.Reader = resp.Body
	if !resp.Uncompressed && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		z, err := gzip.NewReader(io.LimitReader(resp.Body, maxResponse))
		if err != nil {
			return nil, err
		}
		defer z.Close()
		r = z
	}
	return io.ReadAll(io.LimitReader(r, maxResponse))
}

// isProtobuf reports whether the header announces a protobuf body.
func isProtobuf(h http.Header) bool {
	t, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return t == "application/x-protobuf" || t == "application/protobuf"
}

// utf8Text reports whether s is printable UTF-8 text.
func utf8Text(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' || r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		if s > int64(time.Hour*24/time.Second) {
			s = int64(time.Hour * 24 / time.Second)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// payload is a request body shared by the readers the transport opens (one,
// and more if it replays the request). When the last reader is closed and
// Export has let go, a pooled compressed body goes back to its pool and
// released is closed.
type payload struct {
	data     []byte
	buf      *bytes.Buffer // pooled compressed body, or nil
	pool     *sync.Pool
	released released

	mu   sync.Mutex
	refs int
}

func (p *payload) open() io.ReadCloser {
	p.mu.Lock()
	p.refs++
	p.mu.Unlock()
	return &body{p: p}
}

func (p *payload) unref() {
	p.mu.Lock()
	p.refs--
	last := p.refs == 0
	p.mu.Unlock()
	if !last {
		return
	}
	if p.buf != nil && p.buf.Cap() <= maxPooledBody {
		p.pool.Put(p.buf)
	}
	close(p.released)
}

// body is one reader of a payload. It may be closed concurrently with a
// Read, and is not read after it is closed.
type body struct {
	p      *payload
	off    int
	closed bool
}

func (b *body) Read(q []byte) (int, error) {
	b.p.mu.Lock()
	defer b.p.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.off >= len(b.p.data) {
		return 0, io.EOF
	}
	n := copy(q, b.p.data[b.off:])
	b.off += n
	return n, nil
}

func (b *body) Close() error {
	b.p.mu.Lock()
	closed := b.closed
	b.closed = true
	b.p.mu.Unlock()
	if !closed {
		b.p.unref()
	}
	return nil
}
