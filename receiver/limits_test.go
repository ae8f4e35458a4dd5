package receiver_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

func TestMaxConcurrent(t *testing.T) {
	const limit = 3
	release := make(chan struct{})
	entered := make(chan struct{}, limit)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rc, err := receiver.New(receiver.ConsumerFunc(func(context.Context, watson.Event, time.Time) error {
		entered <- struct{}{}
		<-release
		return nil
	}), mustJWT(t), receiver.WithMaxConcurrent(limit), receiver.WithMeter(mp.Meter("test")), receiver.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, reader: reader, srv: httptest.NewServer(rc.Handler())}
	t.Cleanup(h.srv.Close)
	body := readFile(t, corpus01)
	tok := goodToken(t)

	var wg sync.WaitGroup
	statuses := make(chan int, limit)
	for range limit {
		wg.Go(func() {
			resp, err := h.srv.Client().Do(newPost(t, h.srv.URL, body, tok))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	for range limit {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("requests did not reach the consumer")
		}
	}
	// limit requests in flight: the next ones are refused at once.
	for range 2 {
		start := time.Now()
		resp, err := h.srv.Client().Do(newPost(t, h.srv.URL, body, tok))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(raw), "too many concurrent requests") {
			t.Errorf("over the limit: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusal took %v: it must not queue", d)
		}
	}
	// Probes are never refused.
	if resp, err := h.srv.Client().Get(h.srv.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz under load: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	close(release)
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Errorf("in-flight request: status %d", s)
		}
	}
	// Slots are released: a new request goes through.
	go func() { <-entered }()
	resp, err := h.srv.Client().Do(newPost(t, h.srv.URL, body, tok))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after release: %d", resp.StatusCode)
	}
	assertCounts(t, receiver.MetricRequests, counter(h.collect(), receiver.MetricRequests), map[string]int64{
		"http.response.status_code=200,watson_assistant.event=message_logged": limit + 1,
		"http.response.status_code=503,watson_assistant.event=":               2,
	})
	if _, err := receiver.New(&recorder{}, auth.NoAuth(), receiver.WithMaxConcurrent(-1)); err == nil {
		t.Error("negative limit accepted")
	}
}

func mustJWT(t *testing.T) *auth.JWTAuthenticator {
	t.Helper()
	a, err := auth.NewJWTAuthenticator([][]byte{[]byte(testSecret)}, auth.WithJWTClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newPost(t *testing.T, base string, body []byte, token string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", token)
	return req
}

// startServer runs NewServer(opts) around a receiver with JWT auth and
// consumer c on loopback and returns its address.
func startServer(t *testing.T, c receiver.Consumer, opts ...receiver.ServerOption) string {
	t.Helper()
	rc, err := receiver.New(c, mustJWT(t), receiver.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := receiver.NewServer("", rc.Handler(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, srv)
}

func TestHeaderSizeLimit(t *testing.T) {
	addr := startServer(t, &recorder{}, receiver.WithMaxHeaderBytes(2<<10))
	body := readFile(t, corpus01)
	req := newPost(t, "http://"+addr, body, goodToken(t))
	req.Header.Set("X-Padding", strings.Repeat("p", 1<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("headers under the cap: %d", resp.StatusCode)
	}
	// net/http allows 4 KiB of slack over MaxHeaderBytes.
	req = newPost(t, "http://"+addr, body, "Bearer "+strings.Repeat("A", 16<<10))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized Authorization header: %d, want 431", resp.StatusCode)
	}
}

// TestSlowloris: a client that trickles its headers is cut off after the
// read-header timeout, even though it keeps sending.
func TestSlowloris(t *testing.T) {
	addr := startServer(t, &recorder{}, receiver.WithReadHeaderTimeout(300*time.Millisecond), receiver.WithReadTimeout(10*time.Second))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	var cut time.Duration
	for i := 0; i < 50; i++ { // up to 5 s of trickling
		time.Sleep(100 * time.Millisecond)
		if _, err := io.WriteString(conn, "X-Slow-"+strconv.Itoa(i)+": a\r\n"); err != nil {
			cut = time.Since(start)
			break
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := conn.Read(make([]byte, 512)); err == nil || errors.Is(err, io.EOF) {
			cut = time.Since(start)
			break
		}
	}
	if cut == 0 || cut > 3*time.Second {
		t.Errorf("trickling client kept for %v, want it cut after about 300ms", time.Since(start))
	}
}

// TestReadTimeout: a client that sends its headers and then stalls in the
// body is answered 408 (or cut off) after the read timeout.
func TestReadTimeout(t *testing.T) {
	addr := startServer(t, &recorder{}, receiver.WithReadTimeout(400*time.Millisecond))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: "+goodToken(t)+
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"event\":")
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	d := time.Since(start)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("status %d, want 408", resp.StatusCode)
		}
	}
	if d > 3*time.Second || d < 300*time.Millisecond {
		t.Errorf("stalled body answered after %v, want about 400ms", d)
	}
}

// TestWriteTimeout: a handler slower than the write timeout cannot hold the
// connection: the client gets no response.
func TestWriteTimeout(t *testing.T) {
	slow := receiver.ConsumerFunc(func(ctx context.Context, _ watson.Event, _ time.Time) error {
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	})
	addr := startServer(t, slow, receiver.WithWriteTimeout(300*time.Millisecond))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Do(newPost(t, "http://"+addr, readFile(t, corpus01), goodToken(t)))
	if err == nil {
		resp.Body.Close()
		t.Errorf("got %d after the write timeout, want the connection closed", resp.StatusCode)
	}
	// A fast request on the same server is answered.
	fastAddr := startServer(t, &recorder{}, receiver.WithWriteTimeout(300*time.Millisecond))
	resp, err = client.Do(newPost(t, "http://"+fastAddr, readFile(t, corpus01), goodToken(t)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("fast request: %d", resp.StatusCode)
	}
}

// TestIdleTimeout: a keep-alive connection left idle is closed by the server.
func TestIdleTimeout(t *testing.T) {
	addr := startServer(t, &recorder{}, receiver.WithIdleTimeout(300*time.Millisecond))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	if !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("idle connection closed after %v, want about 300ms", d)
	}
}
