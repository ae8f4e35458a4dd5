package receiver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Server defaults: bounded reads and writes against slow clients
// (slowloris), and a header cap well above any real JWT.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

type serverConfig struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
	tls                           *tls.Config
	logger                        *slog.Logger
	meter                         metric.Meter
	logInterval                   time.Duration
	clock                         func() time.Time
}

// ServerOption configures NewServer.
type ServerOption func(*serverConfig)

// WithReadHeaderTimeout bounds reading the request headers.
func WithReadHeaderTimeout(d time.Duration) ServerOption {
	return func(c *serverConfig) { c.readHeader = d }
}

// WithReadTimeout bounds reading the whole request, body included.
func WithReadTimeout(d time.Duration) ServerOption { return func(c *serverConfig) { c.read = d } }

// WithWriteTimeout bounds handling and writing the response.
func WithWriteTimeout(d time.Duration) ServerOption { return func(c *serverConfig) { c.write = d } }

// WithIdleTimeout bounds how long a keep-alive connection may idle.
func WithIdleTimeout(d time.Duration) ServerOption { return func(c *serverConfig) { c.idle = d } }

// WithMaxHeaderBytes caps the request line and headers; larger requests get
// 431 from net/http.
func WithMaxHeaderBytes(n int) ServerOption { return func(c *serverConfig) { c.maxHeaderBytes = n } }

// WithTLSConfig sets the TLS configuration used by ListenAndServeTLS / ServeTLS
// (e.g. with GetCertificate for reloads). A MinVersion below TLS 1.2 is raised
// to TLS 1.2.
func WithTLSConfig(cfg *tls.Config) ServerOption { return func(c *serverConfig) { c.tls = cfg } }

// WithServerLogger routes net/http's own messages (TLS handshake errors,
// connection errors) to l at warn level. Failed TLS handshakes are logged at
// most once per reason per DefaultLogInterval (see WithServerLogInterval),
// without the error text.
func WithServerLogger(l *slog.Logger) ServerOption { return func(c *serverConfig) { c.logger = l } }

// WithServerMeter counts failed TLS handshakes in
// assistant_otel.tls.handshake_errors{reason} (with WithServerLogger).
func WithServerMeter(m metric.Meter) ServerOption { return func(c *serverConfig) { c.meter = m } }

// WithServerLogInterval sets how often at most one TLS handshake failure is
// logged per reason (default DefaultLogInterval; 0 logs every one), and the
// clock that measures it (nil: time.Now).
func WithServerLogInterval(d time.Duration, now func() time.Time) ServerOption {
	return func(c *serverConfig) { c.logInterval, c.clock = d, now }
}

// NewServer returns an *http.Server for h on addr with the Default* limits,
// overridden by opts. Every timeout and the header cap must be positive: a
// zero would mean "no limit" to net/http.
func NewServer(addr string, h http.Handler, opts ...ServerOption) (*http.Server, error) {
	if h == nil {
		return nil, errors.New("receiver: server handler must not be nil")
	}
	cfg := serverConfig{
		readHeader:     DefaultReadHeaderTimeout,
		read:           DefaultReadTimeout,
		write:          DefaultWriteTimeout,
		idle:           DefaultIdleTimeout,
		maxHeaderBytes: DefaultMaxHeaderBytes,
		logInterval:    DefaultLogInterval,
	}
	for _, o := range opts {
		o(&cfg)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read header timeout", cfg.readHeader},
		{"read timeout", cfg.read},
		{"write timeout", cfg.write},
		{"idle timeout", cfg.idle},
	} {
		if d.v <= 0 {
			return nil, fmt.Errorf("receiver: server %s must be positive, got %v", d.name, d.v)
		}
	}
	if cfg.maxHeaderBytes <= 0 {
		return nil, fmt.Errorf("receiver: server max header bytes must be positive, got %d", cfg.maxHeaderBytes)
	}
	srv := &http.Server{
		Addr:                         addr,
		Handler:                      h,
		ReadHeaderTimeout:            cfg.readHeader,
		ReadTimeout:                  cfg.read,
		WriteTimeout:                 cfg.write,
		IdleTimeout:                  cfg.idle,
		MaxHeaderBytes:               cfg.maxHeaderBytes,
		DisableGeneralOptionsHandler: true,
	}
	if cfg.tls != nil {
		t := cfg.tls.Clone()
		if t.MinVersion < tls.VersionTLS12 {
			t.MinVersion = tls.VersionTLS12
		}
		srv.TLSConfig = t
	}
	if cfg.logger != nil {
		if cfg.clock == nil {
			cfg.clock = time.Now
		}
		el, err := newServerLog(cfg.logger, cfg.logInterval, cfg.clock, cfg.meter)
		if err != nil {
			return nil, err
		}
		srv.ErrorLog = el
	}
	return srv, nil
}
