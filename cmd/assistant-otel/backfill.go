package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/assistant-otel/assistant-otel/backfill"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/internal/retry"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/sender"
	"github.com/assistant-otel/assistant-otel/watson"
)

// backfillCmd imports logs from the Watson logs API for a time range.
func backfillCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := backfill.ParseFlags(args, getenv, stdout)
	if err == nil && !cfg.DryRun && cfg.Mapping.Via == "" {
		err = exporter.CheckEnv()
	}
	if code, stop := configured(stderr, "backfill", err); stop {
		return code
	}
	if cfg.Checkpoint == "" && !cfg.NoState {
		// Rerunning the same command (say, from cron) continues instead of
		// exporting everything again.
		path, err := backfill.DefaultStatePath(cfg, getenv)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(path), 0o700)
		}
		if err != nil {
			fmt.Fprintln(stderr, "assistant-otel backfill:", err)
			return 1
		}
		cfg.Checkpoint = path
	}
	if cfg.Checkpoint != "" {
		fmt.Fprintf(stderr, "assistant-otel backfill: state file %s (rerun the same command to continue; --no-state to keep none)\n", cfg.Checkpoint)
	}
	return runImport(ctx, "backfill", cfg.Mapping, cfg.Metrics, cfg.DryRun, backfill.SourceBackfill, stdout, stderr,
		func(deps backfill.Deps) (backfill.Stats, error) {
			deps.Sink = skipRefused(deps.Sink, deps.Logger)
			return backfill.Run(ctx, cfg, deps)
		},
		"rerun the same command (same state file) to resume")
}

// replayCmd imports saved webhook bodies or log entries from files.
func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := backfill.ParseReplayFlags(args, getenv, stdout)
	if err == nil && !cfg.DryRun && cfg.Mapping.Via == "" {
		err = exporter.CheckEnv()
	}
	if code, stop := configured(stderr, "replay", err); stop {
		return code
	}
	return runImport(ctx, "replay", cfg.Mapping, cfg.Metrics, cfg.DryRun, backfill.SourceReplay, stdout, stderr,
		func(deps backfill.Deps) (backfill.Stats, error) {
			deps.Sink = skipRefused(deps.Sink, deps.Logger)
			return backfill.Replay(ctx, cfg, deps)
		},
		"rerun with the same --dedupe-file to skip what was imported")
}

// runImport maps every imported event exactly as serve maps a webhook call
// (same ids, so a turn seen live and imported is one span) and exports it
// with acknowledgement: an event counts as done only once the OTLP endpoint
// accepted it.
func runImport(ctx context.Context, name string, m backfill.Mapping, withMetrics, dryRun bool, source string,
	stdout, stderr io.Writer, run func(backfill.Deps) (backfill.Stats, error), resumeHint string) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	mapper, err := mapping.New(m.Options())
	if err != nil {
		fmt.Fprintf(stderr, "assistant-otel %s: %v\n", name, err)
		return 2
	}
	deps := backfill.Deps{Logger: logger, Progress: stderr}
	var exp *exporter.Exporter
	switch {
	case dryRun:
	case m.Via != "":
		logger.Info("posting events to a running assistant-otel", "url", m.Via)
		deps.Sink = viaWebhook(m.Via, []byte(m.WebhookSecret))
	default:
		exp, err = exporter.New(ctx, exporter.WithServiceVersion(version()), exporter.WithLogger(logger),
			exporter.WithConsole(stdout), exporter.WithSynchronous(), exporter.WithMaxRequestBytes(m.MaxRequestBytes),
			exporter.WithMetricLabels(m.MetricIntents, m.MetricLabelLimit), exporter.WithConsoleFormat(m.ConsoleFormat))
		if err != nil {
			fmt.Fprintf(stderr, "assistant-otel %s: setting up telemetry export: %v\n", name, err)
			return 1
		}
		logger.Info("exporting telemetry", "to", exp.Describe())
		deps.Sink = exportSink(exp, func(ev watson.Event, received time.Time) mapping.Telemetry {
			return backfill.Imported(mapper.Map(ev, received), source, withMetrics)
		})
	}
	stats, runErr := run(deps)
	if exp != nil {
		flushCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if withMetrics {
			runErr = errors.Join(runErr, exp.FlushMetrics(flushCtx))
		}
		runErr = errors.Join(runErr, exp.Shutdown(flushCtx))
	}
	fmt.Fprintf(stdout, "%s: %s\n", name, stats)
	switch {
	case runErr == nil:
		return 0
	case errors.Is(runErr, context.Canceled):
		logger.Warn("interrupted; "+resumeHint, "done", stats.Consumed)
		return 1
	default:
		logger.Error(name+" failed", "error", runErr)
		return 1
	}
}

// exportSink exports each event with acknowledgement: transient failures
// are retried with backoff (a few times: an import can be rerun), a
// misconfiguration is returned at once, and an event the endpoint refused
// for what it holds is an error wrapping backfill.ErrRefused.
func exportSink(exp *exporter.Exporter, mapEvent func(watson.Event, time.Time) mapping.Telemetry) backfill.Sink {
	return backfill.SinkFunc(func(ctx context.Context, ev watson.Event, received time.Time) error {
		b, err := exp.Build(ctx, []mapping.Telemetry{mapEvent(ev, received)})
		if err != nil {
			return err
		}
		err = retry.Do(ctx, retry.Policy{MaxAttempts: 8, Max: 10 * time.Second, Timeout: time.Minute}, func(ctx context.Context) error {
			err := exp.Send(ctx, b)
			mis, after := exporter.FailureOf(err)
			if mis {
				return retry.Permanent(err)
			}
			return retry.After(err, after)
		})
		if err != nil {
			return err
		}
		if dead := b.DeadLetters(); len(dead) > 0 {
			return fmt.Errorf("%w (%s): %s", backfill.ErrRefused, dead[0].Reason, dead[0].Message)
		}
		return nil
	})
}

// skipRefused makes an import go on past an event the endpoint refuses for
// what it holds: it is logged (its id, never its content) and skipped.
func skipRefused(sink backfill.Sink, logger *slog.Logger) backfill.Sink {
	if sink == nil {
		return nil
	}
	return backfill.SinkFunc(func(ctx context.Context, ev watson.Event, received time.Time) error {
		err := sink.Consume(ctx, ev, received)
		if errors.Is(err, backfill.ErrRefused) {
			logger.Error("the OTLP endpoint refused an event for what it holds; skipped", "id", ev.DedupeKey(), "error", err)
			return nil
		}
		return err
	})
}

// viaWebhook posts each event, signed like Watson would, to a running
// service. 503 (a full spool or queue) and network errors are retried with
// backoff; any other non-2xx answer stops the import.
func viaWebhook(url string, secret []byte) backfill.Sink {
	client := &http.Client{Timeout: 30 * time.Second}
	return backfill.SinkFunc(func(ctx context.Context, ev watson.Event, _ time.Time) error {
		if len(ev.Raw) == 0 {
			return errors.New("event has no webhook body to post")
		}
		err := retry.Do(ctx, retry.Policy{MaxAttempts: 10, Max: 10 * time.Second}, func(ctx context.Context) error {
			status, _, err := sender.Send(ctx, client, url, secret, ev.Raw)
			switch {
			case err == nil && status >= 200 && status < 300:
				return nil
			case err == nil && status != http.StatusServiceUnavailable:
				return retry.Permanent(fmt.Errorf("HTTP %d", status))
			case err == nil:
				return fmt.Errorf("HTTP %d", status)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("posting to %s: %w", url, err)
		}
		return nil
	})
}
