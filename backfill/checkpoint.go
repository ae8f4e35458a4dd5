package backfill

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
	"github.com/assistant-otel/assistant-otel/watsonapi"
)

// checkpointFormat is the version of the checkpoint file layout.
const checkpointFormat = 1

// Checkpoint is the resume state of a backfill, stored as JSON. It is written
// after every fully consumed page, and once more when the run stops early
// (interrupted or failed), always atomically (temporary file, fsync, rename,
// fsync of the directory).
type Checkpoint struct {
	Format int `json:"format"`
	// ServiceURL, PathID and Identity (Config.Identity: the filter with
	// relative bounds as written) identify the run; a checkpoint is refused
	// for a different one. Filter is the filter of the last run (a file
	// without Identity, from an older version, is matched on it).
	ServiceURL string `json:"service_url"`
	PathID     string `json:"path_id"`
	Identity   string `json:"identity,omitempty"`
	Filter     string `json:"filter"`
	// Cursor fetches the next page to consume; CursorSavedAt is when the
	// service issued it (cursors expire after 5 minutes).
	Cursor        string    `json:"cursor,omitempty"`
	CursorSavedAt time.Time `json:"cursor_saved_at,omitzero"`
	// LastRequestTimestamp is the newest request_timestamp handled. A run
	// whose cursor has expired restarts from it (inclusive).
	LastRequestTimestamp string `json:"last_request_timestamp,omitempty"`
	// SeenIDs are the dedupe keys ("log:" + log_id) handled at
	// LastRequestTimestamp and on the page Cursor designates: the ones a
	// restart would list again.
	SeenIDs []string `json:"seen_ids,omitempty"`
	// Done is set when the last page was consumed.
	Done bool `json:"done"`
	// Cumulative counts over every run with this checkpoint.
	Fetched  int64 `json:"fetched"`
	Consumed int64 `json:"consumed"`
	Skipped  int64 `json:"skipped"`
	Invalid  int64 `json:"invalid"`
	// Total is pagination.matched of the first page, -1 if unknown.
	Total     int64     `json:"total"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LoadCheckpoint reads a checkpoint; a missing file is (nil, nil).
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s is not a checkpoint file (%s); delete it to start over", path, watson.DescribeJSONError(err))
	}
	if c.Format != checkpointFormat {
		return nil, fmt.Errorf("checkpoint %s has format %d, this version reads %d; delete it to start over", path, c.Format, checkpointFormat)
	}
	return &c, nil
}

// Save writes the checkpoint atomically: a temporary file in the same
// directory, fsync, rename over path, fsync of the directory.
func (c *Checkpoint) Save(path string) error {
	c.Format = checkpointFormat
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the rename durable; not every platform can sync a directory.
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// relativeSpec returns s when it is a time relative to now ("now" or an
// age such as 7d), "" when it is empty or absolute.
func relativeSpec(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if _, err := time.Parse(layout, s); err == nil {
			return ""
		}
	}
	return s
}

// Identity names the backfill a checkpoint belongs to: the filter of the
// run with each relative bound (--from 7d) given as written rather than as
// the time it meant at this run, so that a cron job rerunning the same
// command continues its checkpoint instead of being refused.
func (c Config) Identity() string {
	from, to := c.From, c.To
	var rel []string
	if c.FromSpec != "" {
		from = time.Time{}
		rel = append(rel, "from="+c.FromSpec)
	}
	if c.ToSpec != "" {
		to = time.Time{}
		rel = append(rel, "to="+c.ToSpec)
	}
	id := watsonapi.BuildFilter(from, to, c.Filter)
	if len(rel) > 0 {
		id += " [relative " + strings.Join(rel, " ") + "]"
	}
	return id
}

// DefaultStatePath is the state file a backfill uses when neither
// --checkpoint nor --no-state is given: one per assistant or environment
// and per run identity (service URL, window as written, filter), in
// $XDG_STATE_HOME/assistant-otel/backfill, else
// ~/.local/state/assistant-otel/backfill. Rerunning the same command
// therefore continues where the last run stopped.
func DefaultStatePath(c Config, getenv func(string) string) (string, error) {
	dir := getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory (%w): give --checkpoint FILE or --no-state", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	kind := "assistant"
	if c.EnvironmentID != "" {
		kind = "environment"
	}
	sum := sha256.Sum256([]byte(c.ServiceURL + "\n" + c.PathID() + "\n" + c.Identity()))
	name := fmt.Sprintf("%s-%s-%s.json", kind, safeName(c.PathID()), hex.EncodeToString(sum[:6]))
	return filepath.Join(dir, "assistant-otel", "backfill", name), nil
}

// safeName keeps letters, digits, '-' and '_' (ids are UUIDs), so that the
// id cannot leave the directory.
func safeName(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}
