package watson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrShape is wrapped by every error about a body that is not a webhook call:
// not JSON, not an object, no event name, no object payload.
var ErrShape = errors.New("not a webhook body")

// ErrUnknownEvent is wrapped when the event name is not one the log webhook sends.
var ErrUnknownEvent = errors.New("unsupported event")

type envelope struct {
	Event struct {
		Name *string `json:"name"`
	} `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

// Decode parses a webhook body. The envelope is checked strictly; inside the
// payload, fields of an unexpected type are left at their zero value rather
// than failing the whole turn.
//
// A well-formed body takes the fast path (decodeFast); any body the fast
// path does not accept as is (a syntax error, a field of an unexpected
// type, invalid UTF-8, an unusual envelope) is decoded again by
// decodeStd, which defines the semantics: errors, their messages and the
// field-by-field tolerance all come from it.
func Decode(body []byte) (Event, error) {
	if ev, ok := decodeFast(body); ok {
		return ev, nil
	}
	return decodeStd(body)
}

// decodeStd is Decode with encoding/json only: the reference semantics.
func decodeStd(body []byte) (Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, fmt.Errorf("%w: %s", ErrShape, DescribeJSONError(err))
	}
	if env.Event.Name == nil || *env.Event.Name == "" {
		return Event{}, fmt.Errorf("%w: event.name is missing", ErrShape)
	}
	p := bytes.TrimSpace(env.Payload)
	if len(p) == 0 || p[0] != '{' {
		return Event{}, fmt.Errorf("%w: payload must be a JSON object", ErrShape)
	}
	ev := Event{Name: *env.Event.Name, Raw: body}
	switch ev.Name {
	case EventMessageLogged:
		ev.Log = new(Log)
		if err := lenient(json.Unmarshal(p, ev.Log)); err != nil {
			return Event{}, fmt.Errorf("%w: payload: %s", ErrShape, DescribeJSONError(err))
		}
	case EventCDRLogged:
		ev.CDR = new(CDR)
		if err := lenient(json.Unmarshal(p, ev.CDR)); err != nil {
			return Event{}, fmt.Errorf("%w: payload: %s", ErrShape, DescribeJSONError(err))
		}
	default:
		return Event{}, fmt.Errorf("%w: %q (expected %q or %q)", ErrUnknownEvent, truncate(ev.Name, 64), EventMessageLogged, EventCDRLogged)
	}
	return ev, nil
}

// lenient drops type mismatches: encoding/json keeps decoding after one and
// reports it at the end, so the value is complete but for that field.
func lenient(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return nil
	}
	return err
}

// DescribeJSONError turns a JSON decoding error into a short message that
// never quotes the input (it may hold personal data or credentials): the
// byte offset of a syntax error, or the field and JSON type of a mismatch.
func DescribeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Sprintf("expected a JSON object, got %s", te.Value)
		}
		return fmt.Sprintf("field %s: unexpected %s", te.Field, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	default:
		return "invalid JSON"
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ParseTime parses a Watson timestamp leniently: RFC 3339 with or without a
// fraction, Z or an offset. The zero time means absent or unparsable.
func ParseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
