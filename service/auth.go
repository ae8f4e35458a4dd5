package service

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/assistant-otel/assistant-otel/assistants"
	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/receiver"
)

// authSetup is the authenticator of the webhook, the assistant names it
// knows, and what SIGHUP reloads.
type authSetup struct {
	auth      receiver.Authenticator
	names     func(assistantID string) (string, bool)
	reloaders []func() error
}

// newAuth builds the authenticator --auth, --secret-file and
// --assistants-file describe. Watchers that re-read secret files on change
// run until ctx ends.
func newAuth(ctx context.Context, cfg config.Serve, logger *slog.Logger) (*authSetup, error) {
	sec := cfg.Security
	jwtOpts := []receiver.JWTOption{receiver.WithLeeway(cfg.JWTLeeway), receiver.WithMaxTokenAge(sec.MaxTokenAge)}
	if cfg.Auth == config.AuthNone {
		logger.Warn("AUTHENTICATION IS OFF (--auth=none): anyone who can reach the webhook can send events")
		return &authSetup{auth: receiver.NoAuth()}, nil
	}
	if sec.AssistantsFile != "" {
		opts := []assistants.Option{assistants.WithLogger(logger), assistants.WithJWTOptions(jwtOpts...)}
		if cfg.Auth == config.AuthHeader {
			opts = append(opts, assistants.WithHeaderMode(sec.AuthHeader))
		}
		a, err := assistants.New(sec.AssistantsFile, opts...)
		if err != nil {
			return nil, fmt.Errorf("assistants file: %w", err)
		}
		go a.Watch(ctx, 0)
		logger.Info("authenticating several assistants", "file", sec.AssistantsFile, "assistants", len(a.Assistants()))
		return &authSetup{auth: a, names: a.Name, reloaders: []func() error{a.Reload}}, nil
	}

	var set func([][]byte) error
	setup := &authSetup{}
	switch cfg.Auth {
	case config.AuthHeader:
		h, err := receiver.NewHeaderAuthenticator(sec.AuthHeader, cfg.Secrets)
		if err != nil {
			return nil, fmt.Errorf("header authentication: %w", err)
		}
		setup.auth, set = h, h.SetValues
	default:
		j, err := receiver.NewJWTAuthenticator(cfg.Secrets, jwtOpts...)
		if err != nil {
			return nil, fmt.Errorf("JWT authentication: %w", err)
		}
		setup.auth, set = j, j.SetSecrets
	}
	if len(sec.SecretFiles) > 0 {
		sf, err := assistants.NewSecretFiles(sec.SecretFiles, set, logger)
		if err != nil {
			return nil, fmt.Errorf("secret files: %w", err)
		}
		go sf.Watch(ctx, 0)
		setup.reloaders = append(setup.reloaders, sf.Reload)
	}
	return setup, nil
}

// reloadOnSIGHUP calls every reloader on each signal from hup until ctx
// ends. Each reloader logs its own failure and keeps what it had. main
// catches SIGHUP for the whole process (Options.Reload), so a SIGHUP never
// stops the service, whatever there is to reload.
func reloadOnSIGHUP(ctx context.Context, hup <-chan os.Signal, logger *slog.Logger, reloaders ...func() error) {
	if hup == nil {
		return
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if len(reloaders) == 0 {
					logger.Info("SIGHUP: nothing to reload (no secret files, assistants file or TLS certificate)")
					continue
				}
				logger.Info("SIGHUP: reloading secrets and certificates")
				for _, reload := range reloaders {
					if err := reload(); err != nil {
						logger.Error("reload failed; keeping the previous configuration", "error", err)
					}
				}
			}
		}
	}()
}
