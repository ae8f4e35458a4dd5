package backfill

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

// checkpointFormat is the version of the checkpoint file layout.
const checkpointFormat = 1

// Checkpoint is the resume state of a backfill, stored as JSON. It is written
// after every fully consumed page, and once more when the run stops early
// (interrupted or failed), always atomically (temporary file, fsync, rename,
// fsync of the directory).
type Checkpoint struct {
	Format int `json:"format"`
	// ServiceURL, PathID and Filter identify the run; a checkpoint is
	// refused for a different one.
	ServiceURL string `json:"service_url"`
	PathID     string `json:"path_id"`
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
