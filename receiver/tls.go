package receiver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/filewatch"
)

// DefaultCertCheckInterval is how often a CertReloader looks at its files'
// modification times, at most.
const DefaultCertCheckInterval = filewatch.DefaultInterval

// CertReloader serves a TLS certificate and key from two PEM files and picks
// up new ones without a restart: on Reload (wire it to SIGHUP), and when the
// files' size or modification time change, which it checks at most once per
// check interval, both during handshakes and, with Watch, on a ticker. A new
// pair that does not load (unreadable, not PEM, key not matching the
// certificate) is refused with an error log and the previous pair stays in
// use; it is retried once the files change again.
//
// It is safe for concurrent use.
type CertReloader struct {
	certFile, keyFile string
	certConfig

	cert  atomic.Pointer[tls.Certificate]
	watch *filewatch.Watcher[struct{}]
}

type certConfig struct {
	interval time.Duration
	logger   *slog.Logger
	clock    func() time.Time
}

// CertOption configures a CertReloader.
type CertOption func(*certConfig)

// WithCertCheckInterval sets how often the files are checked for changes
// (default DefaultCertCheckInterval). 0 turns the automatic check off: only
// Reload then loads new files.
func WithCertCheckInterval(d time.Duration) CertOption {
	return func(c *certConfig) { c.interval = d }
}

// WithCertLogger sets where reloads and failed reloads are logged (default:
// discard).
func WithCertLogger(l *slog.Logger) CertOption { return func(c *certConfig) { c.logger = l } }

// WithCertClock sets the time source of the check interval; for tests.
func WithCertClock(now func() time.Time) CertOption { return func(c *certConfig) { c.clock = now } }

// NewCertReloader loads certFile (the certificate chain, leaf first) and
// keyFile (its private key), both PEM. It fails if they do not load now.
func NewCertReloader(certFile, keyFile string, opts ...CertOption) (*CertReloader, error) {
	cfg := certConfig{interval: DefaultCertCheckInterval, logger: slog.New(slog.DiscardHandler), clock: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case certFile == "" || keyFile == "":
		return nil, errors.New("receiver: TLS needs both a certificate file and a key file")
	case cfg.interval < 0:
		return nil, fmt.Errorf("receiver: certificate check interval must not be negative, got %v", cfg.interval)
	case cfg.logger == nil:
		return nil, errors.New("receiver: certificate logger must not be nil")
	case cfg.clock == nil:
		return nil, errors.New("receiver: certificate clock must not be nil")
	}
	c := &CertReloader{certFile: certFile, keyFile: keyFile, certConfig: cfg}
	c.watch = &filewatch.Watcher[struct{}]{Read: c.stamp, Apply: c.load, Report: c.logChangeFailure, Clock: cfg.clock}
	if err := c.watch.Load(); err != nil {
		return nil, err
	}
	return c, nil
}

// TLSConfig returns a server configuration that takes its certificate from
// c, with TLS 1.2 as the minimum version.
func (c *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.GetCertificate,
	}
}

// GetCertificate is for tls.Config.GetCertificate: it returns the current
// certificate, first reloading it if the check interval has passed and the
// files changed.
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.maybeCheck()
	return c.cert.Load(), nil
}

// Certificate returns the certificate in use.
func (c *CertReloader) Certificate() *tls.Certificate { return c.cert.Load() }

// Reload loads the files now, whether or not they changed. On error the
// previous certificate stays in use.
func (c *CertReloader) Reload() error {
	if err := c.watch.Load(); err != nil {
		c.logger.Error("TLS certificate reload failed; keeping the previous certificate", "error", err)
		return err
	}
	return nil
}

// Watch checks the files every check interval until ctx ends, so that a
// renewed certificate is picked up even while no handshake happens. It
// returns at once if the interval is 0.
func (c *CertReloader) Watch(ctx context.Context) { c.watch.Run(ctx, c.interval) }

// maybeCheck stats the files if the interval has passed since the last
// check and reloads them if they changed since they were last loaded.
func (c *CertReloader) maybeCheck() { c.watch.PollIfDue(c.interval) }

// filesMissing is a stat failure: a file missing for a moment (being
// replaced) is retried at the next check without a log line.
type filesMissing struct{ err error }

func (e filesMissing) Error() string { return e.err.Error() }
func (e filesMissing) Unwrap() error { return e.err }

// stamp is the size and modification time of both files.
func (c *CertReloader) stamp() (struct{}, filewatch.Stamp, error) {
	st, err := filewatch.StatStamp(c.certFile, c.keyFile)
	if err != nil {
		return struct{}{}, st, fmt.Errorf("receiver: loading TLS certificate %s and key %s: %w", c.certFile, c.keyFile, filesMissing{err})
	}
	return struct{}{}, st, nil
}

func (c *CertReloader) logChangeFailure(err error) {
	if errors.As(err, new(filesMissing)) {
		return
	}
	c.logger.Error("TLS certificate files changed but do not load; keeping the previous certificate", "error", err)
}

// load reads and installs the pair; it runs under the watcher's lock.
func (c *CertReloader) load(struct{}) error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		// The error may quote a file name but never key material.
		return fmt.Errorf("receiver: loading TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("receiver: parsing TLS certificate %s: %w", c.certFile, err)
		}
		pair.Leaf = leaf
	}
	now := c.clock()
	if now.After(leaf.NotAfter) {
		c.logger.Warn("TLS certificate has expired", "file", c.certFile, "not_after", leaf.NotAfter)
	}
	prev := c.cert.Swap(&pair)
	if prev != nil {
		c.logger.Info("TLS certificate reloaded", "file", c.certFile,
			"serial", leaf.SerialNumber.String(), "subject", leaf.Subject.String(), "not_after", leaf.NotAfter)
	}
	return nil
}
