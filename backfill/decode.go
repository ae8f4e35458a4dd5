package backfill

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// ErrNotAnEntry is wrapped when a replayed value is JSON but neither a
// webhook body, a log nor a logs API page.
var ErrNotAnEntry = errors.New("not a webhook body or log")

// DecodeLog decodes one Log object of the logs API into the event the
// webhook would have delivered: it wraps the raw object in a message_logged
// envelope and runs watson.Decode on it, so that decoding (and therefore
// every id the mapping derives) is identical to the webhook path.
func DecodeLog(raw json.RawMessage) (watson.Event, error) {
	p := bytes.TrimSpace(raw)
	if len(p) == 0 || p[0] != '{' {
		return watson.Event{}, fmt.Errorf("%w: a log must be a JSON object", watson.ErrShape)
	}
	body := make([]byte, 0, len(p)+64)
	body = append(body, `{"event":{"name":"`+watson.EventMessageLogged+`"},"payload":`...)
	body = append(body, p...)
	body = append(body, '}')
	return watson.Decode(body)
}

// decodeEntry decodes a replayed JSON object: a webhook body
// ({"event":…,"payload":…}, decoded by watson.Decode like the receiver does)
// or a bare Log (anything with log_id, or with request and response). A logs
// API page ({"logs":[…]}) is reported through logs for the caller to expand.
func decodeEntry(raw json.RawMessage) (ev watson.Event, logs []json.RawMessage, err error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return watson.Event{}, nil, fmt.Errorf("%w: %s", watson.ErrShape, watson.DescribeJSONError(err))
	}
	_, hasEvent := keys["event"]
	_, hasPayload := keys["payload"]
	_, hasLogID := keys["log_id"]
	_, hasRequest := keys["request"]
	_, hasResponse := keys["response"]
	if l, ok := keys["logs"]; ok && !hasEvent && !hasLogID {
		if err := json.Unmarshal(l, &logs); err != nil {
			return watson.Event{}, nil, fmt.Errorf("%w: \"logs\" is not an array of logs", ErrNotAnEntry)
		}
		return watson.Event{}, logs, nil
	}
	switch {
	case hasEvent || hasPayload:
		ev, err = watson.Decode(raw)
	case hasLogID || (hasRequest && hasResponse):
		ev, err = DecodeLog(raw)
	default:
		return watson.Event{}, nil, fmt.Errorf("%w: an object needs event and payload (a webhook body) or log_id (a log)", ErrNotAnEntry)
	}
	return ev, nil, err
}

// Received is the time a historic event is handed over with: when Watson
// answered (response_timestamp), else when it was asked, else the call's
// stop time, else now. The mapping uses it only where the event itself has
// no time, so imported telemetry keeps its original timestamps.
func Received(ev watson.Event, now time.Time) time.Time {
	var candidates []string
	switch {
	case ev.Log != nil:
		candidates = []string{ev.Log.ResponseTimestamp, ev.Log.RequestTimestamp}
	case ev.CDR != nil:
		candidates = []string{ev.CDR.Call.StopTimestamp, ev.CDR.Call.StartTimestamp}
	}
	for _, s := range candidates {
		if t := watson.ParseTime(s); !t.IsZero() {
			return t
		}
	}
	return now
}
