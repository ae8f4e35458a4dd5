package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/sender"
)

// send signs a file's body like Watson Assistant does, POSTs it and prints
// the status. The exit code is 0 for a 2xx answer, 1 otherwise.
func send(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.ParseSend(args, getenv, stdout)
	if code, stop := configured(stderr, "send", err); stop {
		return code
	}
	body, err := os.ReadFile(cfg.File)
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel send:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	status, resp, err := sender.Send(ctx, &http.Client{}, cfg.URL, cfg.Secret, body)
	if err != nil {
		fmt.Fprintln(stderr, "assistant-otel send:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d %s %s\n", status, http.StatusText(status), trimBody(resp))
	if status < 200 || status > 299 {
		return 1
	}
	return 0
}

func trimBody(b []byte) string {
	const max = 512
	if len(b) > max {
		b = b[:max]
	}
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return string(b)
}
