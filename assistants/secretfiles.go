package assistants

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// SecretFiles keeps the secrets of a single-assistant setup (--secret-file,
// possibly several files for rotation) in step with their files: Reload
// (wire it to SIGHUP) and Watch re-read them and hand them to a setter such
// as (*receiver.JWTAuthenticator).SetSecrets or
// (*receiver.HeaderAuthenticator).SetValues. A reload that fails (a file
// missing or empty, or the setter refusing) is logged and keeps the secrets
// in force.
type SecretFiles struct {
	files   []string
	set     func([][]byte) error
	log     *slog.Logger
	mu      sync.Mutex
	digest  [sha256.Size]byte
	lastErr string
}

// NewSecretFiles reads files once and passes their contents (trailing
// newlines removed) to set. logger may be nil (discard).
func NewSecretFiles(files []string, set func([][]byte) error, logger *slog.Logger) (*SecretFiles, error) {
	if len(files) == 0 {
		return nil, errors.New("assistants: no secret files")
	}
	if set == nil {
		return nil, errors.New("assistants: secret setter must not be nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &SecretFiles{files: append([]string(nil), files...), set: set, log: logger}
	secrets, digest, err := s.read()
	if err != nil {
		return nil, err
	}
	if err := set(secrets); err != nil {
		return nil, err
	}
	s.digest = digest
	return s, nil
}

func (s *SecretFiles) read() ([][]byte, [sha256.Size]byte, error) {
	h := sha256.New()
	var out [][]byte
	for _, f := range s.files {
		b, err := readLimited(f, maxSecretBytes)
		if err != nil {
			return nil, [sha256.Size]byte{}, fmt.Errorf("secret file: %w", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, [sha256.Size]byte{}, fmt.Errorf("secret file %s is empty", f)
		}
		fmt.Fprintf(h, "%d\x00", len(b))
		h.Write(b)
		out = append(out, b)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return out, d, nil
}

// Reload re-reads the files and installs their contents.
func (s *SecretFiles) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reload(true)
}

func (s *SecretFiles) reload(force bool) error {
	secrets, digest, err := s.read()
	if err == nil && !force && digest == s.digest {
		return nil
	}
	if err == nil {
		err = s.set(secrets)
	}
	if err != nil {
		if msg := err.Error(); force || msg != s.lastErr {
			s.log.Error("secret reload failed; keeping the previous secrets", "error", err)
			s.lastErr = msg
		}
		return err
	}
	s.lastErr = ""
	s.digest = digest
	s.log.Info("secrets reloaded", "files", len(s.files))
	return nil
}

// Watch reloads whenever a file's content changes, checking every interval
// (DefaultWatchInterval if not positive) until ctx ends.
func (s *SecretFiles) Watch(ctx context.Context, interval time.Duration) {
	poll(ctx, interval, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = s.reload(false)
	})
}
