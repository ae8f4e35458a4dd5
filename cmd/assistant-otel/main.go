// Command assistant-otel receives Watson Assistant log webhooks and exports
// them as OpenTelemetry traces, logs and metrics.
//
// Usage:
//
//	assistant-otel serve   [flags]              run the webhook receiver
//	assistant-otel send    --url URL FILE.json  sign and post an event (for testing a deployment)
//	assistant-otel backfill --url URL --assistant-id ID --from T --to T   import from the logs API
//	assistant-otel replay  FILE…                 import saved webhook bodies or log entries
//	assistant-otel dead-letters list|retry --spool-dir DIR   events the OTLP endpoint refused
//	assistant-otel version                      print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// SIGHUP reloads secrets and certificates (serve). It is caught for the
	// whole life of the process, so that it never kills it by default.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx = context.WithValue(ctx, hupKey{}, (<-chan os.Signal)(hup))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv)
	case "send":
		return send(ctx, args[1:], stdout, stderr, getenv)
	case "backfill":
		return backfillCmd(ctx, args[1:], stdout, stderr, getenv)
	case "replay":
		return replayCmd(ctx, args[1:], stdout, stderr, getenv)
	case "dead-letters":
		return deadLettersCmd(ctx, args[1:], stdout, stderr, getenv)
	case "healthcheck":
		return healthcheck(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "assistant-otel", version())
		return 0
	case "help", "-h", "--help", "-help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "assistant-otel: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

// hupKey carries main's SIGHUP channel to serve.
type hupKey struct{}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: assistant-otel COMMAND [flags]

Commands:
  serve     receive Watson Assistant log webhooks and export them over OTLP
  send      sign a webhook body with the secret and POST it (test a deployment)
  backfill  import historic conversations from the Watson logs API
  replay    import saved webhook bodies or log entries from files
  dead-letters list|retry
            list, or export again, the events the OTLP endpoint refused (kept in the spool)
  healthcheck [--url URL]
            exit 0 when a running service answers 2xx (the container health check: the image has no shell)
  version   print the version

Run "assistant-otel COMMAND -h" for the flags of a command.
`)
}
