package receiver_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/testpki"
	"github.com/assistant-otel/assistant-otel/receiver"
)

// writePair writes the files and gives them a modification time of their
// own, so that a change is visible even on file systems with coarse times.
func writePair(t *testing.T, certFile, keyFile string, certPEM, keyPEM []byte, mtime time.Time) {
	t.Helper()
	for f, b := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
		tmp := f + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f); err != nil { // atomic, as cert managers do
			t.Fatal(err)
		}
	}
}

// serveTLS runs srv with TLS on a loopback listener until the test ends.
func serveTLS(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	return ln.Addr().String()
}

func TestTLSServerAndCertReload(t *testing.T) {
	ca := testpki.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	c1, k1 := ca.Server(t, 1)
	base := time.Now().Add(-time.Hour)
	writePair(t, certFile, keyFile, c1, k1, base)

	logs := &syncBuffer{}
	reloader, err := receiver.NewCertReloader(certFile, keyFile,
		receiver.WithCertCheckInterval(50*time.Millisecond),
		receiver.WithCertLogger(slog.New(slog.NewJSONHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil)
	srv, err := receiver.NewServer("", h.rc.Handler(), receiver.WithTLSConfig(reloader.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, srv)
	url := "https://" + addr + "/webhook"

	client := func(minV, maxV uint16) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DisableKeepAlives: true, // every request a new handshake
			TLSClientConfig:   &tls.Config{RootCAs: ca.Pool, MinVersion: minV, MaxVersion: maxV},
		}}
	}
	post := func(c *http.Client) (*http.Response, error) {
		req := newPost(t, "https://"+addr, readFile(t, corpus01), goodToken(t))
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	serialSeen := func() int64 {
		t.Helper()
		resp, err := post(client(tls.VersionTLS12, 0))
		if err != nil {
			t.Fatalf("HTTPS POST %s: %v", url, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTPS POST: status %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}

	if s := serialSeen(); s != 1 {
		t.Fatalf("first certificate: serial %d, want 1", s)
	}
	if h.consumer.calls() != 1 {
		t.Fatalf("consumer calls = %d, want 1", h.consumer.calls())
	}

	t.Run("TLS 1.2 and 1.3 accepted, 1.1 and 1.0 refused", func(t *testing.T) {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			resp, err := post(client(v, v))
			if err != nil || resp.TLS.Version != v {
				t.Errorf("version %x: %v", v, err)
			}
		}
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
			if _, err := post(client(v, v)); err == nil {
				t.Errorf("a TLS %x client was served", v)
			}
		}
	})

	t.Run("plain HTTP on the TLS port is refused", func(t *testing.T) {
		resp, err := http.Post("http://"+addr+"/webhook", "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("plain HTTP: %d", resp.StatusCode)
			}
		}
	})

	t.Run("new files are served without a restart", func(t *testing.T) {
		c2, k2 := ca.Server(t, 2)
		writePair(t, certFile, keyFile, c2, k2, base.Add(time.Minute))
		waitFor(t, "the new certificate", func() bool { return serialSeen() == 2 })
	})

	t.Run("a bad new pair keeps the old one", func(t *testing.T) {
		c3, _ := ca.Server(t, 3)
		_, otherKey := ca.Server(t, 4)
		// Handshakes check the files; the old pair is served until a check
		// has refused the new one, and after.
		refusals := func() int { return strings.Count(logs.String(), "files changed but do not load") }
		servesOldUntilRefused := func(what string, write func()) {
			t.Helper()
			before := refusals()
			write()
			waitFor(t, what+" refused", func() bool {
				if s := serialSeen(); s != 2 {
					t.Fatalf("serial %d after %s, want 2 (the old one)", s, what)
				}
				return refusals() > before
			})
			if s := serialSeen(); s != 2 {
				t.Fatalf("serial %d after %s was refused, want 2", s, what)
			}
		}
		servesOldUntilRefused("a mismatched pair", func() {
			writePair(t, certFile, keyFile, c3, otherKey, base.Add(2*time.Minute))
		})
		if err := reloader.Reload(); err == nil {
			t.Error("Reload of a mismatched pair succeeded")
		}
		if !strings.Contains(logs.String(), "TLS certificate reload failed") {
			t.Errorf("no error logged:\n%s", logs.String())
		}
		// Garbage instead of PEM.
		servesOldUntilRefused("garbage files", func() {
			writePair(t, certFile, keyFile, []byte("not a certificate"), []byte("nor a key"), base.Add(3*time.Minute))
		})
		// Fixed files are picked up again.
		c5, k5 := ca.Server(t, 5)
		writePair(t, certFile, keyFile, c5, k5, base.Add(4*time.Minute))
		waitFor(t, "the repaired files", func() bool { return serialSeen() == 5 })
	})
}

func TestCertReloaderReloadAndWatch(t *testing.T) {
	ca := testpki.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	c1, k1 := ca.Server(t, 1)
	base := time.Now().Add(-time.Hour)
	writePair(t, certFile, keyFile, c1, k1, base)
	serial := func(r *receiver.CertReloader) int64 {
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf.SerialNumber.Int64()
	}

	// Interval 0: only Reload (SIGHUP) loads new files.
	manual, err := receiver.NewCertReloader(certFile, keyFile, receiver.WithCertCheckInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	c2, k2 := ca.Server(t, 2)
	writePair(t, certFile, keyFile, c2, k2, base.Add(time.Minute))
	if s := serial(manual); s != 1 {
		t.Fatalf("without a check interval: serial %d before Reload, want 1", s)
	}
	if err := manual.Reload(); err != nil {
		t.Fatal(err)
	}
	if s := serial(manual); s != 2 {
		t.Fatalf("after Reload: serial %d, want 2", s)
	}

	// The check interval is honoured: no stat before it has passed.
	clock := time.Now()
	lazy, err := receiver.NewCertReloader(certFile, keyFile,
		receiver.WithCertCheckInterval(time.Minute), receiver.WithCertClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	c3, k3 := ca.Server(t, 3)
	writePair(t, certFile, keyFile, c3, k3, base.Add(2*time.Minute))
	if s := serial(lazy); s != 2 {
		t.Errorf("before the interval: serial %d, want 2", s)
	}
	clock = clock.Add(61 * time.Second)
	if s := serial(lazy); s != 3 {
		t.Errorf("after the interval: serial %d, want 3", s)
	}

	// A file missing for a moment (being replaced) is retried without a log.
	quietLogs := &syncBuffer{}
	quiet, err := receiver.NewCertReloader(certFile, keyFile, receiver.WithCertCheckInterval(time.Minute),
		receiver.WithCertClock(func() time.Time { return clock }), receiver.WithCertLogger(slog.New(slog.NewJSONHandler(quietLogs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(61 * time.Second)
	if s := serial(quiet); s != 3 || quietLogs.String() != "" {
		t.Errorf("key file missing: serial %d, want 3, and logs %q, want none", s, quietLogs.String())
	}
	writePair(t, certFile, keyFile, c3, k3, base.Add(2*time.Minute))

	// Watch picks up files without any handshake.
	watched, err := receiver.NewCertReloader(certFile, keyFile, receiver.WithCertCheckInterval(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { watched.Watch(ctx); close(done) }()
	c4, k4 := ca.Server(t, 4)
	writePair(t, certFile, keyFile, c4, k4, base.Add(3*time.Minute))
	waitFor(t, "Watch to pick up the new files", func() bool { return watched.Certificate().Leaf.SerialNumber.Int64() == 4 })
	cancel()
	<-done

	for name, f := range map[string]func() error{
		"missing files": func() error { _, err := receiver.NewCertReloader(filepath.Join(dir, "nope"), keyFile); return err },
		"empty names":   func() error { _, err := receiver.NewCertReloader("", ""); return err },
		"key as cert":   func() error { _, err := receiver.NewCertReloader(keyFile, keyFile); return err },
		"negative interval": func() error {
			_, err := receiver.NewCertReloader(certFile, keyFile, receiver.WithCertCheckInterval(-1))
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
