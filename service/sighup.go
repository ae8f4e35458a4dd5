package service

import (
	"context"
	"log/slog"
	"os"
)

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
