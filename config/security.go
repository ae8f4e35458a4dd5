package config

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/assistant-otel/assistant-otel/redact"
)

// AuthHeader is the auth mode that compares a header set in Watson's webhook
// settings with the secret.
const AuthHeader = "header"

// Security holds authentication, transport, limit and privacy settings of
// serve.
type Security struct {
	// AuthHeader is the header compared in --auth=header mode.
	AuthHeader string
	// SecretFiles are re-read on SIGHUP and when they change; their
	// secrets are in Serve.Secrets.
	SecretFiles []string
	// AssistantsFile maps assistant ids to names and secrets.
	AssistantsFile string
	MaxTokenAge    time.Duration
	TLSCert        string
	TLSKey         string
	HTTP           HTTPLimits
}

// Privacy holds the redaction and context allow-list settings (part of
// Mapping).
type Privacy struct {
	// Redact turns the built-in personal-data detectors on.
	Redact         bool
	RedactDisable  []string
	RedactPatterns []string
	ContextAllow   []string
}

// HTTPLimits bounds what one client may cost.
type HTTPLimits struct {
	MaxHeaderBytes    int
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxConcurrent     int
	// MaxInflightBytes caps the body bytes of all webhook requests in
	// flight together; 0 means derived from the memory limit (see
	// cmd/assistant-otel).
	MaxInflightBytes int64
}

// listFlag is a repeatable flag; split, when set, also splits one value
// (from the command line or its environment variable).
type listFlag struct {
	values *[]string
	split  string
}

func (l listFlag) String() string {
	if l.values == nil {
		return ""
	}
	return strings.Join(*l.values, l.split)
}

func (l listFlag) Set(v string) error {
	parts := []string{v}
	if l.split != "" {
		parts = strings.Split(v, l.split)
	}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			*l.values = append(*l.values, p)
		}
	}
	return nil
}

func addSecurityFlags(fs *flag.FlagSet, s *Security) {
	fs.StringVar(&s.AuthHeader, "auth-header", "Authorization", "header compared with the secret in --auth=header mode")
	fs.StringVar(&s.AssistantsFile, "assistants-file", "", "YAML or JSON file naming several assistants with their secret files or variables (replaces --secret-file)")
	fs.DurationVar(&s.MaxTokenAge, "max-token-age", 0, "refuse tokens whose iat is older than this, to limit replays (0: off; Watson's token claims are undocumented, so check a real token first)")
	fs.StringVar(&s.TLSCert, "tls-cert", "", "PEM certificate chain: serve HTTPS (TLS 1.2+); reloaded on SIGHUP and when the file changes")
	fs.StringVar(&s.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.IntVar(&s.HTTP.MaxHeaderBytes, "max-header-bytes", 64<<10, "largest request line and headers in bytes (431 beyond)")
	fs.DurationVar(&s.HTTP.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send the request headers")
	fs.DurationVar(&s.HTTP.ReadTimeout, "read-timeout", 30*time.Second, "time a client has to send the whole request")
	fs.DurationVar(&s.HTTP.WriteTimeout, "write-timeout", 30*time.Second, "time to handle a request and answer")
	fs.DurationVar(&s.HTTP.IdleTimeout, "idle-timeout", 2*time.Minute, "idle keep-alive connections are closed after this")
	fs.IntVar(&s.HTTP.MaxConcurrent, "max-concurrent-requests", 256, "webhook requests in flight at most; more get 503 with Retry-After at once (0: no limit)")
	fs.Int64Var(&s.HTTP.MaxInflightBytes, "max-inflight-bytes", 0, "body bytes of all webhook requests in flight together; a body that does not fit gets 503 with Retry-After before it is read (0: derived from --memory-limit, none without one)")
}

// AddPrivacyFlags declares --redact, --redact-disable, --redact-pattern and
// --context-allow (see Mapping.Register).
func AddPrivacyFlags(fs *flag.FlagSet, s *Privacy) {
	fs.BoolVar(&s.Redact, "redact", true, "replace e-mail addresses, phone, card and IBAN numbers and IP addresses in every exported text")
	fs.Var(listFlag{&s.RedactDisable, ","}, "redact-disable", "built-in detectors to switch off, comma-separated: "+strings.Join(redact.Builtins(), ","))
	fs.Var(listFlag{&s.RedactPatterns, "\n"}, "redact-pattern", "extra NAME=REGEX to redact (repeatable; in the variable, one per line)")
	fs.Var(listFlag{&s.ContextAllow, ","}, "context-allow", "context variable paths to export, e.g. 'skills.actions skill.skill_variables.tier' (repeatable or comma-separated; nothing else of the context is exported)")
}

func (s *Security) validate(auth string, secretFile string) []error {
	var errs problems
	if (s.TLSCert == "") != (s.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	} else if s.TLSCert != "" {
		// What serve loads at start, checked before anything starts.
		if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
			errs = append(errs, fmt.Errorf("--tls-cert %q, --tls-key %q: not a PEM certificate chain and its key: %w", s.TLSCert, s.TLSKey, err))
		}
	}
	if s.AssistantsFile != "" {
		if f, err := os.Open(s.AssistantsFile); err != nil {
			errs = append(errs, fmt.Errorf("--assistants-file: %w", err))
		} else {
			f.Close()
		}
	}
	errs.check(s.MaxTokenAge < 0, "--max-token-age %v must not be negative", s.MaxTokenAge)
	h := s.HTTP
	errs.check(h.MaxHeaderBytes < 4096, "--max-header-bytes %d is below 4096", h.MaxHeaderBytes)
	errs.check(h.ReadHeaderTimeout <= 0 || h.ReadTimeout <= 0 || h.WriteTimeout <= 0 || h.IdleTimeout <= 0, "--read-header-timeout, --read-timeout, --write-timeout and --idle-timeout must be positive")
	errs.check(h.MaxConcurrent < 0, "--max-concurrent-requests %d must not be negative", h.MaxConcurrent)
	errs.check(auth == AuthHeader && (s.AuthHeader == "" || strings.ContainsAny(s.AuthHeader, " :\r\n")), "--auth-header %q is not a header name", s.AuthHeader)
	errs.check(s.AssistantsFile != "" && secretFile != "", "--assistants-file and --secret-file exclude each other: list the secrets in the assistants file")
	return errs
}

// ValidatePrivacy checks the settings AddPrivacyFlags declares.
func (s *Privacy) ValidatePrivacy() []error {
	var errs problems
	for _, name := range s.RedactDisable {
		errs.check(!slices.Contains(redact.Builtins(), name), "--redact-disable %q: no such detector (%s)", name, strings.Join(redact.Builtins(), ", "))
	}
	for _, p := range s.RedactPatterns {
		if _, _, err := redact.ParsePattern(p); err != nil {
			errs = append(errs, fmt.Errorf("--redact-pattern: %w", err))
		}
	}
	if _, err := redact.NewContextAllowList(s.ContextAllow...); err != nil {
		errs = append(errs, fmt.Errorf("--context-allow: %w", err))
	}
	return errs
}

// Redactor builds the redactor the settings describe (nil when off and no
// pattern is given).
func (s *Privacy) Redactor() (*redact.Redactor, error) {
	var opts []redact.Option
	if !s.Redact {
		opts = append(opts, redact.WithBuiltins())
	} else if len(s.RedactDisable) > 0 {
		opts = append(opts, redact.WithoutBuiltin(s.RedactDisable...))
	}
	for _, p := range s.RedactPatterns {
		name, re, err := redact.ParsePattern(p)
		if err != nil {
			return nil, err
		}
		opts = append(opts, redact.WithPattern(name, re))
	}
	if !s.Redact && len(s.RedactPatterns) == 0 {
		return nil, nil
	}
	return redact.New(opts...)
}
