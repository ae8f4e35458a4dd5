package exporter

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// ConversationsHandoffMetric counts conversations with a hand-off to a human
// agent, once per conversation: the containment KPI's numerator.
const ConversationsHandoffMetric = "watson_assistant.conversations.handoff"

// HandoffMemory is how many conversations with a hand-off a process
// remembers: a conversation handing off again after this many other
// conversations did, or after a restart, or on another replica, counts
// again.
const HandoffMemory = 100_000

// handoffs remembers the conversations (trace ids: one per session) that
// handed off recently, up to max, the oldest forgotten first.
type handoffs struct {
	counter metric.Float64Counter

	mu   sync.Mutex
	max  int
	seen map[trace.TraceID]struct{}
	ring []trace.TraceID // insertion order; next is the oldest once full
	next int
}

func newHandoffs(meter metric.Meter, max int) (*handoffs, error) {
	c, err := meter.Float64Counter(ConversationsHandoffMetric, metric.WithUnit("{conversation}"),
		metric.WithDescription("Conversations handed to a human agent, counted at their first hand-off (per process, remembering the last 100000)."))
	if err != nil {
		return nil, err
	}
	return &handoffs{counter: c, max: max, seen: make(map[trace.TraceID]struct{}, min(max, 1024))}, nil
}

// first reports whether the conversation id has not handed off before (as
// far as remembered), and remembers it.
func (h *handoffs) first(id trace.TraceID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.seen[id]; ok {
		return false
	}
	if len(h.ring) < h.max {
		h.ring = append(h.ring, id)
	} else {
		delete(h.seen, h.ring[h.next])
		h.ring[h.next] = id
		h.next = (h.next + 1) % h.max
	}
	h.seen[id] = struct{}{}
	return true
}

// record counts m's conversation when m is a hand-off and its conversation's
// first.
func (h *handoffs) record(ctx context.Context, m *mapping.Measurement, opt metric.AddOption) {
	if m.Instrument != mapping.Handoffs || m.Value <= 0 || !m.TraceID.IsValid() || !h.first(m.TraceID) {
		return
	}
	h.counter.Add(ctx, 1, opt)
}
