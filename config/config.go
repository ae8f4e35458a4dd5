package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"
)

// EnvPrefix prefixes the environment variable of every flag.
const EnvPrefix = "ASSISTANT_OTEL"

// Environment variables read directly (not through a flag).
const (
	EnvSecret       = "ASSISTANT_OTEL_SECRET"
	EnvPseudonymKey = "ASSISTANT_OTEL_PSEUDONYM_KEY"
	// EnvGenAICaptureContent is the OpenTelemetry switch for message content;
	// "false" turns content capture off like --capture-content=false.
	EnvGenAICaptureContent = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
)

// Auth modes.
const (
	AuthJWT  = "jwt"
	AuthNone = "none"
)

// Serve holds the settings of `assistant-otel serve`.
type Serve struct {
	Listen string
	Path   string
	Auth   string
	// Secret is the first of Secrets (the one the pseudonym key derives from).
	Secret []byte
	// Secrets are every secret accepted: several for rotation.
	Secrets  [][]byte
	Security Security
	// Mapping holds the mapping flags, shared with backfill and replay;
	// PseudonymKeyDerived is set when the key comes from the first secret.
	Mapping
	// PprofListen serves net/http/pprof there when set (off by default).
	PprofListen string
	// MetricsListen serves GET /metrics (Prometheus exposition of the
	// service's own metrics) there; empty turns it off. Never Listen.
	MetricsListen string
	// MemoryLimit is the Go runtime's soft memory limit in bytes (0: none).
	MemoryLimit     int64
	JWTLeeway       time.Duration
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	LogFormat       string
	LogLevel        slog.Level
	Spool           Spool
	// MaxRequestBytes bounds one OTLP export request (and so one span or
	// log record, cut down to fit).
	MaxRequestBytes int
	// PumpWorkers is how many batches are decoded, mapped and encoded at
	// once while the oldest is sent (pump.Options.Workers).
	PumpWorkers int
	// MaxEventAge is how far in the past a payload timestamp may lie before
	// the mapping treats it as implausible (mapping.Options.MaxEventAge).
	MaxEventAge time.Duration
	// ReadyzDetails shows why /readyz is not ready or degraded to every
	// caller; off, only loopback callers (without X-Forwarded-For) see it.
	ReadyzDetails bool
}

// DefaultMaxRequestBytes is --max-request-bytes: under the 4 MiB a
// Collector's gRPC receiver takes by default, with headroom.
const DefaultMaxRequestBytes = 3 << 20

// MinMaxRequestBytes is the smallest --max-request-bytes.
const MinMaxRequestBytes = 16 << 10

// Spool holds the settings of the queue between the receiver and the export.
type Spool struct {
	// Dir is the durable spool's directory; empty means an in-memory queue
	// (lost on exit).
	Dir string
	// MaxBytes bounds the durable spool; MemoryMaxBytes the in-memory queue.
	MaxBytes       int64
	MemoryMaxBytes int64
	// DedupeWindow and DedupeMax bound the remembered event ids; a zero
	// window turns deduplication off.
	DedupeWindow time.Duration
	DedupeMax    int
	// DeadLetterMaxBytes bounds the dead-letter store (<Dir>/dead-letters)
	// of events the OTLP endpoint refused.
	DeadLetterMaxBytes int64
}

// Getenv looks up an environment variable (os.Getenv in production).
type Getenv func(string) string

// ParseServe parses the serve command's flags and environment; help
// receives -h output (see Parse).
func ParseServe(args []string, getenv Getenv, help io.Writer) (Serve, error) {
	fs := flag.NewFlagSet("assistant-otel serve", flag.ContinueOnError)
	var c Serve
	var secretFile, logLevel string
	fs.StringVar(&c.Listen, "listen", ":8080", "address to listen on for the webhook (host:port)")
	fs.StringVar(&c.Path, "path", "/webhook", "URL path of the log webhook")
	fs.StringVar(&c.Auth, "auth", AuthJWT, "authentication of webhook calls: jwt (verify Watson's signed token), header (compare --auth-header with the secret) or none")
	fs.StringVar(&secretFile, "secret-file", "", "file(s) holding the webhook secret typed into Watson Assistant, comma-separated for rotation (or set "+EnvSecret+"); re-read on SIGHUP and change")
	fs.DurationVar(&c.JWTLeeway, "jwt-leeway", time.Minute, "clock skew allowed when checking a token's exp and nbf")
	c.Mapping.Register(fs)
	addSecurityFlags(fs, &c.Security)
	fs.DurationVar(&c.MaxEventAge, "max-event-age", 90*24*time.Hour, "a payload timestamp older than this is implausible for a live webhook: the arrival time stands in and it is counted (assistant_otel.mapping.clamped, timestamp_out_of_window); raise it to post older logs through serve")
	fs.BoolVar(&c.ReadyzDetails, "readyz-details", false, "show why /readyz is not ready or degraded (internal endpoints, error texts) to every caller; by default only to loopback callers")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 8<<20, "largest accepted request body in bytes (also after gzip decompression)")
	fs.DurationVar(&c.ShutdownTimeout, "drain-timeout", 15*time.Second, "how long SIGTERM waits for requests to finish and queued events to be exported; what is left stays in the spool")
	fs.StringVar(&c.Spool.Dir, "spool-dir", "", "directory of the durable spool: accepted events are fsync'd there before the 2xx and kept until exported; empty: in memory only")
	fs.Int64Var(&c.Spool.MaxBytes, "spool-max-bytes", 1<<30, "size limit of the spool in bytes; when full, webhook calls get 503 with Retry-After")
	fs.Int64Var(&c.Spool.MemoryMaxBytes, "memory-queue-bytes", 16<<20, "size limit in body bytes of the in-memory queue used without --spool-dir")
	fs.DurationVar(&c.Spool.DedupeWindow, "dedupe-window", time.Hour, "how long an event id (log_id, cdr global_session_id) is remembered to drop redeliveries; 0 turns it off")
	fs.IntVar(&c.Spool.DedupeMax, "dedupe-max", 100000, "how many event ids are remembered at most for deduplication")
	fs.Int64Var(&c.Spool.DeadLetterMaxBytes, "dead-letter-max-bytes", 256<<20, "size limit of the dead-letter store (<spool-dir>/dead-letters) of events the OTLP endpoint refused; when full, more are counted and logged, not kept")
	fs.IntVar(&c.MaxRequestBytes, "max-request-bytes", DefaultMaxRequestBytes, "largest OTLP export request in bytes: batches are split to fit, and a span or log record is cut down to fit (a Collector's gRPC receiver takes 4 MiB by default)")
	fs.IntVar(&c.PumpWorkers, "pump-workers", 2, "how many batches of queued events are decoded, mapped and encoded at once while the oldest is exported (1 to 64)")
	fs.Int64Var(&c.MemoryLimit, "memory-limit", 64<<20, "soft limit in bytes of the service's Go memory (the runtime's memory limit: the garbage collector works harder near it); 0: none. GOMEMLIMIT, when set, wins")
	fs.StringVar(&c.PprofListen, "pprof-listen", "", "serve Go's pprof profiles on this address, e.g. 127.0.0.1:6060 (off when empty; keep it on loopback)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "127.0.0.1:9464", "serve the service's own metrics for Prometheus (GET /metrics) on this address, in addition to OTLP; empty turns it off; never the --listen address")
	fs.StringVar(&c.LogFormat, "log-format", "text", "format of the service's own logs: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "level of the service's own logs: debug, info, warn or error")

	const about = `Usage: assistant-otel serve [flags]
Receives Watson Assistant log webhooks and exports them as OpenTelemetry; where to is set by the
standard OTEL_* variables (none: the console). The webhook secret comes from --secret-file or ` + EnvSecret + `.`
	if err := Parse(fs, about, args, getenv, help); err != nil {
		return Serve{}, err
	}
	if fs.NArg() > 0 {
		return Serve{}, fmt.Errorf("unexpected argument %q (see assistant-otel serve --help)", fs.Arg(0))
	}
	errs := problems{checkAddress("listen", c.Listen, false), checkAddress("pprof-listen", c.PprofListen, true)}
	errs.check(!strings.HasPrefix(c.Path, "/"), "--path %q must start with /", c.Path)
	errs = append(errs, c.Mapping.Validate(getenv)...)
	errs = append(errs, c.Security.validate(c.Auth, secretFile)...)
	errs.check(c.MaxBodyBytes < 1024, "--max-body-bytes %d is below 1024", c.MaxBodyBytes)
	// Below the largest body, such a body could never be accepted.
	n := c.Security.HTTP.MaxInflightBytes
	errs.check(n != 0 && n < c.MaxBodyBytes, "--max-inflight-bytes %d must be 0 (derived from --memory-limit) or at least --max-body-bytes %d", n, c.MaxBodyBytes)
	errs.check(c.MaxEventAge <= 0, "--max-event-age %v must be positive", c.MaxEventAge)
	errs.check(c.ShutdownTimeout <= 0, "--drain-timeout %v must be positive", c.ShutdownTimeout)
	errs.check(c.Spool.MaxBytes < 1<<20 || c.Spool.MemoryMaxBytes < 1<<20, "--spool-max-bytes %d and --memory-queue-bytes %d must be at least 1 MiB", c.Spool.MaxBytes, c.Spool.MemoryMaxBytes)
	// A queue smaller than the largest body would refuse such an event for
	// ever, and Watson does not retry.
	queueFlag, limit := "memory-queue-bytes", c.Spool.MemoryMaxBytes
	if c.Spool.Dir != "" {
		queueFlag, limit = "spool-max-bytes", c.Spool.MaxBytes
	}
	errs.check(limit < 2*c.MaxBodyBytes, "--%s %d must be at least twice --max-body-bytes %d", queueFlag, limit, c.MaxBodyBytes)
	errs.check(c.MemoryLimit != 0 && c.MemoryLimit < 32<<20, "--memory-limit %d must be 0 (none) or at least 32 MiB", c.MemoryLimit)
	errs.check(c.MaxRequestBytes < MinMaxRequestBytes, "--max-request-bytes %d is below %d", c.MaxRequestBytes, MinMaxRequestBytes)
	errs.check(c.PumpWorkers < 1 || c.PumpWorkers > 64, "--pump-workers %d must be from 1 to 64", c.PumpWorkers)
	errs.check(c.Spool.DeadLetterMaxBytes < 1<<20, "--dead-letter-max-bytes %d must be at least 1 MiB", c.Spool.DeadLetterMaxBytes)
	errs.check(c.Spool.DedupeWindow < 0 || c.Spool.DedupeMax < 0, "--dedupe-window and --dedupe-max must not be negative")
	if strings.EqualFold(c.MetricsListen, "off") { // an empty variable is not seen
		c.MetricsListen = ""
	}
	errs = append(errs, checkMetricsListen(c.MetricsListen, c.Listen))
	errs.check(c.LogFormat != "text" && c.LogFormat != "json", "--log-format %q must be text or json", c.LogFormat)
	errs.check(c.LogLevel.UnmarshalText([]byte(logLevel)) != nil, "--log-level %q must be debug, info, warn or error", logLevel)

	var secretErr error
	if secretFile != "" {
		for _, f := range strings.Split(secretFile, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			c.Security.SecretFiles = append(c.Security.SecretFiles, f)
			secret, err := ReadSecret(f, "", "webhook secret")
			if err != nil {
				secretErr = errors.Join(secretErr, err)
				continue
			}
			c.Secrets = append(c.Secrets, secret)
		}
	} else if v := getenv(EnvSecret); v != "" {
		c.Secrets = [][]byte{[]byte(v)}
	}
	errs = append(errs, secretErr)
	if len(c.Secrets) > 0 {
		c.Secret = c.Secrets[0]
	}
	switch c.Auth {
	case AuthJWT, AuthHeader:
		errs.check(len(c.Secrets) == 0 && secretErr == nil && c.Security.AssistantsFile == "", "no webhook secret: set %s, --secret-file or --assistants-file to the secret configured in Watson Assistant, or pass --auth=none to accept unauthenticated calls", EnvSecret)
	case AuthNone:
	default:
		errs = append(errs, fmt.Errorf("--auth %q must be jwt, header or none", c.Auth))
	}

	c.Mapping.DeriveKey(c.Secret)
	if err := errors.Join(errs...); err != nil {
		return Serve{}, err
	}
	return c, nil
}

// Send holds the settings of `assistant-otel send`.
type Send struct {
	URL     string
	Secret  []byte
	File    string
	Timeout time.Duration
}

// ParseSend parses the send command's flags and environment; help receives
// -h output (see Parse).
func ParseSend(args []string, getenv Getenv, help io.Writer) (Send, error) {
	fs := flag.NewFlagSet("assistant-otel send", flag.ContinueOnError)
	var c Send
	var secretFile string
	fs.StringVar(&c.URL, "url", "", "webhook URL, e.g. http://127.0.0.1:8080/webhook")
	fs.StringVar(&secretFile, "secret-file", "", "file holding the webhook secret (or set "+EnvSecret+")")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "request timeout")
	const about = `Usage: assistant-otel send --url URL [--secret-file FILE] EVENT.json
Signs the file's body like Watson Assistant does and POSTs it; prints the status.`
	if err := Parse(fs, about, args, getenv, help); err != nil {
		return Send{}, err
	}
	var errs problems
	if c.URL == "" {
		errs = append(errs, errors.New("--url is required"))
	} else {
		errs = append(errs, CheckURL("url", c.URL))
	}
	if fs.NArg() != 1 {
		errs = append(errs, errors.New("exactly one event file is required"))
	} else {
		c.File = fs.Arg(0)
	}
	secret, err := ReadSecret(secretFile, getenv(EnvSecret), "webhook secret")
	switch {
	case err != nil:
		errs = append(errs, err)
	case len(secret) == 0:
		errs = append(errs, fmt.Errorf("no webhook secret: set %s or --secret-file", EnvSecret))
	}
	c.Secret = secret
	errs.check(c.Timeout <= 0, "--timeout %v must be positive", c.Timeout)
	if err := errors.Join(errs...); err != nil {
		return Send{}, err
	}
	return c, nil
}

// Healthcheck holds the settings of `assistant-otel healthcheck`.
type Healthcheck struct {
	URL     string
	Timeout time.Duration
}

// ParseHealthcheck parses the healthcheck command's flags; help receives -h
// output (see Parse). It reads no environment.
func ParseHealthcheck(args []string, help io.Writer) (Healthcheck, error) {
	fs := flag.NewFlagSet("assistant-otel healthcheck", flag.ContinueOnError)
	var c Healthcheck
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080/healthz", "URL to probe (/healthz: the process serves; /readyz: it can also export)")
	fs.DurationVar(&c.Timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	const about = `Usage: assistant-otel healthcheck [--url URL] [--timeout 3s]
Exits 0 when a running service answers 2xx, 1 otherwise: the container's health check (the image has no shell).`
	if err := Parse(fs, about, args, nil, help); err != nil {
		return Healthcheck{}, err
	}
	err := CheckURL("url", c.URL)
	if c.Timeout <= 0 {
		err = errors.Join(err, fmt.Errorf("--timeout %v must be positive", c.Timeout))
	}
	return c, err
}

// EnvVar is the environment variable of a flag: --secret-file is
// ASSISTANT_OTEL_SECRET_FILE.
func EnvVar(flagName string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ReadSecret returns the contents of file (without a trailing newline) when
// file is set, else value. Errors never include the secret.
func ReadSecret(file, value, what string) ([]byte, error) {
	if file == "" {
		return []byte(value), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) == 0 {
		return nil, fmt.Errorf("%s file %s is empty", what, file)
	}
	return b, nil
}

// DerivePseudonymKey derives the user-id hashing key from the webhook secret
// when no key is configured: a one-way derivation, so the hashes reveal
// nothing about the secret.
func DerivePseudonymKey(secret []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("assistant-otel pseudonym key v1"))
	return mac.Sum(nil)
}

// checkMetricsListen refuses a --metrics-listen that is not host:port or
// that is (or overlaps) the webhook's --listen: the metrics endpoint is never
// served on the public webhook listener. A wildcard host ("", 0.0.0.0, ::)
// overlaps every host on the same port.
func checkMetricsListen(metrics, listen string) error {
	if metrics == "" {
		return nil
	}
	if err := checkAddress("metrics-listen", metrics, true); err != nil {
		return err
	}
	mh, mp, _ := net.SplitHostPort(metrics)
	lh, lp, err := net.SplitHostPort(listen)
	if err != nil || mp != lp || mp == "0" {
		return nil
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	if mh == lh || wildcard(mh) || wildcard(lh) {
		return fmt.Errorf("--metrics-listen %q is the webhook's --listen %q: the metrics endpoint needs its own address, never the public listener", metrics, listen)
	}
	return nil
}
