package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

// Domain prefixes keep the hashes of different kinds of business id apart.
const (
	sessionDomain   = "assistant-otel/session\x00"
	statelessDomain = "assistant-otel/stateless\x00"
	turnDomain      = "assistant-otel/turn\x00"
	childDomain     = "assistant-otel/child\x00"
	callDomain      = "assistant-otel/call\x00"
)

// ConversationTraceID is the trace id of a conversation. A session id that is
// a UUID is used as is (so a user can open the conversation in a tracing UI
// from the session id alone); any other session id is hashed.
func ConversationTraceID(sessionID string) trace.TraceID {
	if id, ok := parseUUID(sessionID); ok {
		return id
	}
	return hashTraceID(sessionDomain, sessionID)
}

// StatelessTraceID is the trace id of a turn that belongs to no session.
func StatelessTraceID(logID string) trace.TraceID {
	return hashTraceID(statelessDomain, logID)
}

// TurnSpanID is the span id of a turn: a redelivered event gets the same id,
// and a call summary that lists the log id can link to it.
func TurnSpanID(logID string) trace.SpanID {
	return hashSpanID(turnDomain, logID)
}

// ChildSpanID is the span id of the index-th child span of a turn.
func ChildSpanID(logID string, index int) trace.SpanID {
	return hashSpanID(childDomain, logID+"\x00"+strconv.Itoa(index))
}

// CallTraceID and CallSpanID identify a phone call summary.
func CallTraceID(globalSessionID string) trace.TraceID {
	if id, ok := parseUUID(globalSessionID); ok {
		return id
	}
	return hashTraceID(callDomain, globalSessionID)
}

// CallSpanID is the span id of a phone call summary.
func CallSpanID(globalSessionID string) trace.SpanID {
	return hashSpanID(callDomain, globalSessionID)
}

func hashTraceID(domain, s string) trace.TraceID {
	sum := sha256.Sum256([]byte(domain + s))
	var id trace.TraceID
	copy(id[:], sum[:16])
	if !id.IsValid() { // all zero: astronomically unlikely, but never invalid
		id[15] = 1
	}
	return id
}

func hashSpanID(domain, s string) trace.SpanID {
	sum := sha256.Sum256([]byte(domain + s))
	var id trace.SpanID
	copy(id[:], sum[:8])
	if !id.IsValid() {
		id[7] = 1
	}
	return id
}

// parseUUID accepts the canonical 36-character form (any case) and the bare
// 32-hex-digit form. The nil UUID is not a usable trace id.
func parseUUID(s string) (trace.TraceID, bool) {
	var id trace.TraceID
	var hexs [32]byte
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return id, false
		}
		n := 0
		for i := 0; i < 36; i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				continue
			}
			hexs[n] = s[i]
			n++
		}
	case 32:
		copy(hexs[:], s)
	default:
		return id, false
	}
	if _, err := hex.Decode(id[:], hexs[:]); err != nil {
		return trace.TraceID{}, false
	}
	return id, id.IsValid()
}
