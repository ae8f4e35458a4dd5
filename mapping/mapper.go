package mapping

import (
	"fmt"
	"sync"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// Mapper maps decoded webhook events to telemetry. It is safe for
// concurrent use.
type Mapper struct {
	opts Options
	macs sync.Pool // of hash.Hash: HMAC-SHA256 keyed with opts.PseudonymKey (pseudonym)
}

// New returns a Mapper, or an error if the options are invalid.
func New(opts Options) (*Mapper, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mapping options: %w", err)
	}
	return &Mapper{opts: opts}, nil
}

// Map turns one event into telemetry. received is when the event arrived; it
// stands in for timestamps the event lacks. Map never fails: whatever the
// payload holds or lacks, it yields the telemetry it can.
func (m *Mapper) Map(ev watson.Event, received time.Time) Telemetry {
	switch {
	case ev.Log != nil:
		return m.mapTurn(ev.Log, received)
	case ev.CDR != nil:
		return m.mapCall(ev.CDR, received)
	default:
		return Telemetry{}
	}
}

func (m *Mapper) agentName(assistantID string) string {
	if m.opts.AssistantNames != nil && assistantID != "" {
		if name, ok := m.opts.AssistantNames(assistantID); ok && name != "" {
			return name
		}
	}
	if m.opts.AssistantName != "" {
		return m.opts.AssistantName
	}
	if assistantID != "" {
		return assistantID
	}
	return "unknown"
}

// content prepares a text of the conversation for export: personal data
// redacted first (a cut could hide it from the detectors), then truncated.
// Callers check CaptureContent.
func (m *Mapper) content(s string) string {
	return truncate(m.opts.Redactor.Redact(s), m.opts.MaxTextLength)
}
