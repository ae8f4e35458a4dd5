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
//	assistant-otel healthcheck [--url URL]      exit 0 when a running service answers 2xx
//	assistant-otel version                      print the version
//
// Every command takes -h (or --help) and exits 2 on a configuration error,
// before it starts anything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/assistant-otel/assistant-otel/config"
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
		fs := flag.NewFlagSet("assistant-otel version", flag.ContinueOnError)
		if code, stop := configured(stderr, "version", config.Parse(fs, "Usage: assistant-otel version\nPrints the version.", args[1:], nil, stdout)); stop {
			return code
		}
		fmt.Fprintln(stdout, "assistant-otel", version())
		return 0
	case "help", "-h", "--help", "-help":
		if len(args) > 1 { // help COMMAND is COMMAND --help
			return run(ctx, []string{args[1], "--help"}, stdout, stderr, getenv)
		}
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "assistant-otel: unknown command %q (see assistant-otel --help)\n", args[0])
		return 2
	}
}

// configured turns the result of parsing a command's configuration into
// whether to stop, and the exit code then: 0 after -h (the help is
// printed), 2 on an error, which it prints.
func configured(stderr io.Writer, command string, err error) (code int, stop bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	}
	fmt.Fprintf(stderr, "assistant-otel %s: %v\n", command, err)
	return 2, true
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

Run "assistant-otel COMMAND --help" (or "assistant-otel help COMMAND") for the flags of a command and
their ASSISTANT_OTEL_* environment variables. A configuration error exits 2 before anything starts.
`)
}
