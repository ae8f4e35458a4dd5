package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthcheck probes a running service and exits 0 when it answers 2xx. The
// container image has no shell and no HTTP client (FROM scratch), so the
// compose health check runs the binary itself:
//
//	assistant-otel healthcheck --url http://127.0.0.1:8080/healthz
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("assistant-otel healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "URL to probe (/healthz: the process serves; /readyz: it can also export)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel healthcheck:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel healthcheck: unhealthy:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "assistant-otel healthcheck: unhealthy: %s answered %s\n", *url, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "assistant-otel healthcheck: %s answered %s\n", *url, resp.Status)
	return 0
}
