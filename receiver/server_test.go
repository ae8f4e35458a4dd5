package receiver_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/receiver"
)

func TestNewServerDefaults(t *testing.T) {
	srv, err := receiver.NewServer(":0", http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 30*time.Second || srv.IdleTimeout != 120*time.Second || srv.MaxHeaderBytes != 64<<10 {
		t.Errorf("defaults: %+v", srv)
	}
	if srv.TLSConfig != nil || srv.ErrorLog != nil {
		t.Error("TLS config or error log set without options")
	}
	srv, err = receiver.NewServer(":0", http.NotFoundHandler(),
		receiver.WithReadTimeout(time.Second), receiver.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS10}))
	if err != nil {
		t.Fatal(err)
	}
	if srv.ReadTimeout != time.Second || srv.TLSConfig.MinVersion != tls.VersionTLS12 {
		t.Errorf("options not applied: read %v, TLS min %x", srv.ReadTimeout, srv.TLSConfig.MinVersion)
	}
}

func TestNewServerValidates(t *testing.T) {
	for name, opt := range map[string]receiver.ServerOption{
		"zero read header timeout": receiver.WithReadHeaderTimeout(0),
		"zero read timeout":        receiver.WithReadTimeout(0),
		"negative write timeout":   receiver.WithWriteTimeout(-time.Second),
		"zero idle timeout":        receiver.WithIdleTimeout(0),
		"zero max header bytes":    receiver.WithMaxHeaderBytes(0),
	} {
		if _, err := receiver.NewServer(":0", http.NotFoundHandler(), opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := receiver.NewServer(":0", nil); err == nil {
		t.Error("nil handler: no error")
	}
}

// serve runs srv on a loopback listener until the test ends.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func TestServerLimits(t *testing.T) {
	h := newHarness(t, nil)
	srv, err := receiver.NewServer("", h.rc.Handler(),
		receiver.WithMaxHeaderBytes(1<<10), receiver.WithReadHeaderTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, srv)

	t.Run("header cap", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 16<<10)) // net/http allows 4 KiB of slack
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status = %d, want 431", resp.StatusCode)
		}
	})
	t.Run("slow headers are cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		_, err = bufio.NewReader(conn).ReadString('\n')
		if err == nil {
			// net/http may answer 408 before closing; either way it must not wait.
			t.Log("server answered an incomplete request")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("connection with incomplete headers kept for %v", d)
		}
	})
}
