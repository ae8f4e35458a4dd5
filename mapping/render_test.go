package mapping

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// render prints telemetry as stable, readable text for golden files.
func render(t Telemetry) string {
	var b strings.Builder
	for _, s := range t.Spans {
		fmt.Fprintf(&b, "span %q kind=%s\n", s.Name, s.Kind)
		fmt.Fprintf(&b, "  trace_id: %s\n  span_id:  %s\n", s.TraceID, s.SpanID)
		if s.ParentID.IsValid() {
			fmt.Fprintf(&b, "  parent:   %s\n", s.ParentID)
		}
		fmt.Fprintf(&b, "  start:    %s\n  end:      %s (%s)\n", ts(s.Start), ts(s.End), s.End.Sub(s.Start))
		fmt.Fprintf(&b, "  status:   %s %q\n", s.Status, s.StatusDescription)
		renderAttrs(&b, "  ", s.Attributes)
		for _, e := range s.Events {
			fmt.Fprintf(&b, "  event %q at +%s\n", e.Name, e.Time.Sub(s.Start))
			renderAttrs(&b, "    ", e.Attributes)
		}
		for _, l := range s.Links {
			fmt.Fprintf(&b, "  link %s/%s\n", l.TraceID, l.SpanID)
			renderAttrs(&b, "    ", l.Attributes)
		}
	}
	for _, r := range t.Logs {
		fmt.Fprintf(&b, "log %q %s (%d) at %s\n", r.EventName, r.SeverityText, r.Severity, ts(r.Time))
		fmt.Fprintf(&b, "  trace_id: %s\n  span_id:  %s\n", idOrDash(r.TraceID), spanOrDash(r.SpanID))
		fmt.Fprintf(&b, "  body:     %q\n", r.Body)
		renderAttrs(&b, "  ", r.Attributes)
	}
	for _, m := range t.Metrics {
		spec := m.Instrument.Spec()
		op := "+="
		if spec.Kind == Histogram {
			op = "<-"
		}
		fmt.Fprintf(&b, "metric %s %s %v %s {%s}\n", spec.Name, op, m.Value, spec.Unit, inline(m.Attributes))
	}
	return b.String()
}

func renderAttrs(b *strings.Builder, indent string, attrs []attribute.KeyValue) {
	sorted := append([]attribute.KeyValue(nil), attrs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	for _, kv := range sorted {
		fmt.Fprintf(b, "%s%s = %s\n", indent, kv.Key, value(kv.Value))
	}
}

func inline(attrs []attribute.KeyValue) string {
	parts := make([]string, len(attrs))
	for i, kv := range attrs {
		parts[i] = fmt.Sprintf("%s=%s", kv.Key, value(kv.Value))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func value(v attribute.Value) string {
	switch v.Type() {
	case attribute.STRING:
		return fmt.Sprintf("%q", v.AsString())
	case attribute.STRINGSLICE:
		return fmt.Sprintf("%q", v.AsStringSlice())
	default:
		return v.String()
	}
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func idOrDash(id trace.TraceID) string {
	if !id.IsValid() {
		return "-"
	}
	return id.String()
}

func spanOrDash(id trace.SpanID) string {
	if !id.IsValid() {
		return "-"
	}
	return id.String()
}
