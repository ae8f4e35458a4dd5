package otlpwire

import (
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// Bounded items and size-limited requests.
//
// A span or log record is encoded on its own as an item (the repeated
// field as it sits in ScopeSpans or ScopeLogs), and requests are assembled
// from items under a size limit (TracesRequest, LogsRequest). AppendSpan
// and AppendLog bound every item: when one would be larger than its bound,
// it is encoded again, cut down step by step (texts shortened and ending in
// "…", arrays and maps, attributes, events and links fewer), until it fits;
// the last step keeps only the ids, times, kind, status code and the
// shortened name. A cut item carries the attribute assistant_otel.truncated
// = true and counts what it left out in its dropped counts. So no body,
// whatever it holds, makes an item larger than its bound.

// TruncatedKey is the attribute set on an item cut down to its size bound.
const TruncatedKey = "assistant_otel.truncated"

var truncatedMarker = attribute.Bool(TruncatedKey, true)

// cut is how much of an item is kept when it must be made smaller.
type cut struct {
	text   int // characters of a text (the last one becomes "…") and bytes of a byte slice
	list   int // elements of an array, entries of a map
	attrs  int // attributes of the item, of each event and of each link
	events int // events and links of a span (the latest)
}

// cuts are the steps tried in order; the last keeps (nearly) nothing.
var cuts = []cut{
	{text: 4096, list: 256, attrs: 128, events: 128},
	{text: 1024, list: 64, attrs: 128, events: 64},
	{text: 256, list: 16, attrs: 64, events: 16},
	{text: 64, list: 4, attrs: 32, events: 4},
	{text: 32, list: 0, attrs: 0, events: 0},
}

// minItemBound is the smallest bound AppendSpan and AppendLog can keep:
// the last cut of any span or record is smaller.
const minItemBound = 1024

// text cuts s (valid UTF-8) to the cut's length, ending in "…".
func (w *buf) text(s string) string {
	if w.cut == nil || len(s) <= w.cut.text {
		return s
	}
	t := truncate(s, w.cut.text-1)
	if len(t) == len(s) {
		return s
	}
	return t + "…"
}

// cutList keeps the first elements of a list the cut allows.
func cutList[T any](w *buf, vals []T) []T {
	if w.cut != nil && len(vals) > w.cut.list {
		return vals[:w.cut.list]
	}
	return vals
}

// attrLimit is the attribute limit under the cut: the smaller of the two
// (limit < 0: no limit). Nil keeps limit.
func (c *cut) attrLimit(limit int) int {
	if c == nil {
		return limit
	}
	if limit < 0 {
		return c.attrs
	}
	return min(limit, c.attrs)
}

// itemLimit is the event or link limit under the cut.
func (c *cut) itemLimit(limit int) int {
	if c == nil {
		return limit
	}
	if limit < 0 {
		return c.events
	}
	return min(limit, c.events)
}

// AppendSpan appends s to dst as one item of a traces request, with the
// SDK's limits, and at most bound bytes of it (bound <= 0: no bound; a
// bound below 1 KiB counts as 1 KiB). It reports whether s was cut down.
func (e *Encoder) AppendSpan(dst []byte, s *mapping.Span, m SpanMeta, bound int) ([]byte, bool) {
	return appendBounded(dst, bound, func(w *buf, c *cut) { w.span(s, m, e.spanLimits, c) })
}

// AppendLog appends r to dst as one item of a logs request, bounded as
// AppendSpan bounds a span.
func (e *Encoder) AppendLog(dst []byte, r *mapping.LogRecord, m LogMeta, bound int) ([]byte, bool) {
	return appendBounded(dst, bound, func(w *buf, c *cut) { w.logRecord(r, m, e.logLimits, c) })
}

func appendBounded(dst []byte, bound int, write func(*buf, *cut)) ([]byte, bool) {
	start := len(dst)
	w := buf{b: dst}
	write(&w, nil)
	if bound <= 0 || len(w.b)-start <= bound {
		return w.b, false
	}
	bound = max(bound, minItemBound)
	for i := range cuts {
		w.b = w.b[:start]
		write(&w, &cuts[i])
		if len(w.b)-start <= bound {
			break
		}
	}
	return w.b, true
}

// Overhead is the most a traces or logs request adds around its items: the
// resource, the scope and the lengths of the two messages around them.
func (e *Encoder) Overhead() int {
	r := e.start(nil, 1, 1)
	// Two nested lengths of up to 5 bytes each instead of the 1 reserved,
	// and the resource's schema URL.
	return len(r.w.b) + 2*4 + protowire.SizeTag(3) + protowire.SizeBytes(len(e.resourceSchema))
}

// TracesRequest appends to dst[:0] an ExportTraceServiceRequest holding
// the items (from AppendSpan), in order.
func (e *Encoder) TracesRequest(dst []byte, items ...[]byte) []byte {
	return e.assemble(dst, traceRequestResourceSpans, resourceSpansScopeSpans, items)
}

// LogsRequest appends to dst[:0] an ExportLogsServiceRequest holding the
// items (from AppendLog), in order.
func (e *Encoder) LogsRequest(dst []byte, items ...[]byte) []byte {
	return e.assemble(dst, logsRequestResourceLogs, resourceLogsScopeLogs, items)
}

func (e *Encoder) assemble(dst []byte, requestField, scopedField protowire.Number, items [][]byte) []byte {
	n := 0
	for _, it := range items {
		n += len(it)
	}
	if cap(dst) < n+e.Overhead() {
		dst = make([]byte, 0, n+e.Overhead())
	}
	r := e.start(dst, requestField, scopedField)
	for _, it := range items {
		r.w.b = append(r.w.b, it...)
	}
	r.items = len(items)
	return r.Finish()
}
