package exporter

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/assistant-otel/assistant-otel/mapping"
)

// Console formats (WithConsoleFormat).
const (
	// ConsoleTranscript shows conversations as transcripts: a header per
	// conversation, then one block per turn (who said what, the intent and
	// its confidence, the outcome, the flags that are true), and one line
	// per other event. Spans and metrics are not shown.
	ConsoleTranscript = "transcript"
	// ConsoleDetail shows every span, log record and metric data point,
	// one line each.
	ConsoleDetail = "detail"
)

// noSession prefixes the trace id that stands for the conversation of a
// turn without a session.
const noSession = "trace:"

// turnEvent is the event name of the log record of a turn.
const turnEvent = "watson_assistant.turn"

// writeTranscript writes records as transcript blocks, grouped by
// conversation in the order they first appear; lastConv is the
// conversation the console showed last (its header is not repeated).
func writeTranscript(b *bytes.Buffer, records []sdklog.Record, lastConv *string) {
	var order []string
	byConv := map[string][]*sdklog.Record{}
	for i := range records {
		conv := recordString(&records[i], mapping.AttrGenAIConversationID)
		if conv == "" && records[i].TraceID().IsValid() {
			conv = noSession + records[i].TraceID().String()
		}
		if _, ok := byConv[conv]; !ok {
			order = append(order, conv)
		}
		byConv[conv] = append(byConv[conv], &records[i])
	}
	for _, conv := range order {
		recs := byConv[conv]
		if conv != *lastConv {
			*lastConv = conv
			switch {
			case conv == "":
				b.WriteString("── no conversation")
			case strings.HasPrefix(conv, noSession):
				b.WriteString("── no session, trace ")
				b.WriteString(strings.TrimPrefix(conv, noSession))
			default:
				b.WriteString("── conversation ")
				b.WriteString(conv)
			}
			for _, k := range []attribute.Key{mapping.AttrGenAIAgentName, mapping.AttrChannel} {
				if v := recordString(recs[0], k); v != "" {
					b.WriteString(" · ")
					b.WriteString(v)
				}
			}
			b.WriteByte('\n')
		}
		for _, r := range recs {
			if r.EventName() == turnEvent {
				writeTurn(b, r)
			} else {
				writeOther(b, r)
			}
		}
	}
}

func writeTurn(b *bytes.Buffer, r *sdklog.Record) {
	attrs := recordAttrs(r)
	str := func(k attribute.Key) string {
		if v, ok := attrs[k]; ok && v.Type() == attribute.STRING {
			return v.AsString()
		}
		return ""
	}
	b.WriteString(formatTime(r.Timestamp()))
	b.WriteString(" turn")
	if v, ok := attrs[mapping.AttrTurnCount]; ok {
		b.WriteString(" " + v.String())
	}
	if o := str(mapping.AttrOutcome); o != "" {
		b.WriteString(" · " + o)
	}
	if in := str(mapping.AttrIntent); in != "" {
		b.WriteString(" · intent " + in)
		if v, ok := attrs[mapping.AttrIntentConfidence]; ok {
			b.WriteString(" " + strconv.FormatFloat(v.AsFloat64(), 'f', 2, 64))
		}
	}
	if a := str(mapping.AttrActionTitle); a != "" {
		b.WriteString(" · action " + strconv.Quote(a))
	} else if a := str(mapping.AttrAction); a != "" {
		b.WriteString(" · action " + a)
	}
	var flags []string
	for k, v := range attrs {
		// The outcome already says what its flag would.
		if f := strings.TrimPrefix(string(k), "watson_assistant."); v.Type() == attribute.BOOL && v.AsBool() && f != str(mapping.AttrOutcome) {
			flags = append(flags, f)
		}
	}
	if len(flags) > 0 {
		slices.Sort(flags)
		b.WriteString(" · " + strings.Join(flags, " "))
	}
	b.WriteByte('\n')
	in, out := str(mapping.AttrInputText), str(mapping.AttrOutputText)
	if in == "" && out == "" {
		b.WriteString("    (no text: nothing said, or content not captured)\n")
	}
	if in != "" {
		writeSaid(b, "user     ", in)
	}
	if out != "" {
		writeSaid(b, "assistant", out)
	}
	if e := str(mapping.AttrErrorMessage); e != "" {
		writeSaid(b, "error    ", e)
	}
}

// writeSaid writes what who said, its lines indented under the first.
func writeSaid(b *bytes.Buffer, who, text string) {
	for i, line := range strings.Split(shorten(text), "\n") {
		if i == 0 {
			b.WriteString("    " + who + "  ")
		} else {
			b.WriteString("    " + strings.Repeat(" ", len(who)) + "  ")
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// writeOther writes a record that is not a turn on one line.
func writeOther(b *bytes.Buffer, r *sdklog.Record) {
	b.WriteString(formatTime(r.Timestamp()))
	b.WriteString(" ")
	sev := r.SeverityText()
	if sev == "" {
		sev = r.Severity().String()
	}
	b.WriteString(sev)
	if name := r.EventName(); name != "" {
		b.WriteString(" " + name)
	}
	if body := r.Body(); body.Type() == attribute.STRING && body.AsString() != "" {
		b.WriteString(" " + quote(body.AsString()))
	}
	b.WriteByte('\n')
}

func recordAttrs(r *sdklog.Record) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		m[kv.Key] = kv.Value
		return true
	})
	return m
}

func recordString(r *sdklog.Record, k attribute.Key) string {
	var s string
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == k && kv.Value.Type() == attribute.STRING {
			s = kv.Value.AsString()
			return false
		}
		return true
	})
	return s
}
