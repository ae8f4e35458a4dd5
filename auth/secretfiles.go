package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/filewatch"
)

// SecretFiles keeps the secrets of a single-assistant setup (--secret-file,
// possibly several files for rotation) in step with their files: Reload
// (wire it to SIGHUP) and Watch re-read them and hand them to a setter such
// as (*JWTAuthenticator).SetSecrets or (*HeaderAuthenticator).SetValues. A
// reload that fails (a file missing or empty, or the setter refusing) is
// logged and keeps the secrets in force.
type SecretFiles struct {
	files  []string
	set    func([][]byte) error
	log    *slog.Logger
	loaded bool // guarded by watch's lock
	watch  *filewatch.Watcher[[][]byte]
}

// NewSecretFiles reads files once and passes their contents (trailing
// newlines removed) to set. logger may be nil (discard).
func NewSecretFiles(files []string, set func([][]byte) error, logger *slog.Logger) (*SecretFiles, error) {
	if len(files) == 0 {
		return nil, errors.New("auth: no secret files")
	}
	if set == nil {
		return nil, errors.New("auth: secret setter must not be nil")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &SecretFiles{files: append([]string(nil), files...), set: set, log: logger}
	s.watch = &filewatch.Watcher[[][]byte]{Read: s.read, Apply: s.install, Report: s.logFailure}
	if err := s.watch.Load(); err != nil {
		return nil, err
	}
	return s, nil
}

// read returns the secrets and the digest of their contents.
func (s *SecretFiles) read() ([][]byte, filewatch.Stamp, error) {
	h := sha256.New()
	var out [][]byte
	for _, f := range s.files {
		b, err := readLimited(f, maxSecretBytes)
		if err != nil {
			return nil, filewatch.Stamp{}, fmt.Errorf("secret file: %w", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, filewatch.Stamp{}, fmt.Errorf("secret file %s is empty", f)
		}
		fmt.Fprintf(h, "%d\x00", len(b))
		h.Write(b)
		out = append(out, b)
	}
	var d filewatch.Stamp
	h.Sum(d[:0])
	return out, d, nil
}

// install hands secrets to the setter, and logs it unless it is the first.
func (s *SecretFiles) install(secrets [][]byte) error {
	if err := s.set(secrets); err != nil {
		return err
	}
	if s.loaded {
		s.log.Info("secrets reloaded", "files", len(s.files))
	}
	s.loaded = true
	return nil
}

func (s *SecretFiles) logFailure(err error) {
	s.log.Error("secret reload failed; keeping the previous secrets", "error", err)
}

// Reload re-reads the files and installs their contents; a failure is
// logged too.
func (s *SecretFiles) Reload() error { return s.watch.Reload() }

// Poll re-reads the files now and installs them if their content changed,
// as Watch does every interval. A failure is logged once until it changes.
func (s *SecretFiles) Poll() { s.watch.Poll() }

// Watch polls every interval until ctx ends; it returns at once if interval
// is not positive.
func (s *SecretFiles) Watch(ctx context.Context, interval time.Duration) { s.watch.Run(ctx, interval) }
