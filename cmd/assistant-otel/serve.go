package main

import (
	"context"
	"io"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/service"
)

// serve runs the webhook receiver until ctx is cancelled (SIGTERM, SIGINT),
// then drains requests and flushes telemetry (package service).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.ParseServe(args, getenv, stdout)
	if err == nil {
		err = exporter.CheckEnv()
	}
	if code, stop := configured(stderr, "serve", err); stop {
		return code
	}
	logger := newLogger(cfg, stderr)
	service.ApplyMemoryLimit(cfg.MemoryLimit, getenv, logger)
	service.WarnIfQueueExceedsLimit(cfg, getenv, logger)
	// The SDK reports export failures here too; the exporter already logs
	// them (rate-limited) and counts them, so keep these for debugging.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Debug("opentelemetry sdk", "error", err)
	}))
	hup, _ := ctx.Value(hupKey{}).(<-chan os.Signal)
	svc := service.New(cfg, logger, service.Options{Stdout: stdout, Version: version(), Reload: hup})
	if err := svc.Run(ctx); err != nil {
		logger.Error("assistant-otel stopped", "error", err)
		return 1
	}
	return 0
}

func newLogger(cfg config.Serve, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
