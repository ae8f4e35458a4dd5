package mapping

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/assistant-otel/assistant-otel/redact"
)

// Options configure the mapping. The zero value is not useful: start from
// DefaultOptions.
type Options struct {
	// AssistantName is the gen_ai.agent.name of every turn. When empty, the
	// assistant id is used.
	AssistantName string
	// LowConfidenceThreshold marks a turn whose top intent confidence is
	// below it as low confidence.
	LowConfidenceThreshold float64
	// AmbiguityMargin marks a turn as ambiguous when the confidences of its
	// top two intents differ by less than it. 0 never marks a turn.
	AmbiguityMargin float64
	// CaptureContent exports what the user said, what the assistant answered,
	// entity values and Watson's log message texts. Off removes every text.
	CaptureContent bool
	// MaxTextLength truncates every exported text to this many characters.
	MaxTextLength int
	// Redactor removes personal data (e-mail addresses, phone and card
	// numbers, ...) from every exported text before it is truncated. Nil
	// exports texts as they are.
	Redactor *redact.Redactor
	// ContextAllow lists the context variables exported (as
	// watson_assistant.context.<path>, when content is captured). Nil or
	// empty exports none.
	ContextAllow *redact.ContextAllowList
	// AssistantNames names assistants by id; it wins over AssistantName.
	AssistantNames func(assistantID string) (string, bool)
	// PseudonymKey keys the hash that turns user ids into enduser.pseudo.id.
	// Without a key no user identifier is exported at all.
	PseudonymKey []byte
	// Now is the clock that places the window of plausible timestamps; nil
	// is time.Now. Tests pin it.
	Now func() time.Time
	// MaxEventAge is how far before Now a payload timestamp may lie; an
	// older one (or one more than MaxClockSkew after Now) counts as absent
	// and is counted as timestamp_out_of_window. 0 is DefaultMaxEventAge,
	// serve's window; DefaultOptions, which backfill and replay use, sets
	// HistoryMaxEventAge.
	MaxEventAge time.Duration
	// TurnSpanName names each turn's root span: TurnSpanNameConvention ("",
	// the default: "invoke_agent {agent}") or TurnSpanNameDescriptive ("turn
	// {n}: {action title or intent or outcome}", at most
	// MaxDescriptiveSpanName characters), which tells turns apart in a trace
	// timeline without expanding them.
	TurnSpanName string
}

// Turn span naming (Options.TurnSpanName).
const (
	TurnSpanNameConvention  = "convention"
	TurnSpanNameDescriptive = "descriptive"
	// MaxDescriptiveSpanName bounds a descriptive turn span name, in characters.
	MaxDescriptiveSpanName = 64
)

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{
		LowConfidenceThreshold: 0.5,
		AmbiguityMargin:        0.1,
		CaptureContent:         true,
		MaxTextLength:          4096,
		MaxEventAge:            HistoryMaxEventAge,
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.LowConfidenceThreshold < 0 || o.LowConfidenceThreshold > 1 || math.IsNaN(o.LowConfidenceThreshold) {
		errs = append(errs, fmt.Errorf("low-confidence threshold %v is outside [0, 1]", o.LowConfidenceThreshold))
	}
	if o.AmbiguityMargin < 0 || o.AmbiguityMargin > 1 || math.IsNaN(o.AmbiguityMargin) {
		errs = append(errs, fmt.Errorf("ambiguity margin %v is outside [0, 1]", o.AmbiguityMargin))
	}
	switch o.TurnSpanName {
	case "", TurnSpanNameConvention, TurnSpanNameDescriptive:
	default:
		errs = append(errs, fmt.Errorf("turn span name %q is neither %q nor %q", o.TurnSpanName, TurnSpanNameConvention, TurnSpanNameDescriptive))
	}
	if o.MaxTextLength < 16 {
		errs = append(errs, fmt.Errorf("max text length %d is below 16", o.MaxTextLength))
	}
	return errors.Join(errs...)
}
