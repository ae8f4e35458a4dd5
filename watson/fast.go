package watson

import (
	"bytes"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// fastEnvelope is envelope for the fast decoder.
type fastEnvelope struct {
	Event struct {
		Name *string `json:"name"`
	} `json:"event"`
	Payload gojson.RawMessage `json:"payload"`
}

// decodeFast decodes body with github.com/goccy/go-json, about four times
// faster than encoding/json on webhook bodies (see docs/performance.md). It
// returns ok only when the result is the one decodeStd gives: it gives up
// (ok false, and Decode falls back to decodeStd) on anything it would treat
// differently or that decodeStd reports: invalid JSON, invalid UTF-8 (encoding/json
// replaces it), any decoding error (encoding/json keeps decoding after a
// field of the wrong type and tolerates it), a missing event name, a payload
// that is not an object, an unknown event, an object key that matches a
// declared field only case-insensitively (goccy/go-json does not always). FuzzDecodeFast checks the
// equivalence.
func decodeFast(body []byte) (ev Event, ok bool) {
	defer func() {
		if recover() != nil { // a bug in the fast decoder must not cost the event
			ev, ok = Event{}, false
		}
	}()
	// goccy/go-json does not check the values it skips (unknown fields):
	// validate the whole body first, as encoding/json does.
	if !utf8.Valid(body) {
		return Event{}, false
	}
	if valid, foldRisk := scanJSON(body); !valid || foldRisk {
		return Event{}, false
	}
	var env fastEnvelope
	if err := gojson.Unmarshal(body, &env); err != nil {
		return Event{}, false
	}
	if env.Event.Name == nil || *env.Event.Name == "" {
		return Event{}, false
	}
	p := bytes.TrimSpace(env.Payload)
	if len(p) == 0 || p[0] != '{' {
		return Event{}, false
	}
	ev = Event{Name: *env.Event.Name, Raw: body}
	var err error
	switch ev.Name {
	case EventMessageLogged:
		ev.Log = new(Log)
		err = gojson.Unmarshal(p, ev.Log)
	case EventCDRLogged:
		ev.CDR = new(CDR)
		err = gojson.Unmarshal(p, ev.CDR)
	default:
		return Event{}, false
	}
	if err != nil {
		return Event{}, false
	}
	return ev, true
}
