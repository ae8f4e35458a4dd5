package config

import (
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/redact"
)

// Mapping holds the settings that shape the telemetry of a turn. serve,
// backfill, replay and dead-letters retry declare, default and validate them
// here, once, so that imported turns look like live ones (in particular the
// same enduser.pseudo.id).
type Mapping struct {
	AssistantName          string
	LowConfidenceThreshold float64
	AmbiguityMargin        float64
	CaptureContent         bool
	MaxTextLength          int
	// PseudonymKeyFile is --pseudonym-key-file; Validate reads it (or
	// ASSISTANT_OTEL_PSEUDONYM_KEY) into PseudonymKey.
	PseudonymKeyFile string
	PseudonymKey     Key
	// PseudonymKeyDerived is true when PseudonymKey comes from the webhook
	// secret (see DeriveKey): rotating that secret changes every hash.
	PseudonymKeyDerived bool
	// Privacy holds the redaction and context allow-list settings.
	Privacy Privacy
	// MetricIntents and MetricLabelLimit bound the intent and action labels
	// of the metrics (the exporter applies them; spans and log records keep
	// every name): the intents listed, else the first MetricLabelLimit
	// values seen by this process; the others are labelled "other".
	MetricIntents    []string
	MetricLabelLimit int
	// ConsoleFormat is how telemetry shows on the console (no OTLP
	// endpoint): transcript or detail.
	ConsoleFormat string
	// TurnSpanName names turn spans: "convention" (invoke_agent {agent}) or
	// "descriptive" (turn {n}: {action title or intent}); see mapping.Options.
	TurnSpanName string
}

// DefaultMetricLabelLimit is --metric-label-limit (exporter.DefaultMetricLabelLimit).
const DefaultMetricLabelLimit = 200

// Key is a secret key. It prints as [redacted] with every fmt verb, so a
// configuration can be logged without leaking it.
type Key []byte

// Format hides the key.
func (Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// Register declares the mapping flags on fs with their defaults.
func (m *Mapping) Register(fs *flag.FlagSet) {
	d := mapping.DefaultOptions()
	fs.StringVar(&m.AssistantName, "assistant-name", "", "name of the assistant in telemetry (gen_ai.agent.name); default: the assistant id")
	fs.Float64Var(&m.LowConfidenceThreshold, "low-confidence-threshold", d.LowConfidenceThreshold, "a top intent confidence below this marks a low-confidence turn")
	fs.Float64Var(&m.AmbiguityMargin, "ambiguity-margin", d.AmbiguityMargin, "top two intents closer than this mark an ambiguous turn (0 turns it off)")
	fs.BoolVar(&m.CaptureContent, "capture-content", d.CaptureContent, "export what users said and what the assistant answered; false removes every text")
	fs.IntVar(&m.MaxTextLength, "max-text-length", d.MaxTextLength, "longest exported text, in characters; longer ones are truncated")
	fs.StringVar(&m.PseudonymKeyFile, "pseudonym-key-file", "", "file holding the key that hashes user ids into enduser.pseudo.id (or set "+EnvPseudonymKey+"); default: derived from the webhook secret")
	AddPrivacyFlags(fs, &m.Privacy)
	fs.Var(listFlag{&m.MetricIntents, ","}, "metric-intents", "intents that label metrics, comma-separated (the same on every replica); others are labelled other. Default: the first --metric-label-limit intents seen")
	fs.StringVar(&m.ConsoleFormat, "console-format", "transcript", "how telemetry shows on the console when no OTLP endpoint is set: transcript (turns per conversation: who said what, intent, outcome, flags) or detail (every span, log record and metric)")
	fs.StringVar(&m.TurnSpanName, "turn-span-name", "convention", "name of each turn's span: convention (invoke_agent {agent}) or descriptive (turn {n}: {action title or intent}, at most 64 characters)")
	fs.IntVar(&m.MetricLabelLimit, "metric-label-limit", DefaultMetricLabelLimit, "distinct intent (without --metric-intents) and action values per metric label, per process; later ones are labelled other")
}

// Validate checks the parsed flags, applies
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false and reads the
// pseudonym key (--pseudonym-key-file, else ASSISTANT_OTEL_PSEUDONYM_KEY).
// The errors are for errors.Join, which drops nil entries.
func (m *Mapping) Validate(getenv Getenv) []error {
	errs := problems(m.Privacy.ValidatePrivacy())
	// Written so that NaN fails too.
	errs.check(!(m.LowConfidenceThreshold >= 0 && m.LowConfidenceThreshold <= 1), "--low-confidence-threshold %v must be between 0 and 1", m.LowConfidenceThreshold)
	errs.check(!(m.AmbiguityMargin >= 0 && m.AmbiguityMargin <= 1), "--ambiguity-margin %v must be between 0 and 1", m.AmbiguityMargin)
	errs.check(m.MaxTextLength < 16, "--max-text-length %d is below 16", m.MaxTextLength)
	errs.check(m.ConsoleFormat != "transcript" && m.ConsoleFormat != "detail", "--console-format %q must be transcript or detail", m.ConsoleFormat)
	errs.check(m.TurnSpanName != "convention" && m.TurnSpanName != "descriptive", "--turn-span-name %q must be convention or descriptive", m.TurnSpanName)
	errs.check(m.MetricLabelLimit < 1, "--metric-label-limit %d must be at least 1", m.MetricLabelLimit)
	if v := getenv(EnvGenAICaptureContent); v != "" {
		if on, err := strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not true or false", EnvGenAICaptureContent, v))
		} else if !on {
			m.CaptureContent = false
		}
	}
	key, err := ReadSecret(m.PseudonymKeyFile, getenv(EnvPseudonymKey), "pseudonym key")
	m.PseudonymKey = key
	return append(errs, err)
}

// DeriveKey derives PseudonymKey from the webhook secret when no key was
// configured.
func (m *Mapping) DeriveKey(secret []byte) {
	if len(m.PseudonymKey) == 0 && len(secret) > 0 {
		m.PseudonymKey = DerivePseudonymKey(secret)
		m.PseudonymKeyDerived = true
	}
}

// Options returns the mapping options the settings describe.
func (m Mapping) Options() (mapping.Options, error) {
	o := mapping.DefaultOptions()
	o.AssistantName = m.AssistantName
	o.LowConfidenceThreshold = m.LowConfidenceThreshold
	o.AmbiguityMargin = m.AmbiguityMargin
	o.CaptureContent = m.CaptureContent
	o.MaxTextLength = m.MaxTextLength
	o.TurnSpanName = m.TurnSpanName
	if len(m.PseudonymKey) > 0 {
		o.PseudonymKey = []byte(m.PseudonymKey)
	}
	var err, aerr error
	if o.Redactor, err = m.Privacy.Redactor(); err != nil {
		err = fmt.Errorf("setting up redaction: %w", err)
	}
	if o.ContextAllow, aerr = redact.NewContextAllowList(m.Privacy.ContextAllow...); aerr != nil {
		aerr = fmt.Errorf("setting up the context allow-list: %w", aerr)
	}
	return o, errors.Join(err, aerr)
}
