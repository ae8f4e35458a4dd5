// Package loadgen drives a webhook receiver with signed events: many
// concurrent senders, at the highest or a fixed rate, for a number of events
// or a duration, each event with a log_id of its own. It records which
// events were acknowledged (2xx), refused (503) or failed, and the
// acknowledgement latencies. The durability tests use it, and a load tool
// can.
//
// Imports: it may import sender (to sign and post each event) and nothing
// else of this module.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/assistant-otel/assistant-otel/sender"
)

// Template is a webhook body whose log_id can be replaced.
type Template struct {
	Name  string
	Body  []byte
	LogID string // the log_id in Body; empty for events without one
}

// LoadTemplates reads the message_logged bodies matching glob (e.g. the
// corpus) as templates.
func LoadTemplates(glob string) ([]Template, error) {
	files, err := filepath.Glob(glob)
	if err != nil {
		return nil, err
	}
	var out []Template
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var env struct {
			Event   struct{ Name string }
			Payload struct {
				LogID string `json:"log_id"`
			}
		}
		if err := json.Unmarshal(b, &env); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if env.Event.Name != "message_logged" || env.Payload.LogID == "" {
			continue
		}
		out = append(out, Template{Name: filepath.Base(f), Body: b, LogID: env.Payload.LogID})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("loadgen: no message_logged bodies in %s", glob)
	}
	return out, nil
}

// NewLogID returns a random UUID (version 4).
func NewLogID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Event is one body to send, with its log_id.
type Event struct {
	LogID string
	Body  []byte
}

// Compact returns the templates with their bodies compacted (json.Compact),
// as a webhook sender sends them; the corpus files are indented.
func Compact(templates []Template) ([]Template, error) {
	out := make([]Template, len(templates))
	for i, t := range templates {
		var b bytes.Buffer
		if err := json.Compact(&b, t.Body); err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		t.Body = b.Bytes()
		out[i] = t
	}
	return out, nil
}

// WrapOTLP returns body as the string body of one OTLP/JSON log record (an
// ExportLogsServiceRequest for /v1/logs): what a user who "just posts the
// JSON to the Collector" would send.
func WrapOTLP(body []byte, now time.Time) []byte {
	s, _ := json.Marshal(string(body))
	var b bytes.Buffer
	b.Grow(len(s) + 200)
	b.WriteString(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"watson-webhook"}}]},"scopeLogs":[{"scope":{"name":"loadgen"},"logRecords":[{"timeUnixNano":"`)
	b.WriteString(strconv.FormatInt(now.UnixNano(), 10))
	b.WriteString(`","severityNumber":9,"body":{"stringValue":`)
	b.Write(s)
	b.WriteString(`}}]}]}]}`)
	return b.Bytes()
}

// Make returns n events cycling through the templates, each with a new
// log_id.
func Make(templates []Template, n int) []Event {
	out := make([]Event, n)
	for i := range out {
		t := templates[i%len(templates)]
		id := NewLogID()
		out[i] = Event{LogID: id, Body: bytes.ReplaceAll(t.Body, []byte(t.LogID), []byte(id))}
	}
	return out
}

// Config is one run.
type Config struct {
	URL    string
	Secret []byte
	Events []Event
	// Concurrency is the number of concurrent senders (default 16).
	Concurrency int
	// Rate is the total events per second; 0 sends as fast as acknowledged.
	Rate float64
	// Client is the HTTP client (default: keep-alive, 10 s timeout).
	Client *http.Client
	// OnResult, if set, is called after each event (from the senders'
	// goroutines).
	OnResult func(ev Event, status int, err error)
	// NoAuth sends no Authorization header (e.g. to a Collector's
	// OTLP/HTTP receiver); otherwise each request carries a freshly signed
	// token, as Watson Assistant sends.
	NoAuth bool
}

// Result is what a run came to.
type Result struct {
	Sent     int
	Acked    []string // log ids answered 2xx
	Refused  int      // 503
	Failed   int      // other statuses and transport errors
	Statuses map[int]int
	// RetryAfter is the Retry-After header of the first 503 ("" if none).
	RetryAfter string
	Latencies  []time.Duration // of the acknowledged events, sorted
	Elapsed    time.Duration
	FirstError error
}

// Percentile returns the q-quantile (0..1) of the acknowledgement latencies.
func (r *Result) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.Latencies)-1))
	return r.Latencies[i]
}

// Run sends every event once (stopping early when ctx ends) and returns
// the outcome.
func Run(ctx context.Context, c Config) *Result {
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Client == nil {
		c.Client = Client(c.Concurrency)
	}
	res := &Result{Statuses: map[int]int{}}
	var mu sync.Mutex
	var next atomic.Int64
	start := time.Now()
	var interval time.Duration
	if c.Rate > 0 {
		interval = time.Duration(float64(time.Second) / c.Rate)
	}
	var wg sync.WaitGroup
	for range c.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(c.Events) {
					return
				}
				if interval > 0 { // pace: event i leaves at start + i*interval
					if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					}
				}
				ev := c.Events[i]
				t := time.Now()
				status, retryAfter, err := post(ctx, c.Client, c.URL, c.Secret, ev.Body, c.NoAuth)
				lat := time.Since(t)
				if err != nil && ctx.Err() != nil {
					return // cut off by the end of the run: not an outcome
				}
				mu.Lock()
				res.Sent++
				switch {
				case err != nil:
					res.Failed++
					if res.FirstError == nil {
						res.FirstError = err
					}
				case status >= 200 && status < 300:
					res.Acked = append(res.Acked, ev.LogID)
					res.Latencies = append(res.Latencies, lat)
				case status == http.StatusServiceUnavailable:
					res.Refused++
					if res.RetryAfter == "" {
						res.RetryAfter = retryAfter
					}
				default:
					res.Failed++
				}
				if err == nil {
					res.Statuses[status]++
				}
				mu.Unlock()
				if c.OnResult != nil {
					c.OnResult(ev, status, err)
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	return res
}

// Client is the default HTTP client of Run: keep-alive, at most concurrency
// connections, 10 s timeout.
func Client(concurrency int) *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency},
	}
}

func post(ctx context.Context, client *http.Client, url string, secret, body []byte, noAuth bool) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if !noAuth {
		token, err := sender.Sign(secret, time.Now())
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Authorization", token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// SortLatencies sorts r.Latencies (Run returns them sorted; call this after
// merging results).
func SortLatencies(r *Result) {
	sort.Slice(r.Latencies, func(i, j int) bool { return r.Latencies[i] < r.Latencies[j] })
}
