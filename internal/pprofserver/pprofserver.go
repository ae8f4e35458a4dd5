// Package pprofserver serves Go's runtime profiles (net/http/pprof) on an
// address of their own, for the optional --pprof-listen of serve. It is off
// unless an address is given; it never registers on http.DefaultServeMux
// and so never shows on the webhook's listener.
//
// Imports: it imports no package of this module.
package pprofserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// Handler returns the pprof routes under /debug/pprof/.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Loopback reports whether addr (host:port) binds only a loopback address.
// An empty host, "0.0.0.0" or "::" binds every interface.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve serves the profiles on addr until ctx ends; an empty addr does
// nothing and returns nil at once. It warns through logger when addr is not
// a loopback address: profiles reveal memory contents and cost CPU. It
// returns an error if it cannot listen, and nil after ctx ends.
func Serve(ctx context.Context, addr string, logger *slog.Logger) error {
	if addr == "" {
		return nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: listening on %s: %w", addr, err)
	}
	if !Loopback(addr) {
		logger.Warn("pprof endpoint is not bound to loopback: anyone who can reach it can read profiles of the process", "address", ln.Addr().String())
	}
	logger.Info("serving pprof profiles", "address", ln.Addr().String(), "path", "/debug/pprof/")
	// WriteTimeout must outlast the longest CPU profile asked for.
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 5 * time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("pprof: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("pprof: %w", err)
		}
		return nil
	}
}
