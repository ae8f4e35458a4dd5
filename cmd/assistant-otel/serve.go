package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/watson"
)

// serve runs the webhook receiver until ctx is cancelled (SIGTERM, SIGINT),
// then drains requests and flushes telemetry.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.ParseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel serve:", err)
		return 2
	}
	logger := newLogger(cfg, stderr)
	// The SDK reports export failures here too; the exporter already logs
	// them (rate-limited) and counts them, so keep these for debugging.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Debug("opentelemetry sdk", "error", err)
	}))
	if err := runServe(ctx, cfg, logger, stdout); err != nil {
		logger.Error("assistant-otel stopped", "error", err)
		return 1
	}
	return 0
}

func runServe(ctx context.Context, cfg config.Serve, logger *slog.Logger, stdout io.Writer) error {
	mapper, err := mapping.New(mapping.Options{
		AssistantName:          cfg.AssistantName,
		LowConfidenceThreshold: cfg.LowConfidenceThreshold,
		CaptureContent:         cfg.CaptureContent,
		MaxTextLength:          cfg.MaxTextLength,
		PseudonymKey:           cfg.PseudonymKey,
	})
	if err != nil {
		return err
	}
	exp, err := exporter.New(ctx,
		exporter.WithServiceVersion(version()),
		exporter.WithLogger(logger),
		exporter.WithConsole(stdout))
	if err != nil {
		return fmt.Errorf("setting up telemetry export: %w", err)
	}
	logger.Info("exporting telemetry", "to", exp.Describe())

	var auth receiver.Authenticator
	switch cfg.Auth {
	case config.AuthNone:
		logger.Warn("AUTHENTICATION IS OFF (--auth=none): anyone who can reach the webhook can send events")
		auth = receiver.NoAuth()
	default:
		auth, err = receiver.NewJWTAuthenticator([][]byte{cfg.Secret}, receiver.WithLeeway(cfg.JWTLeeway))
		if err != nil {
			return fmt.Errorf("setting up authentication: %w", err)
		}
	}

	consume := receiver.ConsumerFunc(func(ctx context.Context, ev watson.Event, received time.Time) error {
		exp.Export(ctx, mapper.Map(ev, received))
		return nil
	})
	rcv, err := receiver.New(consume, auth,
		receiver.WithPath(cfg.Path),
		receiver.WithMaxBodyBytes(cfg.MaxBodyBytes),
		receiver.WithLogger(logger),
		receiver.WithMeter(exp.Meter()))
	if err != nil {
		return errors.Join(err, exp.Shutdown(context.Background()))
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listening on %s: %w", cfg.Listen, err), exp.Shutdown(context.Background()))
	}
	srv, err := receiver.NewServer(cfg.Listen, rcv.Handler(), receiver.WithServerLogger(logger))
	if err != nil {
		return errors.Join(err, ln.Close(), exp.Shutdown(context.Background()))
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	rcv.SetReady(true)
	logger.Info("listening for Watson Assistant log webhooks",
		"address", ln.Addr().String(), "path", cfg.Path, "auth", cfg.Auth,
		"capture_content", cfg.CaptureContent, "version", version())

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down: draining requests and flushing telemetry", "timeout", cfg.ShutdownTimeout)
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	rcv.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = errors.Join(runErr, fmt.Errorf("draining requests: %w", err))
	}
	if err := exp.Shutdown(shutdownCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("flushing telemetry: %w", err))
	}
	if runErr == nil {
		logger.Info("stopped cleanly")
	}
	return runErr
}

func newLogger(cfg config.Serve, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
