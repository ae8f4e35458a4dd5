package watsonapitest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// CorpusPayloads reads the message_logged webhook bodies in dir (*.json, not
// recursive) and returns their payloads, the Log objects, sorted by file name.
func CorpusPayloads(dir string) ([]json.RawMessage, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []json.RawMessage
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var env struct {
			Event struct {
				Name string `json:"name"`
			} `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if env.Event.Name != "message_logged" {
			continue
		}
		out = append(out, env.Payload)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no message_logged bodies in %s", dir)
	}
	return out, nil
}

// Synthesize makes n logs from the payloads, cycling through them: log i gets
// the log_id SyntheticID(i), request_timestamp start+i·step and
// response_timestamp 800 ms later; everything else is kept.
func Synthesize(payloads []json.RawMessage, n int, start time.Time, step time.Duration) ([]Log, error) {
	return SynthesizeAt(payloads, n, func(i int) time.Time { return start.Add(time.Duration(i) * step) })
}

// SynthesizeAt is Synthesize with log i requested at at(i) (several logs may
// share a request_timestamp).
func SynthesizeAt(payloads []json.RawMessage, n int, at func(i int) time.Time) ([]Log, error) {
	out := make([]Log, 0, n)
	for i := range n {
		var m map[string]any
		if err := json.Unmarshal(payloads[i%len(payloads)], &m); err != nil {
			return nil, err
		}
		ts := at(i).UTC()
		m["log_id"] = SyntheticID(i)
		m["request_timestamp"] = ts.Format("2006-01-02T15:04:05.000Z")
		m["response_timestamp"] = ts.Add(800 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		out = append(out, NewLog(raw))
	}
	return out, nil
}

// SyntheticID is the log_id Synthesize gives log i: a UUID-shaped string.
func SyntheticID(i int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
}
