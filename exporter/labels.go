package exporter

import (
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel/attribute"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// DefaultMetricLabelLimit is how many distinct values an intent or action
// metric label takes at most, per replica, unless configured.
const DefaultMetricLabelLimit = 200

// OtherLabel replaces an intent or action label value over the bound.
const OtherLabel = "other"

// labelBound bounds the values of the intent and action metric labels, so
// that a workspace with many intents (or names that change) cannot grow the
// metric series without end. Intents: the configured allow-list when there
// is one (every replica labels alike), else the first values seen up to the
// limit. Actions: the first values seen up to the limit; an action's title
// follows its id. Values over the bound become "other". Spans and log
// records keep the real names.
type labelBound struct {
	allowIntents map[string]bool // nil: first seen
	limit        int
	log          *slog.Logger

	mu   sync.Mutex
	seen map[attribute.Key]map[string]struct{}
	warn map[attribute.Key]bool
}

func newLabelBound(allowIntents []string, limit int, log *slog.Logger) *labelBound {
	if limit <= 0 {
		limit = DefaultMetricLabelLimit
	}
	b := &labelBound{limit: limit, log: log, seen: map[attribute.Key]map[string]struct{}{}, warn: map[attribute.Key]bool{}}
	if len(allowIntents) > 0 {
		b.allowIntents = make(map[string]bool, len(allowIntents))
		for _, n := range allowIntents {
			b.allowIntents[n] = true
		}
	}
	return b
}

// apply returns attrs with the bounded labels' values over the bound
// replaced by "other"; attrs itself when nothing changes.
func (b *labelBound) apply(attrs []attribute.KeyValue) []attribute.KeyValue {
	var out []attribute.KeyValue
	actionOther := false
	for i, kv := range attrs {
		var keep bool
		switch kv.Key {
		case mapping.AttrIntent:
			keep = b.keepIntent(kv.Value.AsString())
		case mapping.AttrAction:
			keep = b.keepFirstSeen(kv.Key, kv.Value.AsString())
			actionOther = !keep
		default:
			continue
		}
		if keep {
			continue
		}
		if out == nil {
			out = append([]attribute.KeyValue(nil), attrs...)
		}
		out[i] = kv.Key.String(OtherLabel)
	}
	if actionOther {
		for i, kv := range out {
			if kv.Key == mapping.AttrActionTitle {
				out[i] = kv.Key.String(OtherLabel)
			}
		}
	}
	if out == nil {
		return attrs
	}
	return out
}

func (b *labelBound) keepIntent(v string) bool {
	if v == "none" { // mapping's value for a turn without an intent
		return true
	}
	if b.allowIntents != nil {
		return b.allowIntents[v]
	}
	return b.keepFirstSeen(mapping.AttrIntent, v)
}

func (b *labelBound) keepFirstSeen(k attribute.Key, v string) bool {
	if v == OtherLabel {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := b.seen[k]
	if seen == nil {
		seen = make(map[string]struct{})
		b.seen[k] = seen
	}
	if _, ok := seen[v]; ok {
		return true
	}
	if len(seen) < b.limit {
		seen[v] = struct{}{}
		return true
	}
	if !b.warn[k] {
		b.warn[k] = true
		b.log.Warn("metric label over its limit: further values are labelled other (spans and log records keep them)",
			"label", string(k), "limit", b.limit)
	}
	return false
}
