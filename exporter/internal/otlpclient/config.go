// Package otlpclient sends serialized OTLP export requests (traces and logs)
// over OTLP/gRPC or OTLP/HTTP (protobuf) to a Collector.
//
// The requests are encoded elsewhere; this package only moves bytes. Its
// configuration is read from the standard OTEL_EXPORTER_OTLP_* environment
// variables with the precedence, defaults and parsing of the OpenTelemetry Go
// SDK's OTLP exporters (see FromEnv), and a Client never retries: the caller
// retries with its own backoff, helped by Classify (transient, refused for
// the content, or misconfigured, as the OTLP specification sorts failures).
//
// Imports: it imports no package of this module: it moves bytes, and the
// exporter decides what they hold.
package otlpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Signal is an OTLP signal this package exports.
type Signal string

// The signals.
const (
	Traces Signal = "traces"
	Logs   Signal = "logs"
)

// Protocols of OTLP.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// Defaults of the SDK's OTLP exporters.
const (
	defaultGRPCEndpoint = "localhost:4317"
	defaultHTTPHost     = "localhost:4318"
	defaultTimeout      = 10 * time.Second
)

// Config is the resolved OTLP export configuration of one signal.
type Config struct {
	Signal   Signal
	Protocol string // "grpc" or "http/protobuf"
	// Endpoint is, for grpc, the target (host:port or a gRPC target URI such
	// as unix:///path); for http/protobuf, the full URL including the path
	// (/v1/traces or /v1/logs by default).
	Endpoint string
	// Insecure is, for grpc, plaintext instead of TLS; for http/protobuf it
	// is informational: the scheme of Endpoint decides.
	Insecure bool
	// TLS is the client TLS configuration built from the CERTIFICATE,
	// CLIENT_CERTIFICATE and CLIENT_KEY files; nil means the system roots.
	TLS *tls.Config
	// Headers are sent with every request. They are never logged nor put in
	// errors.
	Headers map[string]string
	// Compression is "gzip" or "" (none).
	Compression string
	// Timeout bounds each export call; 0 means no bound (default 10s).
	Timeout time.Duration
}

// String describes the configuration without header values, so that a
// Config can be logged with %v.
func (c Config) String() string {
	keys := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	comp := c.Compression
	if comp == "" {
		comp = "none"
	}
	return fmt.Sprintf("otlp %s %s → %s (insecure=%t, tls=%t, compression=%s, timeout=%s, headers=%v)",
		c.Signal, c.Protocol, c.DisplayEndpoint(), c.Insecure, c.TLS != nil, comp, c.Timeout, keys)
}

// DisplayEndpoint returns the endpoint without user information, query or
// fragment, safe to log.
func (c Config) DisplayEndpoint() string {
	e := c.Endpoint
	if u, err := url.Parse(e); err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque == "") {
		u.User = nil
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		return u.String()
	}
	if i := strings.LastIndexByte(e, '@'); i >= 0 {
		e = e[i+1:]
	}
	if i := strings.IndexAny(e, "?#"); i >= 0 {
		e = e[:i]
	}
	return e
}

// env reads the OTEL_EXPORTER_OTLP_* variables of one signal.
type env struct {
	signal Signal
	getenv func(string) string
}

// lookup returns the first set variable of OTEL_EXPORTER_OTLP_<SIGNAL>_<name>
// and OTEL_EXPORTER_OTLP_<name>, trimmed; empty counts as unset.
func (e env) lookup(name string) (key, value string) {
	for _, k := range []string{e.key(name, true), e.key(name, false)} {
		if v := strings.TrimSpace(e.getenv(k)); v != "" {
			return k, v
		}
	}
	return "", ""
}

func (e env) key(name string, signal bool) string {
	if signal {
		return "OTEL_EXPORTER_OTLP_" + strings.ToUpper(string(e.signal)) + "_" + name
	}
	return "OTEL_EXPORTER_OTLP_" + name
}

// FromEnv resolves the configuration of one signal from the standard
// OTEL_EXPORTER_OTLP_* variables, read with getenv (os.Getenv if nil), with
// the precedence, defaults and parsing of the Go SDK's OTLP exporters
// (otlptracegrpc and otlptracehttp for traces, otlploggrpc and otlploghttp
// for logs): the signal-specific variable wins over the generic one and an
// empty variable counts as unset. The protocol defaults to grpc; a caller
// that has decided it already passes a getenv that returns it for
// OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL (the endpoint depends on it).
//
// Unlike the SDK, which logs an invalid value and ignores it, FromEnv
// returns an error naming the variable (never a header value nor file
// content). Header entries that are not key=value with a valid key are
// skipped, as the trace exporters do.
func FromEnv(signal Signal, getenv func(string) string) (Config, error) {
	if signal != Traces && signal != Logs {
		return Config{}, fmt.Errorf("otlp: unknown signal %q", signal)
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	e := env{signal: signal, getenv: getenv}
	c := Config{Signal: signal, Protocol: ProtocolGRPC, Timeout: defaultTimeout}

	if k, v := e.lookup("PROTOCOL"); k != "" {
		switch v {
		case ProtocolGRPC, ProtocolHTTP:
			c.Protocol = v
		case "http/json":
			return Config{}, fmt.Errorf("%s: protocol http/json is not supported, want %s or %s", k, ProtocolGRPC, ProtocolHTTP)
		default:
			return Config{}, fmt.Errorf("%s: unknown protocol %q, want %s or %s", k, v, ProtocolGRPC, ProtocolHTTP)
		}
	}
	if err := e.endpoint(&c); err != nil {
		return Config{}, err
	}
	tlsCfg, err := e.tls()
	if err != nil {
		return Config{}, err
	}
	c.TLS = tlsCfg
	if c.Protocol == ProtocolGRPC && c.TLS != nil {
		// Both SDKs give TLS credentials precedence over insecure for gRPC
		// (otlpconfig.NewGRPCConfig, otlploggrpc newGRPCDialOptions).
		c.Insecure = false
	}
	if k, v := e.lookup("HEADERS"); k != "" {
		c.Headers = parseHeaders(v)
	}
	if k, v := e.lookup("COMPRESSION"); k != "" {
		switch v {
		case "gzip":
			c.Compression = "gzip"
		case "none":
			c.Compression = ""
		default:
			return Config{}, fmt.Errorf("%s: unknown compression %q, want gzip or none", k, v)
		}
	}
	if k, v := e.lookup("TIMEOUT"); k != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			return Config{}, fmt.Errorf("%s: %q is not a number of milliseconds", k, v)
		}
		c.Timeout = time.Duration(ms) * time.Millisecond
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// endpoint sets the endpoint and the transport security of c.
func (e env) endpoint(c *Config) error {
	key, raw := e.lookup("ENDPOINT")
	var u *url.URL
	if key != "" {
		var err error
		if u, err = url.Parse(raw); err != nil {
			return fmt.Errorf("%s: invalid URL: %w", key, errors.Unwrap(err))
		}
	}

	// Security. The trace exporters apply the endpoint's scheme (http and
	// unix: insecure, anything else: secure) and then let an INSECURE
	// variable override it (otlpconfig getOptionsFromEnv: withEndpointScheme
	// before withInsecure). The log exporters let the scheme decide and read
	// INSECURE only without one (loadInsecureFromEnvEndpoint,
	// insecureFromScheme, convInsecure).
	decided := false
	if u != nil {
		scheme := strings.ToLower(u.Scheme)
		if e.signal == Traces {
			c.Insecure = scheme == "http" || scheme == "unix"
		} else {
			switch {
			case scheme == "https":
				c.Insecure, decided = false, true
			case scheme == "":
			case u.Host != "" || scheme == "unix":
				c.Insecure, decided = true, true
			}
			// Otherwise host:port (parsed as scheme "host") or a dns:
			// target: the log SDK ends with no target at all; the scheme is
			// not one, so INSECURE decides as for no scheme.
		}
	}
	if k, v := e.lookup("INSECURE"); k != "" && !decided {
		switch strings.ToLower(v) {
		case "true":
			c.Insecure = true
		case "false":
			c.Insecure = false
		default:
			return fmt.Errorf("%s: %q is not true or false", k, v)
		}
	}

	if c.Protocol == ProtocolGRPC {
		c.Endpoint = defaultGRPCEndpoint
		if u != nil {
			c.Endpoint = grpcTarget(e.signal, u)
			if c.Endpoint == "" {
				return fmt.Errorf("%s: %q has no host", key, displayURL(raw))
			}
		}
		return nil
	}

	// OTLP/HTTP: the signal variable is used as is (an empty path is "/"),
	// the generic one gets /v1/<signal> appended (otlpconfig
	// getOptionsFromEnv; otlploghttp convPathExact, convPath). The scheme
	// follows the resolved security, as the SDK builds the URL from host,
	// path and Insecure.
	host, p := defaultHTTPHost, "/v1/"+string(e.signal)
	if u != nil {
		if u.Host == "" {
			return fmt.Errorf("%s: %q is not a URL with a host (want e.g. http://collector:4318)", key, displayURL(raw))
		}
		host = u.Host
		if key == e.key("ENDPOINT", true) {
			p = u.Path
			if p == "" {
				p = "/"
			}
		} else {
			p = path.Join(u.Path, p)
		}
	}
	scheme := "https"
	if c.Insecure {
		scheme = "http"
	}
	c.Endpoint = (&url.URL{Scheme: scheme, Host: host, Path: p}).String()
	return nil
}

// grpcTarget returns the gRPC target of an endpoint URL. The trace exporters
// use the host of http and https URLs and the URL itself otherwise
// (otlpconfig withEndpointForGRPC); the log exporters use the host
// (otlploggrpc convEndpoint), which is empty for host:port and for targets
// like unix:///path, so those fall back to the trace rule.
func grpcTarget(s Signal, u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "http" || scheme == "https":
		return u.Host
	case s == Logs && u.Host != "":
		return u.Host
	case scheme == "" && u.Host != "":
		return path.Join(u.Host, u.Path)
	}
	return u.String()
}

// displayURL returns a URL-like string without user information, query or
// fragment, safe to log.
func displayURL(s string) string { return Config{Endpoint: s}.DisplayEndpoint() }

// tls builds the TLS configuration from the certificate variables, or nil.
// The signal file wins over the generic one, and the signal client pair over
// the generic pair (otlpconfig getOptionsFromEnv with envconfig.WithCertPool
// and WithClientCert; otlploggrpc/otlploghttp loadEnvTLS).
func (e env) tls() (*tls.Config, error) {
	var c tls.Config
	if k, file := e.lookup("CERTIFICATE"); k != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s: %s: no PEM certificate found", k, file)
		}
	}
	for _, signal := range []bool{true, false} {
		kc, kk := e.key("CLIENT_CERTIFICATE", signal), e.key("CLIENT_KEY", signal)
		certFile, keyFile := strings.TrimSpace(e.getenv(kc)), strings.TrimSpace(e.getenv(kk))
		if certFile == "" && keyFile == "" {
			continue
		}
		if certFile == "" || keyFile == "" {
			return nil, fmt.Errorf("%s and %s must be set together", kc, kk)
		}
		certPEM, err := os.ReadFile(certFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kc, err)
		}
		keyPEM, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kk, err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s=%s, %s=%s: %w", kc, certFile, kk, keyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
		break
	}
	if c.RootCAs == nil && c.Certificates == nil {
		return nil, nil
	}
	return &c, nil
}

// parseHeaders parses k=v,k2=v2 with URL-decoded values, skipping invalid
// entries (envconfig stringToHeader).
func parseHeaders(s string) map[string]string {
	h := make(map[string]string)
	for _, entry := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(entry, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if !validHeaderKey(k) {
			continue
		}
		v, err := url.PathUnescape(v)
		if err != nil {
			continue
		}
		h[k] = strings.TrimSpace(v)
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// validHeaderKey reports whether k is an RFC 7230 token (envconfig
// isValidHeaderKey).
func validHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

// validate checks what New needs.
func (c Config) validate() error {
	if c.Signal != Traces && c.Signal != Logs {
		return fmt.Errorf("otlp: unknown signal %q", c.Signal)
	}
	if c.Compression != "" && c.Compression != "gzip" {
		return fmt.Errorf("otlp %s: unknown compression %q", c.Signal, c.Compression)
	}
	switch c.Protocol {
	case ProtocolGRPC:
		if c.Endpoint == "" {
			return fmt.Errorf("otlp %s: no endpoint", c.Signal)
		}
	case ProtocolHTTP:
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("otlp %s: endpoint %q is not an http or https URL", c.Signal, c.DisplayEndpoint())
		}
		if u.Scheme == "http" && c.TLS != nil {
			// otlptracehttp client.Start, otlploghttp newHTTPClient.
			return fmt.Errorf("otlp %s: insecure HTTP endpoint %s cannot use TLS client configuration", c.Signal, c.DisplayEndpoint())
		}
	default:
		return fmt.Errorf("otlp %s: unknown protocol %q", c.Signal, c.Protocol)
	}
	return nil
}
