package backfill

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/watsonapi"
)

// Environment variables read directly (not through a flag).
const (
	EnvAPIKey      = "ASSISTANT_OTEL_API_KEY"
	EnvBearerToken = "ASSISTANT_OTEL_BEARER_TOKEN"
)

// Progress modes.
const (
	ProgressAuto  = "auto"  // a bar on a terminal, plain lines otherwise
	ProgressBar   = "bar"   // always the bar
	ProgressPlain = "plain" // always plain lines
	ProgressNone  = "none"  // nothing
)

// Secret is a credential. It prints as [redacted] with every fmt verb, so a
// Config can be logged or wrapped in an error without leaking it.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[redacted]" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return `"[redacted]"` }

// MarshalText hides the secret from encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Config holds the settings of `assistant-otel backfill`.
type Config struct {
	// ServiceURL is the instance URL (--url).
	ServiceURL string
	// AssistantID (--assistant-id) or EnvironmentID (--environment-id) is
	// the path id of the logs API; exactly one is set.
	AssistantID   string
	EnvironmentID string
	// APIKey (exchanged at IAMURL) or BearerToken authenticates; exactly
	// one is set.
	APIKey      Secret
	BearerToken Secret
	IAMURL      string
	// Version is the API version date.
	Version string
	// From and To bound request_timestamp (From inclusive, To exclusive);
	// zero means open.
	From, To time.Time
	// Filter is a raw filter ANDed with the window.
	Filter string
	// Checkpoint is the resume file; empty means no resume. The command
	// sets it to DefaultStatePath unless NoState.
	Checkpoint string
	// NoState (--no-state) keeps the command from using a default state
	// file when --checkpoint is not given.
	NoState bool
	// FromSpec and ToSpec are --from and --to as given when they are
	// relative to now (an age or "now"); empty otherwise. A checkpoint
	// stores them instead of the moving bound (see Identity).
	FromSpec, ToSpec string
	// DedupeFile is the file-backed Deduper used when the caller gives none.
	DedupeFile string
	// DryRun counts without consuming, marking or checkpointing.
	DryRun bool
	// PageLimit is the page size asked for.
	PageLimit int
	// Metrics records metrics of imported turns (labelled
	// watson_assistant.source); off by default (see Imported).
	Metrics bool
	// Progress is auto, bar, plain or none.
	Progress string
	// MaxRetries bounds the retries of one page (0: none).
	MaxRetries int
	// RequestTimeout bounds one HTTP request (0: 2 minutes).
	RequestTimeout time.Duration
	// Mapping holds the mapping settings, the same flags as serve's.
	Mapping Mapping
}

// Mapping holds the settings that shape the telemetry: config.Mapping, the
// same flags and variables as `assistant-otel serve`, so that imported turns
// look like live ones (in particular the same enduser.pseudo.id), and how
// the turns are sent.
type Mapping struct {
	config.Mapping
	// Via, when set, is the webhook URL of a running `assistant-otel serve`:
	// each event is signed with WebhookSecret and posted there instead of
	// being exported directly, so the service's dedupe drops turns it
	// already exported live and its spool keeps them durable.
	Via           string
	WebhookSecret Secret
	// MaxRequestBytes bounds one OTLP export request, as serve's
	// --max-request-bytes.
	MaxRequestBytes int
}

// Options returns the mapping options (validated when the flags were
// parsed).
func (m Mapping) Options() mapping.Options {
	o, _ := m.Mapping.Options()
	return o
}

// mappingFlags declares the mapping flags on fs; the returned function
// finishes them after parsing.
func mappingFlags(fs *flag.FlagSet, m *Mapping) func(getenv func(string) string) error {
	var secretFile string
	m.Mapping.Register(fs)
	fs.StringVar(&secretFile, "secret-file", "", "file holding the webhook secret, to derive the hashing key as serve does and to sign --via posts (or set "+config.EnvSecret+")")
	fs.IntVar(&m.MaxRequestBytes, "max-request-bytes", config.DefaultMaxRequestBytes, "largest OTLP export request in bytes, as for serve")
	fs.StringVar(&m.Via, "via", "", "webhook URL of a running assistant-otel serve: post each event there (signed with the webhook secret) so its dedupe skips turns already exported live")
	return func(getenv func(string) string) error {
		errs := m.Mapping.Validate(getenv)
		if m.MaxRequestBytes < config.MinMaxRequestBytes {
			errs = append(errs, fmt.Errorf("--max-request-bytes %d is below %d", m.MaxRequestBytes, config.MinMaxRequestBytes))
		}
		// serve takes a comma-separated list for rotation; its first secret
		// derives the key and signs, here as there.
		first, _, _ := strings.Cut(secretFile, ",")
		secret, serr := config.ReadSecret(strings.TrimSpace(first), getenv(config.EnvSecret), "webhook secret")
		errs = append(errs, serr)
		if serr == nil {
			m.DeriveKey(secret)
		}
		m.WebhookSecret = Secret(secret)
		if m.Via != "" {
			errs = append(errs, config.CheckURL("via", m.Via))
			if len(secret) == 0 && serr == nil {
				errs = append(errs, fmt.Errorf("--via needs the webhook secret: set %s or --secret-file", config.EnvSecret))
			}
		}
		return errors.Join(errs...)
	}
}

// PathID is the id in the logs path: the environment id when set, else the
// assistant id.
func (c Config) PathID() string {
	if c.EnvironmentID != "" {
		return c.EnvironmentID
	}
	return c.AssistantID
}

// BaseFilter is the filter of the whole run: the window and the raw filter.
func (c Config) BaseFilter() string { return watsonapi.BuildFilter(c.From, c.To, c.Filter) }

// ReplayConfig holds the settings of `assistant-otel replay`.
type ReplayConfig struct {
	// Files are read in order; "-" is standard input.
	Files      []string
	DedupeFile string
	DryRun     bool
	Metrics    bool
	Progress   string
	Mapping    Mapping
}

// ParseFlags parses the backfill command's flags and environment: every flag
// --x-y can also be set as ASSISTANT_OTEL_X_Y (the command line wins), and
// the credentials come from ASSISTANT_OTEL_API_KEY or
// ASSISTANT_OTEL_BEARER_TOKEN when no file is given. Errors never contain a
// credential. help receives -h output (see config.Parse).
func ParseFlags(args []string, getenv func(string) string, help io.Writer) (Config, error) {
	return parseFlags(args, getenv, help, time.Now())
}

func parseFlags(args []string, getenv func(string) string, help io.Writer, now time.Time) (Config, error) {
	fs := flag.NewFlagSet("assistant-otel backfill", flag.ContinueOnError)
	const about = `Usage: assistant-otel backfill --url SERVICE_URL --assistant-id ID [--from T] [--to T] [flags]
Imports conversation logs from the Watson Assistant logs API and exports them like webhook events.
Credentials: --api-key-file or ` + EnvAPIKey + ` (IBM Cloud API key), or --bearer-token-file or ` + EnvBearerToken + `.
Times: RFC 3339 (2026-03-01T09:00:00Z), a date (2026-03-01, UTC), or an age (36h, 7d).`
	var c Config
	var apiKeyFile, tokenFile, from, to string
	fs.StringVar(&c.ServiceURL, "url", "", "service URL of the instance, e.g. https://api.us-south.assistant.watson.cloud.ibm.com/instances/ID")
	fs.StringVar(&c.AssistantID, "assistant-id", "", "assistant id (classic experience)")
	fs.StringVar(&c.EnvironmentID, "environment-id", "", "environment id (watsonx Assistant: logs are listed per environment); instead of --assistant-id")
	fs.StringVar(&apiKeyFile, "api-key-file", "", "file holding the IBM Cloud API key (or set "+EnvAPIKey+")")
	fs.StringVar(&tokenFile, "bearer-token-file", "", "file holding a bearer token, instead of an API key (or set "+EnvBearerToken+")")
	fs.StringVar(&c.IAMURL, "iam-url", watsonapi.DefaultIAMURL, "IAM token endpoint the API key is exchanged at")
	fs.StringVar(&c.Version, "version", watsonapi.DefaultVersion, "API version date (YYYY-MM-DD) sent as the version parameter")
	fs.StringVar(&from, "from", "", "first request_timestamp to import (inclusive); default: the oldest log kept")
	fs.StringVar(&to, "to", "", "request_timestamp to stop at (exclusive); default: none (up to the newest log)")
	fs.StringVar(&c.Filter, "filter", "", "extra filter in the logs API's syntax, ANDed with --from/--to, e.g. customer_id::abc")
	fs.StringVar(&c.Checkpoint, "checkpoint", "", "state file recording progress; rerun with the same file to resume (default: one per assistant or environment and window in $XDG_STATE_HOME/assistant-otel/backfill)")
	fs.BoolVar(&c.NoState, "no-state", false, "keep no state file: a rerun exports everything again (unless --checkpoint or --dedupe-file)")
	fs.StringVar(&c.DedupeFile, "dedupe-file", "", "file of log_ids already exported, for runs without the service's dedupe store")
	fs.BoolVar(&c.DryRun, "dry-run", false, "list and count the logs without exporting anything")
	fs.IntVar(&c.PageLimit, "page-limit", 100, "logs per page; lower it if the API times out")
	fs.BoolVar(&c.Metrics, "metrics", false, "also record metrics for imported turns, labelled watson_assistant.source=backfill")
	fs.StringVar(&c.Progress, "progress", ProgressAuto, "progress display: auto (a bar on a terminal, lines otherwise), bar, plain or none")
	fs.IntVar(&c.MaxRetries, "max-retries", watsonapi.DefaultMaxRetries, "retries of one page after 429, 5xx or network errors")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", 2*time.Minute, "timeout of one API request")
	finishMapping := mappingFlags(fs, &c.Mapping)

	if err := config.Parse(fs, about, args, getenv, help); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (see assistant-otel backfill --help)", fs.Arg(0))
	}
	var errs []error
	if c.ServiceURL == "" {
		errs = append(errs, errors.New("--url is required: the service URL of the instance (shown with its credentials)"))
	} else {
		errs = append(errs, config.CheckURL("url", c.ServiceURL))
	}
	switch {
	case c.AssistantID == "" && c.EnvironmentID == "":
		errs = append(errs, errors.New("--assistant-id (classic) or --environment-id (watsonx Assistant) is required"))
	case c.AssistantID != "" && c.EnvironmentID != "":
		errs = append(errs, errors.New("give --assistant-id or --environment-id, not both: the logs API takes one of them"))
	}
	if c.Version == "" {
		c.Version = watsonapi.DefaultVersion
	} else if _, err := time.Parse("2006-01-02", c.Version); err != nil {
		errs = append(errs, fmt.Errorf("--version %q must be a date, YYYY-MM-DD", c.Version))
	}
	var err error
	if c.From, err = ParseTime(from, now); err != nil {
		errs = append(errs, fmt.Errorf("--from: %w", err))
	}
	if c.To, err = ParseTime(to, now); err != nil {
		errs = append(errs, fmt.Errorf("--to: %w", err))
	}
	c.FromSpec, c.ToSpec = relativeSpec(from), relativeSpec(to)
	if c.NoState && c.Checkpoint != "" {
		errs = append(errs, errors.New("--no-state and --checkpoint contradict each other: give one"))
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
		errs = append(errs, fmt.Errorf("--from %s is not before --to %s", c.From.Format(time.RFC3339), c.To.Format(time.RFC3339)))
	}
	if c.PageLimit < 1 {
		errs = append(errs, fmt.Errorf("--page-limit %d must be at least 1", c.PageLimit))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("--max-retries %d is negative", c.MaxRetries))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, errors.New("--request-timeout must be positive"))
	}
	if err := checkProgress(c.Progress); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, finishMapping(getenv))
	key, kerr := config.ReadSecret(apiKeyFile, getenv(EnvAPIKey), "API key")
	tok, terr := config.ReadSecret(tokenFile, getenv(EnvBearerToken), "bearer token")
	errs = append(errs, kerr, terr)
	c.APIKey, c.BearerToken = Secret(strings.TrimSpace(string(key))), Secret(strings.TrimSpace(string(tok)))
	if kerr == nil && terr == nil {
		switch {
		case c.APIKey == "" && c.BearerToken == "":
			errs = append(errs, fmt.Errorf("no credentials: set %s or --api-key-file (an IBM Cloud API key with Manager access), or %s or --bearer-token-file", EnvAPIKey, EnvBearerToken))
		case c.APIKey != "" && c.BearerToken != "":
			errs = append(errs, errors.New("both an API key and a bearer token are set: give one"))
		}
	}
	if c.APIKey != "" {
		errs = append(errs, config.CheckURL("iam-url", c.IAMURL))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseReplayFlags parses the replay command's flags and environment (same
// ASSISTANT_OTEL_* mirroring as ParseFlags).
func ParseReplayFlags(args []string, getenv func(string) string, help io.Writer) (ReplayConfig, error) {
	fs := flag.NewFlagSet("assistant-otel replay", flag.ContinueOnError)
	const about = `Usage: assistant-otel replay [flags] FILE...
Exports saved webhook bodies or log entries like webhook events. A file is a JSON array, one
object, JSON lines, or a saved logs API page, optionally gzip-compressed; "-" reads standard input.`
	var c ReplayConfig
	fs.StringVar(&c.DedupeFile, "dedupe-file", "", "file of log_ids already exported, for runs without the service's dedupe store")
	fs.BoolVar(&c.DryRun, "dry-run", false, "read and count the entries without exporting anything")
	fs.BoolVar(&c.Metrics, "metrics", false, "also record metrics for replayed turns, labelled watson_assistant.source=replay")
	fs.StringVar(&c.Progress, "progress", ProgressAuto, "progress display: auto, bar, plain or none")
	finishMapping := mappingFlags(fs, &c.Mapping)
	if err := config.Parse(fs, about, args, getenv, help); err != nil {
		return ReplayConfig{}, err
	}
	errs := []error{finishMapping(getenv)}
	c.Files = fs.Args()
	if len(c.Files) == 0 {
		errs = append(errs, errors.New("at least one file is required"))
	}
	if err := checkProgress(c.Progress); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return ReplayConfig{}, err
	}
	return c, nil
}

// DeadLetterConfig holds the settings of `assistant-otel dead-letters`.
type DeadLetterConfig struct {
	// Action is list or retry.
	Action string
	// SpoolDir is serve's --spool-dir: the store is in its dead-letters
	// directory.
	SpoolDir string
	// Metrics, Progress and Mapping are as for replay (retry only).
	Metrics  bool
	Progress string
	Mapping  Mapping
}

// Dead-letter actions.
const (
	DeadLettersList  = "list"
	DeadLettersRetry = "retry"
)

// ParseDeadLetterFlags parses `dead-letters list|retry` and its flags (same
// ASSISTANT_OTEL_* mirroring as ParseFlags, so ASSISTANT_OTEL_SPOOL_DIR
// names serve's spool here too).
func ParseDeadLetterFlags(args []string, getenv func(string) string, help io.Writer) (DeadLetterConfig, error) {
	var c DeadLetterConfig
	fs := flag.NewFlagSet("assistant-otel dead-letters", flag.ContinueOnError)
	const about = `Usage: assistant-otel dead-letters list|retry --spool-dir DIR [flags]
Events the OTLP endpoint refused for what they hold are kept in DIR/dead-letters.
list shows them (log_id, when, why, size); retry exports them again, with the same mapping
flags and OTEL_* variables as serve, and removes each once the endpoint accepted it.
Both work while serve runs.`
	fs.StringVar(&c.SpoolDir, "spool-dir", "", "serve's spool directory (required)")
	fs.BoolVar(&c.Metrics, "metrics", false, "also record metrics of retried turns, labelled watson_assistant.source=dead_letters")
	fs.StringVar(&c.Progress, "progress", ProgressAuto, "progress display: auto, bar, plain or none")
	finishMapping := mappingFlags(fs, &c.Mapping)
	if len(args) > 0 && (args[0] == DeadLettersList || args[0] == DeadLettersRetry) {
		c.Action, args = args[0], args[1:]
	}
	if err := config.Parse(fs, about, args, getenv, help); err != nil {
		return DeadLetterConfig{}, err
	}
	if c.Action == "" {
		return DeadLetterConfig{}, errors.New("give an action: list or retry (see assistant-otel dead-letters --help)")
	}
	errs := []error{finishMapping(getenv)}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q (see assistant-otel dead-letters --help)", fs.Arg(0)))
	}
	if c.SpoolDir == "" {
		errs = append(errs, errors.New("--spool-dir is required: the dead letters are in its dead-letters directory"))
	}
	if err := checkProgress(c.Progress); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return DeadLetterConfig{}, err
	}
	return c, nil
}

func checkProgress(p string) error {
	switch p {
	case ProgressAuto, ProgressBar, ProgressPlain, ProgressNone:
		return nil
	}
	return fmt.Errorf("--progress %q must be auto, bar, plain or none", p)
}

// ParseTime reads a --from/--to value: RFC 3339 (fraction and offset
// optional; no offset means UTC), a date (midnight UTC), "now", or an age
// such as 90m, 36h or 7d meaning that long before now. "" is the zero time.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if s == "now" {
		return now, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	age := strings.TrimPrefix(s, "-")
	if days, ok := strings.CutSuffix(age, "d"); ok {
		if n, err := strconv.ParseFloat(days, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * float64(24*time.Hour))), nil
		}
	} else if d, err := time.ParseDuration(age); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-03-01T09:00:00Z), a date (2026-03-01) or an age (36h, 7d)", s)
}
