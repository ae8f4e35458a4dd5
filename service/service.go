// Package service is `assistant-otel serve` as a type: a Service starts the
// export, the queue (durable spool or memory), the export pump and the
// webhook receiver, answers /readyz from the intake's state and the
// export's health, and on shutdown keeps one order: stop accepting, finish
// the requests in flight, drain the pump, close the queue, flush telemetry.
//
// It owns start-up, health and the shutdown order; parsing flags, the
// logger and the process (signals, exit codes) stay in cmd/assistant-otel.
// It may import config, auth, the packages of an event's path (receiver,
// intake, pump, spool, mapping, exporter, deadletter) and internal helpers;
// only cmd/assistant-otel imports it.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/assistant-otel/assistant-otel/auth"
	"github.com/assistant-otel/assistant-otel/config"
	"github.com/assistant-otel/assistant-otel/exporter"
	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/internal/pprofserver"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/pump"
	"github.com/assistant-otel/assistant-otel/receiver"
	"github.com/assistant-otel/assistant-otel/spool"
)

// Options are what a Service takes from the process besides its
// configuration.
type Options struct {
	// Stdout receives the console exporter's output
	// (OTEL_*_EXPORTER=console); nil discards it.
	Stdout io.Writer
	// Version is the service.version resource attribute, also logged.
	Version string
	// Reload delivers SIGHUP: each signal reads the secret files, the
	// assistants file and the TLS certificate again. Nil: no reloads.
	Reload <-chan os.Signal
}

// Service is one run of the webhook receiver and its export.
type Service struct {
	cfg       config.Serve
	logger    *slog.Logger
	opts      Options
	listening chan struct{}
	addr      net.Addr
}

// New prepares a Service; nothing starts before Run. cfg is validated
// already (config.ParseServe).
func New(cfg config.Serve, logger *slog.Logger, opts Options) *Service {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	return &Service{cfg: cfg, logger: logger, opts: opts, listening: make(chan struct{})}
}

// Listening is closed once the webhook is served and ready.
func (s *Service) Listening() <-chan struct{} { return s.listening }

// Addr is the webhook's listening address; read it once Listening is closed.
func (s *Service) Addr() net.Addr { return s.addr }

// running is what start set up and shutdown stops, in reverse.
type running struct {
	exp      *exporter.Exporter
	queue    spool.Queue
	disk     *spool.Disk // nil with the in-memory queue
	pump     *pump.Pump
	rcv      *receiver.Receiver
	srv      *http.Server
	health   *exportHealth
	stopPump context.CancelFunc
	pumpDone chan error
	serveErr chan error
}

// Run starts the service, serves until ctx is cancelled (SIGTERM, SIGINT)
// or a part of it fails, then drains requests and the queue within
// --drain-timeout and flushes telemetry. The error says what failed,
// including accepted events that were lost.
func (s *Service) Run(ctx context.Context) error {
	r, err := s.start(ctx)
	if err != nil {
		return err
	}
	return s.shutdown(r, s.wait(ctx, r))
}

// start sets everything up and serves; on an error it closes what it had
// opened. Watchers and side endpoints run until ctx ends.
func (s *Service) start(ctx context.Context) (_ *running, err error) {
	cfg, logger := s.cfg, s.logger
	var undo []func() error // closes what is open, run in reverse on an error
	defer func() {
		for i := len(undo) - 1; err != nil && i >= 0; i-- {
			err = errors.Join(err, undo[i]())
		}
	}()
	if cfg.PseudonymKeyDerived && len(cfg.Security.SecretFiles) > 0 {
		logger.Warn("the user-id hashing key is derived from the webhook secret: rotating the secret will change every enduser.pseudo.id; set --pseudonym-key-file to keep them stable")
	}
	if len(cfg.PseudonymKey) == 0 && cfg.Auth != config.AuthNone {
		logger.Info("no --pseudonym-key-file: user ids are not exported, not even hashed")
	}
	authn, err := auth.FromConfig(ctx, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("setting up authentication: %w", err)
	}
	opts, err := cfg.Mapping.Options()
	if err != nil {
		return nil, err
	}
	opts.AssistantNames = authn.Names
	// Live webhooks: timestamps outside serve's window are implausible (backfill
	// and replay keep the mapping's wider history window).
	opts.MaxEventAge = cfg.MaxEventAge
	mapper, err := mapping.New(opts)
	if err != nil {
		return nil, err
	}
	expOpts := []exporter.Option{
		exporter.WithServiceVersion(s.opts.Version),
		exporter.WithLogger(logger),
		exporter.WithConsole(s.opts.Stdout),
		exporter.WithSynchronous(),
		exporter.WithMaxRequestBytes(cfg.MaxRequestBytes),
		exporter.WithMetricLabels(cfg.MetricIntents, cfg.MetricLabelLimit),
		exporter.WithConsoleFormat(cfg.ConsoleFormat),
		// Kept next to the spool: after a restart, metrics continue the same series
		// and re-sent spans carry the same resource.
		exporter.WithInstanceIDDir(cfg.Spool.Dir),
	}
	var promReg *prometheus.Registry
	if cfg.MetricsListen != "" {
		promReg = prometheus.NewRegistry()
		expOpts = append(expOpts, exporter.WithPrometheus(promReg))
	}
	exp, err := exporter.New(ctx, expOpts...)
	if err != nil {
		return nil, fmt.Errorf("setting up telemetry export: %w", err)
	}
	undo = append(undo, func() error { return exp.Shutdown(context.Background()) })
	if promReg != nil {
		// Self-monitoring (GET /metrics) in addition to OTLP. It cannot take
		// the service down: if its address is taken, that is logged and the
		// metrics still go out over OTLP.
		go func() {
			up := func(url string) { logger.Info("metrics endpoint up for Prometheus", "url", url) }
			if err := exporter.ServeMetrics(ctx, cfg.MetricsListen, promReg, up); err != nil {
				logger.Error("metrics endpoint (--metrics-listen) not served; metrics still go over OTLP", "error", err)
			}
		}()
	}
	instanceID, instanceIDSource := exp.InstanceID()
	logger.Info("exporting telemetry", "to", exp.Describe(),
		"service.instance.id", instanceID, "service.instance.id_from", instanceIDSource)

	queue, err := openQueue(cfg.Spool, logger)
	if err != nil {
		return nil, err
	}
	undo = append(undo, queue.Close)
	dead, err := openDeadLetters(cfg.Spool, logger)
	if err != nil {
		return nil, err
	}
	health := &exportHealth{details: cfg.ReadyzDetails}
	pmp, err := pump.New(pump.Options{
		Queue:       queue,
		Map:         mapper.Map,
		Exporter:    exp,
		Meter:       exp.Meter(),
		Logger:      logger,
		OnHealth:    health.set,
		DeadLetters: dead,
		Workers:     cfg.PumpWorkers,
	})
	if err != nil {
		return nil, err
	}
	in, err := intake.New(queue, exp.Meter())
	if err != nil {
		return nil, err
	}
	disk, _ := queue.(*spool.Disk)
	state := &intakeState{queue: queue, disk: disk, maxBody: cfg.MaxBodyBytes}
	inflight := inflightBudget(cfg, effectiveMemoryLimit())
	rcv, err := receiver.New(in, authn.Authenticator,
		receiver.WithPath(cfg.Path),
		receiver.WithMaxBodyBytes(cfg.MaxBodyBytes),
		receiver.WithMaxConcurrent(cfg.Security.HTTP.MaxConcurrent),
		receiver.WithMaxInflightBytes(inflight),
		receiver.WithAcceptCheck(state.accepting),
		receiver.WithReadyCheck(state.ready),
		receiver.WithReadyDetails(cfg.ReadyzDetails),
		receiver.WithLogger(logger),
		receiver.WithMeter(exp.Meter()))
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	undo = append(undo, ln.Close)
	limits := cfg.Security.HTTP
	srvOpts := []receiver.ServerOption{
		receiver.WithServerLogger(logger),
		receiver.WithServerMeter(exp.Meter()),
		receiver.WithMaxHeaderBytes(limits.MaxHeaderBytes),
		receiver.WithReadHeaderTimeout(limits.ReadHeaderTimeout),
		receiver.WithReadTimeout(limits.ReadTimeout),
		receiver.WithWriteTimeout(limits.WriteTimeout),
		receiver.WithIdleTimeout(limits.IdleTimeout),
	}
	reloaders := authn.Reloaders
	var certs *receiver.CertReloader
	if cfg.Security.TLSCert != "" {
		certs, err = receiver.NewCertReloader(cfg.Security.TLSCert, cfg.Security.TLSKey, receiver.WithCertLogger(logger))
		if err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
		go certs.Watch(ctx)
		srvOpts = append(srvOpts, receiver.WithTLSConfig(certs.TLSConfig()))
		reloaders = append(reloaders, certs.Reload)
	}
	reloadOnSIGHUP(ctx, s.opts.Reload, logger, reloaders...)
	if cfg.PprofListen != "" {
		go func() {
			if err := pprofserver.Serve(ctx, cfg.PprofListen, logger); err != nil {
				logger.Error("pprof endpoint stopped", "error", err)
			}
		}()
	}
	srv, err := receiver.NewServer(cfg.Listen, health.wrap(rcv.Handler(), state.ready), srvOpts...)
	if err != nil {
		return nil, err
	}
	r := &running{exp: exp, queue: queue, disk: disk, pump: pmp, rcv: rcv, srv: srv, health: health,
		pumpDone: make(chan error, 1), serveErr: make(chan error, 1)}
	var pumpCtx context.Context
	pumpCtx, r.stopPump = context.WithCancel(context.Background())
	go func() { r.pumpDone <- pmp.Run(pumpCtx) }()
	go func() {
		if certs != nil {
			r.serveErr <- srv.ServeTLS(ln, "", "")
			return
		}
		r.serveErr <- srv.Serve(ln)
	}()
	rcv.SetReady(true)
	logger.Info("listening for Watson Assistant log webhooks",
		"address", ln.Addr().String(), "path", cfg.Path, "auth", cfg.Auth, "tls", certs != nil,
		"redaction", opts.Redactor.Enabled(),
		"capture_content", cfg.CaptureContent, "spool", describeSpool(cfg.Spool),
		"max_inflight_bytes", inflight, "version", s.opts.Version)
	s.addr = ln.Addr()
	close(s.listening)
	return r, nil
}

// wait serves until ctx ends (nil) or the server or the pump stops (why).
func (s *Service) wait(ctx context.Context, r *running) error {
	select {
	case <-ctx.Done():
		s.logger.Info("shutting down: finishing requests, exporting queued events", "drain_timeout", s.cfg.ShutdownTimeout)
		return nil
	case err := <-r.serveErr:
		return fmt.Errorf("http server: %w", err)
	case err := <-r.pumpDone: // only on a bug: Run returns early only when stopped
		r.pumpDone <- err
		return fmt.Errorf("export pump stopped: %w", err)
	}
}

// shutdown stops in order within --drain-timeout: not ready and no new
// connections, the requests in flight answered (their events queued), the
// pump drained (or stopped at the deadline), the queue closed and what it
// still holds reported, and last the telemetry flushed. It returns runErr
// joined with whatever went wrong.
func (s *Service) shutdown(r *running, runErr error) error {
	cfg, logger := s.cfg, s.logger
	defer r.stopPump()
	// One deadline for everything; the last part of it is kept for the
	// final metrics flush.
	start := time.Now()
	deadline := start.Add(cfg.ShutdownTimeout)
	reserve := min(2*time.Second, cfg.ShutdownTimeout/4)
	r.health.stop()
	r.rcv.SetReady(false)
	shutdownCtx, cancel := context.WithDeadline(context.Background(), deadline.Add(-reserve))
	defer cancel()
	// Stops listening (new connections are refused) and waits for the
	// requests in flight: their events are queued before they are answered.
	if err := r.srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = errors.Join(runErr, fmt.Errorf("draining requests: %w", err))
	}
	r.pump.Drain()
	select {
	case <-r.pumpDone:
	case <-shutdownCtx.Done():
		r.stopPump()
		<-r.pumpDone
	}
	// Close first: a request still in flight after the server's deadline
	// gets 503 from a closed queue, so nothing is acknowledged after the count.
	if err := r.queue.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("closing the spool: %w", err))
	}
	left := r.queue.Stats()
	var spoolGone error
	if r.disk != nil {
		_ = r.disk.Check() // a removal without traffic since is found here
		spoolGone = r.disk.Err()
	}
	switch {
	case spoolGone != nil:
		// The events are in a file that no longer has a name: they go with
		// the process. Never say they are left in the spool.
		logger.Error("spool removed while running: events LOST", "events", left.Events, "spool", cfg.Spool.Dir, "error", spoolGone)
		runErr = errors.Join(runErr, fmt.Errorf("the spool was removed while running; %d accepted events were not exported: %w", left.Events, spoolGone))
	case left.Events > 0 && cfg.Spool.Dir != "":
		logger.Warn("drain timeout: events left in the spool, exported at the next start",
			"events", left.Events, "bytes", left.Bytes, "spool", cfg.Spool.Dir)
	case left.Events > 0:
		logger.Error("drain timeout: events LOST (no --spool-dir to keep them)", "events", left.Events)
		runErr = errors.Join(runErr, fmt.Errorf("%d accepted events were not exported", left.Events))
	}
	flushCtx, cancelFlush := context.WithDeadline(context.Background(), deadline)
	defer cancelFlush()
	if err := r.exp.Shutdown(flushCtx); err != nil {
		if cfg.Spool.Dir != "" {
			// The events are safe in the spool; only the service's own
			// metrics since the last export are lost: not a failed exit.
			logger.Warn("final metrics flush failed", "error", err)
		} else {
			runErr = errors.Join(runErr, fmt.Errorf("flushing telemetry: %w", err))
		}
	}
	if runErr == nil {
		logger.Info("stopped cleanly", "took", time.Since(start).Round(time.Millisecond))
	}
	return runErr
}
