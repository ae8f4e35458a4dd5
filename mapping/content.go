package mapping

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
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

// outputTexts lists every text the assistant sent to the user, one per
// response item that carries text, in order: texts, titles, descriptions,
// alt texts, option and suggestion labels, search headers with each result's
// title and body, conversational-search answers with their citations. What
// a hand-off tells the agent, and the messages for an agent (un)available,
// are not said as such: handoffTexts exports them.
func outputTexts(generic []watson.Generic) []string {
	var texts []string
	for _, g := range generic {
		var parts []string
		add := func(ss ...string) {
			for _, s := range ss {
				if strings.TrimSpace(s) != "" {
					parts = append(parts, s)
				}
			}
		}
		add(g.Header, g.Title, g.Text, g.Description, g.AltText, g.MessageToUser)
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
		for _, list := range [][]watson.SearchResult{g.PrimaryResults, g.AdditionalResults, g.SearchResults} {
			for _, r := range list {
				add(joinNonEmpty(": ", r.Title, r.Body))
			}
		}
		if len(g.Citations) > 0 {
			add(g.CitationsTitle)
			for _, c := range g.Citations {
				add(joinNonEmpty(": ", c.Title, c.Text))
			}
		}
		add(g.Disclaimer)
		if len(parts) > 0 {
			texts = append(texts, strings.Join(parts, " "))
		}
	}
	return texts
}

// handoff is what a connect_to_agent response says besides its text.
type handoff struct {
	toAgent, available, unavailable, topic, target string
}

// handoffTexts collects the hand-off messages of the turn (the first of
// each kind): the message for the human agent, the messages for the user
// when an agent is or is not available, the topic, and the transfer target
// as JSON.
func handoffTexts(generic []watson.Generic) handoff {
	var h handoff
	for _, g := range generic {
		if g.ResponseType != "connect_to_agent" {
			continue
		}
		h.toAgent = firstNonEmpty(h.toAgent, g.MessageToHumanAgent)
		if g.AgentAvailable != nil {
			h.available = firstNonEmpty(h.available, g.AgentAvailable.Message)
		}
		if g.AgentUnavailable != nil {
			h.unavailable = firstNonEmpty(h.unavailable, g.AgentUnavailable.Message)
		}
		h.topic = firstNonEmpty(h.topic, g.Topic)
		if h.target == "" && g.TransferInfo != nil && len(g.TransferInfo.Target) > 0 {
			if b, err := json.Marshal(g.TransferInfo.Target); err == nil {
				h.target = string(b)
			}
		}
	}
	return h
}

func joinNonEmpty(sep string, ss ...string) string {
	var parts []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep)
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
func (m *Mapper) pseudonym(id string) string {
	mac, ok := m.macs.Get().(hash.Hash)
	if !ok {
		mac = hmac.New(sha256.New, m.opts.PseudonymKey)
	}
	defer m.macs.Put(mac)
	mac.Reset()
	io.WriteString(mac, id)
	var sum [sha256.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0])[:16])
}

// AttrContextPrefix prefixes the context variables an operator allowed.
const AttrContextPrefix = "watson_assistant.context."

// contextAttrs exports the allowed variables of the turn's response context,
// read from the context's JSON kept when the body was decoded.
func (m *Mapper) contextAttrs(raw []byte) []attribute.KeyValue {
	if m.opts.ContextAllow.Empty() || len(raw) == 0 {
		return nil
	}
	vals, err := m.opts.ContextAllow.ExtractJSON(raw, m.opts.Redactor)
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
