package mapping

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/assistant-otel/assistant-otel/watson"
)

// truncate cuts s to at most n characters (runes), marking the cut with an
// ellipsis, and replaces invalid UTF-8 so exporters never reject it.
func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n { // n bytes ≥ n runes: fast path
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + "…"
		}
		count++
	}
	return s
}

// outputTexts lists every text the assistant sent, one per response item that
// carries text, in order.
func outputTexts(generic []watson.Generic) []string {
	var texts []string
	for _, g := range generic {
		var parts []string
		for _, s := range []string{g.Header, g.Title, g.Text, g.Description, g.MessageToUser} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		choices := g.Options
		if len(g.Suggestions) > 0 {
			choices = g.Suggestions
		}
		if len(choices) > 0 {
			labels := make([]string, 0, len(choices))
			for _, c := range choices {
				if c.Label != "" {
					labels = append(labels, c.Label)
				}
			}
			if len(labels) > 0 {
				parts = append(parts, "["+strings.Join(labels, " | ")+"]")
			}
		}
		if len(parts) > 0 {
			texts = append(texts, strings.Join(parts, " "))
		}
	}
	return texts
}

// genAIMessage is the gen_ai.input.messages / gen_ai.output.messages shape.
type genAIMessage struct {
	Role         string      `json:"role"`
	Parts        []genAIPart `json:"parts"`
	FinishReason string      `json:"finish_reason,omitempty"`
}

type genAIPart struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

func messagesJSON(role, finish string, texts []string) string {
	msg := genAIMessage{Role: role, FinishReason: finish, Parts: make([]genAIPart, len(texts))}
	for i, t := range texts {
		msg.Parts[i] = genAIPart{Type: "text", Content: t}
	}
	b, err := json.Marshal([]genAIMessage{msg})
	if err != nil { // cannot happen for strings
		return "[]"
	}
	return string(b)
}

// pseudonym is a keyed hash of a user identifier: the same user is linkable
// across turns without being named.
func pseudonym(key []byte, id string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// AttrContextPrefix prefixes the context variables an operator allowed.
const AttrContextPrefix = "watson_assistant.context."

// contextAttrs exports the allowed variables of the turn's response context.
// The raw body is parsed again only when an allow-list is configured.
func (m *Mapper) contextAttrs(raw []byte) []attribute.KeyValue {
	if m.opts.ContextAllow.Empty() || len(raw) == 0 {
		return nil
	}
	var body struct {
		Payload struct {
			Response struct {
				Context json.RawMessage `json:"context"`
			} `json:"response"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || len(body.Payload.Response.Context) == 0 {
		return nil
	}
	vals, err := m.opts.ContextAllow.ExtractJSON(body.Payload.Response.Context, m.opts.Redactor)
	if err != nil {
		return nil
	}
	attrs := make([]attribute.KeyValue, 0, len(vals))
	for _, v := range vals {
		key := attribute.Key(AttrContextPrefix + truncate(v.Path, 256))
		switch x := v.Value.(type) {
		case string:
			attrs = append(attrs, key.String(truncate(x, m.opts.MaxTextLength)))
		case bool:
			attrs = append(attrs, key.Bool(x))
		case int64:
			attrs = append(attrs, key.Int64(x))
		case float64:
			attrs = append(attrs, key.Float64(x))
		}
	}
	return attrs
}
