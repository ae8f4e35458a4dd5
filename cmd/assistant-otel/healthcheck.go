package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/assistant-otel/assistant-otel/config"
)

// healthcheck probes a running service and exits 0 when it answers 2xx. The
// container image has no shell and no HTTP client (FROM scratch), so the
// compose health check runs the binary itself:
//
//	assistant-otel healthcheck --url http://127.0.0.1:8080/healthz
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := config.ParseHealthcheck(args, stdout)
	if code, stop := configured(stderr, "healthcheck", err); stop {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL, nil)
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
		fmt.Fprintf(stderr, "assistant-otel healthcheck: unhealthy: %s answered %s\n", cfg.URL, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "assistant-otel healthcheck: %s answered %s\n", cfg.URL, resp.Status)
	return 0
}
