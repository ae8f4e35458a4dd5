package exporter

import (
	"fmt"
	"os"
	"strings"

	"github.com/assistant-otel/assistant-otel/exporter/internal/otlpclient"
)

// Standard OpenTelemetry environment variables read here (the OTLP exporters
// read the rest: headers, timeouts, TLS, compression).
const (
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envMetricInterval = "OTEL_METRIC_EXPORT_INTERVAL"
)

// Protocols of OTLP.
const (
	protocolGRPC = "grpc"
	protocolHTTP = "http/protobuf"
)

// output says where one signal goes.
type output int

const (
	outputOTLP    output = iota // OTLP over protocol to endpoint
	outputConsole               // the console writer
	outputNone                  // nowhere
	outputOther                 // an exporter only autoexport knows (e.g. prometheus)
)

// signalConfig is the resolved export configuration of one signal.
type signalConfig struct {
	signal string // traces, logs or metrics
	name   string // OTEL_<SIGNAL>_EXPORTER as set, "" if unset
	output output
	// protocol and endpoint are set for outputOTLP. protocolSet says whether
	// the protocol was configured (else it is the grpc default).
	protocol    string
	protocolSet bool
	endpoint    string // for display only: without credentials or query
}

// exportConfig is the export configuration read from the environment.
type exportConfig struct {
	// embedded is true when nothing at all is configured: every signal
	// then goes to the console.
	embedded bool
	signals  [3]signalConfig // traces, logs, metrics
}

func (c exportConfig) traces() signalConfig  { return c.signals[0] }
func (c exportConfig) logs() signalConfig    { return c.signals[1] }
func (c exportConfig) metrics() signalConfig { return c.signals[2] }

func getenv(key string) string { return strings.TrimSpace(os.Getenv(key)) }

// exportConfigFromEnv reads the standard OTEL_* variables. An empty variable
// counts as unset, as in autoexport.
func exportConfigFromEnv() (exportConfig, error) {
	var c exportConfig
	c.embedded = getenv(envEndpoint) == ""
	for i, signal := range []string{signalTraces, signalLogs, signalMetrics} {
		upper := strings.ToUpper(signal)
		if getenv("OTEL_"+upper+"_EXPORTER") != "" || getenv("OTEL_EXPORTER_OTLP_"+upper+"_ENDPOINT") != "" {
			c.embedded = false
		}
		c.signals[i] = signalConfig{signal: signal}
	}
	for i := range c.signals {
		s := &c.signals[i]
		if c.embedded {
			s.output = outputConsole
			continue
		}
		if err := s.resolve(); err != nil {
			return exportConfig{}, err
		}
	}
	return c, nil
}

// CheckEnv checks the OTEL_* variables that New (WithSynchronous) refuses:
// sampler, exporters, protocols and, for the OTLP client, endpoints, TLS
// files, compression and timeouts. It builds nothing, so that a command
// refuses a bad value before it starts.
func CheckEnv() error {
	if _, _, err := samplerFromEnv(); err != nil {
		return fmt.Errorf("sampler: %w", err)
	}
	cfg, err := exportConfigFromEnv()
	for _, s := range []signalConfig{cfg.traces(), cfg.logs()} {
		if err == nil && cfg.wireable() && s.output == outputOTLP {
			_, err = otlpclient.FromEnv(otlpclient.Signal(s.signal), getenv)
		}
	}
	return err
}

func (s *signalConfig) resolve() error {
	upper := strings.ToUpper(s.signal)
	s.name = getenv("OTEL_" + upper + "_EXPORTER")
	switch s.name {
	case "", "otlp":
		s.output = outputOTLP
	case "console":
		s.output = outputConsole
		return nil
	case "none":
		s.output = outputNone
		return nil
	default:
		s.output = outputOther // autoexport decides, and rejects unknown names
		return nil
	}

	s.protocol = getenv("OTEL_EXPORTER_OTLP_" + upper + "_PROTOCOL")
	if s.protocol == "" {
		s.protocol = getenv(envProtocol)
	}
	s.protocolSet = s.protocol != ""
	if !s.protocolSet {
		s.protocol = protocolGRPC
	}
	if s.protocol != protocolGRPC && s.protocol != protocolHTTP {
		return fmt.Errorf("OTLP protocol %q for %s: want %q or %q", s.protocol, s.signal, protocolGRPC, protocolHTTP)
	}

	if e := getenv("OTEL_EXPORTER_OTLP_" + upper + "_ENDPOINT"); e != "" {
		s.endpoint = displayEndpoint(e)
	} else if e := getenv(envEndpoint); e != "" {
		s.endpoint = displayEndpoint(e)
	} else if s.protocol == protocolGRPC {
		s.endpoint = "localhost:4317 [default]"
	} else {
		s.endpoint = "localhost:4318 [default]"
	}
	return nil
}

// displayEndpoint drops from an endpoint what must not be logged: user
// information, query and fragment.
func displayEndpoint(e string) string { return otlpclient.Config{Endpoint: e}.DisplayEndpoint() }

// describe says in one line where each signal goes, grouping signals that go
// to the same place, and which sampler is used. It never includes header
// values.
func (c exportConfig) describe(sampler string) string {
	if c.embedded {
		return "console (no OTLP endpoint configured); sampler " + sampler
	}
	var labels []string
	signals := map[string][]string{}
	for _, s := range c.signals {
		var label string
		switch s.output {
		case outputOTLP:
			label = "otlp/" + s.protocol + " → " + s.endpoint
		case outputConsole:
			label = "console"
		case outputNone:
			label = "none"
		default:
			label = s.name
		}
		if _, ok := signals[label]; !ok {
			labels = append(labels, label)
		}
		signals[label] = append(signals[label], s.signal)
	}
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(l)
		b.WriteString(" (")
		b.WriteString(strings.Join(signals[l], ", "))
		b.WriteString("); ")
	}
	b.WriteString("sampler ")
	b.WriteString(sampler)
	return b.String()
}
