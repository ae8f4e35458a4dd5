package auth

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/internal/filewatch"
)

// Setup is the authenticator of the webhook, the assistant names it knows,
// and what SIGHUP reloads.
type Setup struct {
	// Authenticator is for the receiver.
	Authenticator Authenticator
	// Names returns the configured name of an assistant (nil without an
	// assistants file).
	Names func(assistantID string) (string, bool)
	// Reloaders re-read the secret files or the assistants file: wire them
	// to SIGHUP. Each logs its own failure and keeps what it had.
	Reloaders []func() error
}

// FromConfig builds the authenticator --auth, --secret-file and
// --assistants-file describe. Watchers that re-read secret files on change
// run until ctx ends.
func FromConfig(ctx context.Context, cfg config.Serve, logger *slog.Logger) (*Setup, error) {
	sec := cfg.Security
	jwtOpts := []JWTOption{WithLeeway(cfg.JWTLeeway), WithMaxTokenAge(sec.MaxTokenAge)}
	if cfg.Auth == config.AuthNone {
		logger.Warn("AUTHENTICATION IS OFF (--auth=none): anyone who can reach the webhook can send events")
		return &Setup{Authenticator: NoAuth()}, nil
	}
	if sec.AssistantsFile != "" {
		opts := []AssistantsOption{WithLogger(logger), WithJWTOptions(jwtOpts...)}
		if cfg.Auth == config.AuthHeader {
			opts = append(opts, WithHeaderMode(sec.AuthHeader))
		}
		a, err := NewAssistants(sec.AssistantsFile, opts...)
		if err != nil {
			return nil, fmt.Errorf("assistants file: %w", err)
		}
		go a.Watch(ctx, filewatch.DefaultInterval)
		logger.Info("authenticating several assistants", "file", sec.AssistantsFile, "assistants", len(a.Assistants()))
		return &Setup{Authenticator: a, Names: a.Name, Reloaders: []func() error{a.Reload}}, nil
	}

	var set func([][]byte) error
	setup := &Setup{}
	switch cfg.Auth {
	case config.AuthHeader:
		h, err := NewHeaderAuthenticator(sec.AuthHeader, cfg.Secrets)
		if err != nil {
			return nil, fmt.Errorf("header authentication: %w", err)
		}
		setup.Authenticator, set = h, h.SetValues
	default:
		j, err := NewJWTAuthenticator(cfg.Secrets, jwtOpts...)
		if err != nil {
			return nil, fmt.Errorf("JWT authentication: %w", err)
		}
		setup.Authenticator, set = j, j.SetSecrets
	}
	if len(sec.SecretFiles) > 0 {
		sf, err := NewSecretFiles(sec.SecretFiles, set, logger)
		if err != nil {
			return nil, fmt.Errorf("secret files: %w", err)
		}
		go sf.Watch(ctx, filewatch.DefaultInterval)
		setup.Reloaders = append(setup.Reloaders, sf.Reload)
	}
	return setup, nil
}
