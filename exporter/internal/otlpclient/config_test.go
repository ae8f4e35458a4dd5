package otlpclient

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SDK source files referred to below, in the module cache:
//
//	TG = otlptrace/otlptracegrpc@v1.47.0/internal/otlpconfig/{envconfig,options}.go
//	TH = otlptrace/otlptracehttp@v1.47.0/internal/otlpconfig/{envconfig,options}.go, client.go
//	EC = otlptrace/otlptrace{grpc,http}@v1.47.0/internal/envconfig/envconfig.go
//	LG = otlplog/otlploggrpc@v0.23.0/config.go, client.go
//	LH = otlplog/otlploghttp@v0.23.0/config.go, client.go
const (
	tr = "OTEL_EXPORTER_OTLP_TRACES_"
	lg = "OTEL_EXPORTER_OTLP_LOGS_"
	gn = "OTEL_EXPORTER_OTLP_"
)

func TestFromEnv(t *testing.T) {
	p := newPKI(t)
	type want struct {
		protocol, endpoint string
		insecure, tls      bool
		headers            map[string]string
		compression        string
		timeout            time.Duration
	}
	grpcTLS := func(endpoint string) want {
		return want{protocol: "grpc", endpoint: endpoint, timeout: 10 * time.Second}
	}
	grpcPlain := func(endpoint string) want {
		w := grpcTLS(endpoint)
		w.insecure = true
		return w
	}
	httpURL := func(u string) want {
		return want{protocol: "http/protobuf", endpoint: u, insecure: strings.HasPrefix(u, "http:"), timeout: 10 * time.Second}
	}
	with := func(w want, f func(*want)) want { f(&w); return w }

	tests := []struct {
		name    string
		signal  Signal
		env     map[string]string
		mirrors string // the SDK behaviour the case mirrors
		want    want
		wantErr []string // substrings of the error
	}{
		// Defaults.
		{name: "traces grpc default", signal: Traces, env: nil,
			mirrors: "TG options.go NewGRPCConfig: localhost:4317, Insecure unset → credentials.NewTLS(nil)",
			want:    grpcTLS("localhost:4317")},
		{name: "logs grpc default", signal: Logs, env: nil,
			mirrors: "LG config.go newConfig defaultEndpoint; client.go newGRPCDialOptions default TLS",
			want:    grpcTLS("localhost:4317")},
		{name: "traces http default", signal: Traces, env: map[string]string{gn + "PROTOCOL": "http/protobuf"},
			mirrors: "TH options.go NewHTTPConfig localhost:4318 + DefaultTracesPath; client.go getScheme (Insecure unset → https)",
			want:    httpURL("https://localhost:4318/v1/traces")},
		{name: "logs http default", signal: Logs, env: map[string]string{gn + "PROTOCOL": "http/protobuf"},
			mirrors: "LH config.go defaultEndpoint, defaultPath; client.go newHTTPClient scheme https unless insecure",
			want:    httpURL("https://localhost:4318/v1/logs")},

		// Protocol.
		{name: "signal protocol wins", signal: Traces, env: map[string]string{gn + "PROTOCOL": "grpc", tr + "PROTOCOL": "http/protobuf"},
			mirrors: "TG envconfig.go getOptionsFromEnv: WithEnvProtocol(TRACES_PROTOCOL) applied after PROTOCOL",
			want:    httpURL("https://localhost:4318/v1/traces")},
		{name: "empty signal protocol is unset", signal: Logs, env: map[string]string{gn + "PROTOCOL": "http/protobuf", lg + "PROTOCOL": "  "},
			mirrors: "EC envconfig.go GetEnvValue: TrimSpace, empty = unset",
			want:    httpURL("https://localhost:4318/v1/logs")},
		{name: "http/json refused", signal: Traces, env: map[string]string{gn + "PROTOCOL": "http/json"},
			mirrors: "(TG WithEnvProtocol accepts http/json; the requests here are protobuf)",
			wantErr: []string{gn + "PROTOCOL", "http/json", "not supported"}},
		{name: "unknown protocol", signal: Traces, env: map[string]string{tr + "PROTOCOL": "udp"},
			mirrors: "(TG WithEnvProtocol silently takes http/protobuf)",
			wantErr: []string{tr + "PROTOCOL", `"udp"`}},

		// gRPC endpoint and security, traces.
		{name: "traces grpc http URL", signal: Traces, env: map[string]string{gn + "ENDPOINT": "http://collector:4317"},
			mirrors: "TG envconfig.go withEndpointForGRPC (http → u.Host), withEndpointScheme (http → WithInsecure)",
			want:    grpcPlain("collector:4317")},
		{name: "traces grpc https URL with path", signal: Traces, env: map[string]string{gn + "ENDPOINT": "https://collector:4317/ignored"},
			mirrors: "TG withEndpointForGRPC (https → u.Host), withEndpointScheme (https → WithSecure)",
			want:    grpcTLS("collector:4317")},
		{name: "traces grpc host:port", signal: Traces, env: map[string]string{gn + "ENDPOINT": "collector:4317"},
			mirrors: "TG withEndpointForGRPC (scheme \"collector\" → u.String()), withEndpointScheme (→ WithSecure)",
			want:    grpcTLS("collector:4317")},
		{name: "traces grpc host:port insecure", signal: Traces, env: map[string]string{gn + "ENDPOINT": "collector:4317", gn + "INSECURE": "TRUE"},
			mirrors: "TG getOptionsFromEnv: WithBool(INSECURE) after the endpoint; EC WithBool EqualFold",
			want:    grpcPlain("collector:4317")},
		{name: "traces grpc //host:port", signal: Traces, env: map[string]string{gn + "ENDPOINT": "//collector:4317"},
			mirrors: "TG withEndpointForGRPC (no scheme, host → path.Join(u.Host, u.Path))",
			want:    grpcTLS("collector:4317")},
		{name: "traces grpc unix", signal: Traces, env: map[string]string{gn + "ENDPOINT": "unix:///run/otel.sock"},
			mirrors: "TG withEndpointForGRPC (→ u.String()), withEndpointScheme (unix → WithInsecure)",
			want:    grpcPlain("unix:///run/otel.sock")},
		{name: "traces grpc unknown scheme", signal: Traces, env: map[string]string{gn + "ENDPOINT": "dns:///collector:4317"},
			mirrors: "TG withEndpointForGRPC (→ u.String()), withEndpointScheme (→ WithSecure)",
			want:    grpcTLS("dns:///collector:4317")},
		{name: "traces signal endpoint wins", signal: Traces, env: map[string]string{gn + "ENDPOINT": "http://a:4317", tr + "ENDPOINT": "https://b:4317"},
			mirrors: "TG getOptionsFromEnv: TRACES_ENDPOINT options applied after ENDPOINT",
			want:    grpcTLS("b:4317")},
		{name: "traces INSECURE overrides https", signal: Traces, env: map[string]string{tr + "ENDPOINT": "https://b:4317", gn + "INSECURE": "true"},
			mirrors: "TG getOptionsFromEnv: withInsecure applied after withEndpointScheme",
			want:    grpcPlain("b:4317")},
		{name: "traces signal INSECURE wins", signal: Traces, env: map[string]string{gn + "ENDPOINT": "http://a:4317", gn + "INSECURE": "true", tr + "INSECURE": "false"},
			mirrors: "TG getOptionsFromEnv: WithBool(TRACES_INSECURE) after WithBool(INSECURE)",
			want:    grpcTLS("a:4317")},
		{name: "empty signal endpoint is unset", signal: Traces, env: map[string]string{gn + "ENDPOINT": " http://a:4317 ", tr + "ENDPOINT": ""},
			mirrors: "EC GetEnvValue: TrimSpace, empty = unset",
			want:    grpcPlain("a:4317")},

		// gRPC endpoint and security, logs.
		{name: "logs grpc https scheme beats INSECURE", signal: Logs, env: map[string]string{gn + "ENDPOINT": "https://c:4317", gn + "INSECURE": "true"},
			mirrors: "LG config.go newConfig: loadInsecureFromEnvEndpoint before getEnv(envInsecure)",
			want:    grpcTLS("c:4317")},
		{name: "logs grpc http scheme beats INSECURE", signal: Logs, env: map[string]string{lg + "ENDPOINT": "http://c:4317", lg + "INSECURE": "false"},
			mirrors: "LG insecureFromScheme (non-https scheme → insecure)",
			want:    grpcPlain("c:4317")},
		{name: "logs grpc unknown scheme with host", signal: Logs, env: map[string]string{gn + "ENDPOINT": "grpc://c:4317"},
			mirrors: "LG convEndpoint (u.Host), insecureFromScheme (non-https → insecure)",
			want:    grpcPlain("c:4317")},
		{name: "traces grpc unknown scheme with host", signal: Traces, env: map[string]string{gn + "ENDPOINT": "grpc://c:4317"},
			mirrors: "TG withEndpointForGRPC (→ u.String()), withEndpointScheme (→ secure)",
			want:    grpcTLS("grpc://c:4317")},
		{name: "logs grpc //host:port uses INSECURE", signal: Logs, env: map[string]string{gn + "ENDPOINT": "//c:4317", lg + "INSECURE": "true"},
			mirrors: "LG insecureFromScheme (empty scheme → unset) then getEnv(envInsecure)",
			want:    grpcPlain("c:4317")},
		{name: "logs grpc host:port uses INSECURE", signal: Logs, env: map[string]string{gn + "ENDPOINT": "c:4317", gn + "INSECURE": "true"},
			mirrors: "(LG convEndpoint yields an empty target here; the trace rule is used)",
			want:    grpcPlain("c:4317")},
		{name: "logs grpc host:port secure by default", signal: Logs, env: map[string]string{lg + "ENDPOINT": "c:4317"},
			mirrors: "(LG convEndpoint yields an empty target here; the trace rule is used)",
			want:    grpcTLS("c:4317")},
		{name: "logs INSECURE case-insensitive", signal: Logs, env: map[string]string{gn + "INSECURE": "True"},
			mirrors: "LG convInsecure (strings.ToLower)",
			want:    grpcPlain("localhost:4317")},
		{name: "logs signal INSECURE wins", signal: Logs, env: map[string]string{gn + "INSECURE": "true", lg + "INSECURE": "false"},
			mirrors: "LG envInsecure order: LOGS first",
			want:    grpcTLS("localhost:4317")},

		// OTLP/HTTP URLs.
		{name: "traces http generic endpoint gets path", signal: Traces, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "http://c:4318/otlp/"},
			mirrors: "TH envconfig.go getOptionsFromEnv: URLPath = path.Join(u.Path, DefaultTracesPath)",
			want:    httpURL("http://c:4318/otlp/v1/traces")},
		{name: "traces http signal endpoint as is", signal: Traces, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "http://a:4318", tr + "ENDPOINT": "https://c/custom/traces"},
			mirrors: "TH getOptionsFromEnv: TRACES_ENDPOINT URLPath = u.Path",
			want:    httpURL("https://c/custom/traces")},
		{name: "traces http signal endpoint without path", signal: Traces, env: map[string]string{tr + "PROTOCOL": "http/protobuf", tr + "ENDPOINT": "http://c:4318"},
			mirrors: "TH getOptionsFromEnv: empty path → \"/\"",
			want:    httpURL("http://c:4318/")},
		{name: "traces http drops user info and query", signal: Traces, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "http://u:p@c:4318/?k=v#f"},
			mirrors: "TH client.go newRequest: url.URL{Scheme, Host: u.Host, Path}",
			want:    httpURL("http://c:4318/v1/traces")},
		{name: "traces http INSECURE overrides https", signal: Traces, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "https://c:4318", gn + "INSECURE": "true"},
			mirrors: "TH getOptionsFromEnv withInsecure after withEndpointScheme; client.go getScheme",
			want:    httpURL("http://c:4318/v1/traces")},
		{name: "logs http generic endpoint gets path", signal: Logs, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "http://c:4318"},
			mirrors: "LH config.go convPath: path.Join(u.Path, defaultPath)",
			want:    httpURL("http://c:4318/v1/logs")},
		{name: "logs http signal endpoint as is", signal: Logs, env: map[string]string{lg + "PROTOCOL": "http/protobuf", lg + "ENDPOINT": "https://c:4318"},
			mirrors: "LH config.go convPathExact (empty path → \"/\")",
			want:    httpURL("https://c:4318/")},
		{name: "logs http https beats INSECURE", signal: Logs, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "https://c:4318", gn + "INSECURE": "true"},
			mirrors: "LH config.go loadInsecureFromEnvEndpoint before getenv(envInsecure)",
			want:    httpURL("https://c:4318/v1/logs")},
		{name: "http endpoint without host", signal: Traces, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "ENDPOINT": "collector:4318"},
			mirrors: "(TH would send to https:///v1/traces)",
			wantErr: []string{gn + "ENDPOINT", "collector:4318", "host"}},

		// Headers.
		{name: "headers decoded, invalid entries skipped", signal: Traces,
			env:     map[string]string{gn + "HEADERS": "a=b, C-D = x%20y ,bad,=v,k e=v,k=%zz,e=,f=1=2"},
			mirrors: "EC envconfig.go stringToHeader: Cut on '=', isValidHeaderKey, url.PathUnescape, TrimSpace",
			want: with(grpcTLS("localhost:4317"), func(w *want) {
				w.headers = map[string]string{"a": "b", "C-D": "x y", "e": "", "f": "1=2"}
			})},
		{name: "signal headers replace generic", signal: Logs,
			env:     map[string]string{gn + "HEADERS": "a=1,b=2", lg + "HEADERS": "c=3"},
			mirrors: "LG envHeaders order (LOGS first, no merge); TG WithHeaders(TRACES_HEADERS) replaces",
			want:    with(grpcTLS("localhost:4317"), func(w *want) { w.headers = map[string]string{"c": "3"} })},

		// Compression and timeout.
		{name: "compression gzip", signal: Traces, env: map[string]string{gn + "COMPRESSION": "gzip"},
			mirrors: "TG envconfig.go WithEnvCompression",
			want:    with(grpcTLS("localhost:4317"), func(w *want) { w.compression = "gzip" })},
		{name: "signal compression none wins", signal: Logs, env: map[string]string{gn + "COMPRESSION": "gzip", lg + "COMPRESSION": "none"},
			mirrors: "LG convCompression, envCompression order",
			want:    grpcTLS("localhost:4317")},
		{name: "unknown compression", signal: Traces, env: map[string]string{tr + "COMPRESSION": "GZIP"},
			mirrors: "(TG takes anything but gzip as none; LG ignores it)",
			wantErr: []string{tr + "COMPRESSION", `"GZIP"`}},
		{name: "timeout milliseconds, signal wins", signal: Traces, env: map[string]string{gn + "TIMEOUT": "30000", tr + "TIMEOUT": "1500"},
			mirrors: "EC envconfig.go WithDuration (Atoi × ms); TG TRACES_TIMEOUT after TIMEOUT",
			want:    with(grpcTLS("localhost:4317"), func(w *want) { w.timeout = 1500 * time.Millisecond })},
		{name: "timeout zero", signal: Logs, env: map[string]string{gn + "TIMEOUT": "0"},
			mirrors: "LG convDuration; client exportContext: no deadline when not > 0",
			want:    with(grpcTLS("localhost:4317"), func(w *want) { w.timeout = 0 })},
		{name: "bad timeout", signal: Logs, env: map[string]string{lg + "TIMEOUT": "10s"},
			mirrors: "(LG logs it and falls back to the generic variable)",
			wantErr: []string{lg + "TIMEOUT", `"10s"`}},
		{name: "negative timeout", signal: Traces, env: map[string]string{gn + "TIMEOUT": "-5"},
			mirrors: "(TG takes it as no timeout)",
			wantErr: []string{gn + "TIMEOUT"}},
		{name: "bad insecure", signal: Traces, env: map[string]string{gn + "INSECURE": "yes"},
			mirrors: "(EC WithBool takes anything but true as false)",
			wantErr: []string{gn + "INSECURE", `"yes"`}},
		{name: "bad URL", signal: Traces, env: map[string]string{gn + "ENDPOINT": "127.0.0.1:4317"},
			mirrors: "(EC WithURL logs the parse error and keeps localhost:4317)",
			wantErr: []string{gn + "ENDPOINT", "invalid URL"}},
		{name: "URL without host", signal: Logs, env: map[string]string{lg + "ENDPOINT": "http://"},
			mirrors: "(LG would dial an empty target)",
			wantErr: []string{lg + "ENDPOINT", "no host"}},

		// TLS.
		{name: "CA file", signal: Traces, env: map[string]string{gn + "CERTIFICATE": p.caFile, gn + "ENDPOINT": "https://127.0.0.1:4317"},
			mirrors: "EC WithCertPool; TG withTLSConfig → WithTLSClientConfig",
			want:    with(grpcTLS("127.0.0.1:4317"), func(w *want) { w.tls = true })},
		{name: "grpc TLS files beat http scheme", signal: Traces, env: map[string]string{tr + "CERTIFICATE": p.caFile, gn + "ENDPOINT": "http://127.0.0.1:4317"},
			mirrors: "TG options.go NewGRPCConfig: GRPCCredentials prioritized over Insecure",
			want:    with(grpcTLS("127.0.0.1:4317"), func(w *want) { w.tls = true })},
		{name: "logs grpc TLS files beat INSECURE", signal: Logs, env: map[string]string{gn + "CLIENT_CERTIFICATE": p.clientCert, gn + "CLIENT_KEY": p.clientKey, gn + "INSECURE": "true"},
			mirrors: "LG client.go newGRPCDialOptions: tlsCfg before insecure",
			want:    with(grpcTLS("localhost:4317"), func(w *want) { w.tls = true })},
		{name: "http TLS files with http URL", signal: Logs, env: map[string]string{gn + "PROTOCOL": "http/protobuf", gn + "CERTIFICATE": p.caFile, gn + "ENDPOINT": "http://c:4318"},
			mirrors: "LH client.go newHTTPClient / TH client.go Start: errInsecureEndpointWithTLS",
			wantErr: []string{"insecure HTTP endpoint", "http://c:4318/v1/logs", "TLS"}},
		{name: "missing CA file", signal: Logs, env: map[string]string{lg + "CERTIFICATE": filepath.Join(p.dir, "nope.pem")},
			mirrors: "(LG loadEnvTLS reports it to otel.Handle and drops TLS)",
			wantErr: []string{lg + "CERTIFICATE", filepath.Join(p.dir, "nope.pem")}},
		{name: "CA file without PEM", signal: Traces, env: map[string]string{gn + "CERTIFICATE": p.clientKey},
			mirrors: "(EC WithCertPool logs createCertPool's error)",
			wantErr: []string{gn + "CERTIFICATE", p.clientKey, "no PEM certificate"}},
		{name: "half a client pair", signal: Traces, env: map[string]string{tr + "CLIENT_CERTIFICATE": p.clientCert},
			mirrors: "(EC WithClientCert ignores an incomplete pair)",
			wantErr: []string{tr + "CLIENT_CERTIFICATE", tr + "CLIENT_KEY"}},
		{name: "unreadable client key", signal: Logs, env: map[string]string{gn + "CLIENT_CERTIFICATE": p.clientCert, gn + "CLIENT_KEY": filepath.Join(p.dir, "gone-key.pem")},
			mirrors: "(LG loadCertificates error → otel.Handle)",
			wantErr: []string{gn + "CLIENT_KEY", "gone-key.pem"}},
		{name: "mismatched client pair", signal: Logs, env: map[string]string{gn + "CLIENT_CERTIFICATE": p.clientCert, gn + "CLIENT_KEY": p.otherKey},
			mirrors: "(LG tls.X509KeyPair error → otel.Handle)",
			wantErr: []string{gn + "CLIENT_CERTIFICATE", gn + "CLIENT_KEY", "private key does not match"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromEnv(tc.signal, envOf(tc.env))
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("FromEnv = %v, want an error (mirrors %s)", got, tc.mirrors)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q (mirrors %s)", err, s, tc.mirrors)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("FromEnv: %v (mirrors %s)", err, tc.mirrors)
			}
			w := tc.want
			if got.Signal != tc.signal || got.Protocol != w.protocol || got.Endpoint != w.endpoint || got.Insecure != w.insecure ||
				(got.TLS != nil) != w.tls || !maps.Equal(got.Headers, w.headers) || got.Compression != w.compression || got.Timeout != w.timeout {
				t.Errorf("FromEnv =\n %+v headers=%v tls=%t\nwant\n %+v\n(mirrors %s)", got, got.Headers, got.TLS != nil, w, tc.mirrors)
			}
		})
	}
}

// TestFromEnvClientPairPrecedence checks which certificates are loaded.
func TestFromEnvClientPairPrecedence(t *testing.T) {
	p := newPKI(t)
	// EC WithClientCert(TRACES_*) applied after WithClientCert(generic);
	// LG loadEnvTLS: the LOGS pair first.
	for _, signal := range []Signal{Traces, Logs} {
		up := strings.ToUpper(string(signal))
		env := map[string]string{
			gn + "CLIENT_CERTIFICATE":       p.clientCert,
			gn + "CLIENT_KEY":               p.clientKey,
			gn + up + "_CLIENT_CERTIFICATE": p.otherCert,
			gn + up + "_CLIENT_KEY":         p.otherKey,
			gn + up + "_CERTIFICATE":        p.caFile,
			gn + "CERTIFICATE":              filepath.Join(p.dir, "not-read.pem"),
		}
		c, err := FromEnv(signal, envOf(env))
		if err != nil {
			t.Fatal(err)
		}
		if c.TLS == nil || len(c.TLS.Certificates) != 1 || !bytes.Equal(c.TLS.Certificates[0].Certificate[0], p.otherDER) {
			t.Errorf("%s: the signal client pair was not used", signal)
		}
		if c.TLS.RootCAs == nil || !c.TLS.RootCAs.Equal(p.pool) {
			t.Errorf("%s: the signal CA file was not used", signal)
		}
		delete(env, gn+up+"_CLIENT_CERTIFICATE")
		delete(env, gn+up+"_CLIENT_KEY")
		if c, err = FromEnv(signal, envOf(env)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.TLS.Certificates[0].Certificate[0], p.clientDER) {
			t.Errorf("%s: the generic client pair was not used", signal)
		}
	}
}

func TestFromEnvOSGetenv(t *testing.T) {
	t.Setenv(gn+"LOGS_ENDPOINT", "http://from-os:4317")
	c, err := FromEnv(Logs, nil)
	if err != nil || c.Endpoint != "from-os:4317" || !c.Insecure {
		t.Errorf("FromEnv(Logs, nil) = %v, %v", c, err)
	}
	if _, err := FromEnv("metrics", os.Getenv); err == nil {
		t.Error("FromEnv(metrics) did not fail")
	}
}

func TestDisplayEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"localhost:4317":                           "localhost:4317",
		"u:p@collector:4317":                       "collector:4317",
		"collector:4317?token=x":                   "collector:4317",
		"https://u:p@collector:4318/v1/traces?x=1": "https://collector:4318/v1/traces",
		"http://collector:4318/v1/logs#frag":       "http://collector:4318/v1/logs",
		"unix:///run/otel.sock":                    "unix:///run/otel.sock",
		"dns://u:p@8.8.8.8/collector:4317":         "dns://8.8.8.8/collector:4317",
	} {
		if got := (Config{Endpoint: in}).DisplayEndpoint(); got != want {
			t.Errorf("DisplayEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigStringHidesHeaderValues(t *testing.T) {
	c, err := FromEnv(Traces, envOf(map[string]string{gn + "HEADERS": secretKey + "=" + secretValue, gn + "ENDPOINT": "http://u:pw@c:4317"}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.Contains(s, secretValue) || !strings.Contains(s, secretKey) {
		t.Errorf("String() = %q", s)
	}
}
