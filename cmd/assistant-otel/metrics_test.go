package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
)

// sample is one series of a Prometheus text exposition.
type sample struct {
	name, labels string
	value        float64
}

var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)`)

func scrape(t *testing.T, url string) []sample {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	var out []sample
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := sampleRE.FindStringSubmatch(sc.Text())
		if m == nil || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		out = append(out, sample{m[1], m[2], v})
	}
	return out
}

func sum(samples []sample, name string) (float64, bool) {
	total, seen := 0.0, false
	for _, s := range samples {
		if s.name == name {
			total += s.value
			seen = true
		}
	}
	return total, seen
}

var metricsUpRE = regexp.MustCompile(`metrics endpoint up.*url=(http://127\.0\.0\.1:\d+/metrics)`)

// TestMetricsEndpointWhileCollectorDown: the service exports to an endpoint
// where nothing listens, and its own GET /metrics (on a port of its own,
// --metrics-listen 127.0.0.1:0) shows assistant_otel_export_errors_total
// rising and assistant_otel_spool_oldest_age_seconds above 0, every series
// labelled service_instance_id, the Go runtime and process metrics too, and
// the service's metric names those of the Collector's prometheus exporter
// (deploy/prometheus/metric-names.txt).
func TestMetricsEndpointWhileCollectorDown(t *testing.T) {
	tmpl, err := loadgen.LoadTemplates("../../testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", freePort(t)), // nothing listens: exports fail
		"OTEL_METRIC_EXPORT_INTERVAL=300",
		"OTEL_RESOURCE_ATTRIBUTES=service.instance.id=replica-a",
	), "--spool-dir", filepath.Join(t.TempDir(), "spool"), "--metrics-listen", "127.0.0.1:0", "--drain-timeout", "1s")
	res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: loadgen.Make(tmpl, 5), Concurrency: 2})
	if len(res.Acked) != 5 {
		t.Fatalf("acked %d of 5 (%v)", len(res.Acked), res.Statuses)
	}
	var url string
	deadline := time.Now().Add(20 * time.Second)
	for url == "" && time.Now().Before(deadline) {
		if m := metricsUpRE.FindStringSubmatch(svc.stderr.String()); m != nil {
			url = m[1]
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if url == "" {
		t.Fatalf("no metrics endpoint logged:\n%s", svc.stderr.String())
	}
	if strings.Contains(url, strings.TrimPrefix(strings.TrimSuffix(svc.url, "/webhook"), "http://")) {
		t.Fatalf("metrics endpoint %s on the webhook listener %s", url, svc.url)
	}
	// The webhook listener does not serve /metrics.
	if resp, err := http.Get(strings.Replace(svc.url, "/webhook", "/metrics", 1)); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "assistant_otel_") {
			t.Error("the webhook listener serves the metrics")
		}
	}

	var first, errs, age float64
	var samples []sample
	for {
		samples = scrape(t, url)
		var seen bool
		errs, seen = sum(samples, "assistant_otel_export_errors_total")
		age, _ = sum(samples, "assistant_otel_spool_oldest_age_seconds")
		if seen && first == 0 {
			first = errs
		}
		if first > 0 && errs > first && age > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("export errors %v (first %v), oldest age %v: want errors rising and age > 0", errs, first, age)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("export errors %v → %v, oldest queued event %.2fs old (%d series)", first, errs, age, len(samples))

	names, err := os.ReadFile("../../deploy/prometheus/metric-names.txt")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, l := range strings.Split(string(names), "\n") {
		known[strings.TrimSpace(l)] = true
	}
	goSeen, processSeen := false, false
	for _, s := range samples {
		if !strings.Contains(s.labels, `service_instance_id="replica-a"`) {
			t.Errorf("%s%s: no service_instance_id=\"replica-a\"", s.name, s.labels)
		}
		goSeen = goSeen || s.name == "go_goroutines"
		processSeen = processSeen || s.name == "process_resident_memory_bytes"
		if (strings.HasPrefix(s.name, "assistant_otel_") || strings.HasPrefix(s.name, "watson_assistant_")) && !known[s.name] {
			t.Errorf("%s: not a name of deploy/prometheus/metric-names.txt (the Collector's translation)", s.name)
		}
	}
	if !goSeen || !processSeen {
		t.Errorf("Go runtime (go_goroutines %v) or process (process_resident_memory_bytes %v) metrics missing", goSeen, processSeen)
	}
}

// TestMetricsEndpointNamesMatchCollector: the service exports to the real
// Collector (the shipped otel-collector.yaml) and serves its own /metrics;
// the service's series names on the two paths are the same set, and the
// direct path's service_instance_id is the replica the Collector path names
// (its instance label). Needs ASSISTANT_OTEL_OTELCOL.
func TestMetricsEndpointNamesMatchCollector(t *testing.T) {
	bin := otelcolBinary(t)
	tmpl, err := loadgen.LoadTemplates("../../testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}
	jaeger, loki := otlptest.StartGRPC(t), otlptest.StartHTTP(t)
	grpcPort, promExpPort, _ := shippedCollector(t, bin, t.TempDir(), jaeger, loki, nil)
	svc := startService(t, cleanEnv(
		"ASSISTANT_OTEL_SECRET="+testSecret,
		fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", grpcPort),
		"OTEL_EXPORTER_OTLP_INSECURE=true",
		"OTEL_METRIC_EXPORT_INTERVAL=300",
	), "--spool-dir", filepath.Join(t.TempDir(), "spool"), "--metrics-listen", "127.0.0.1:0", "--max-event-age", "87600h")
	res := loadgen.Run(t.Context(), loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: loadgen.Make(tmpl, 40), Concurrency: 2})
	if len(res.Acked) != 40 {
		t.Fatalf("acked %d of 40 (%v)", len(res.Acked), res.Statuses)
	}
	var direct string
	waitFor(t, 20*time.Second, "metrics endpoint logged", func() string {
		if m := metricsUpRE.FindStringSubmatch(svc.stderr.String()); m != nil {
			direct = m[1]
			return ""
		}
		return "not yet"
	})
	id, _ := instanceIDOf(t, svc)
	ours := func(name string) bool {
		return strings.HasPrefix(name, "assistant_otel_") || strings.HasPrefix(name, "watson_assistant_") || strings.HasPrefix(name, "gen_ai_")
	}
	names := func(samples []sample) map[string]bool {
		set := map[string]bool{}
		for _, s := range samples {
			if ours(s.name) {
				set[s.name] = true
			}
		}
		return set
	}
	var viaCollector, viaDirect map[string]bool
	var colSamples []sample
	waitFor(t, 30*time.Second, "the same series names on both paths", func() string {
		colSamples = scrape(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", promExpPort))
		viaCollector, viaDirect = names(colSamples), names(scrape(t, direct))
		var diff []string
		for n := range viaDirect {
			if !viaCollector[n] {
				diff = append(diff, "only direct: "+n)
			}
		}
		for n := range viaCollector {
			if !viaDirect[n] {
				diff = append(diff, "only Collector: "+n)
			}
		}
		if len(diff) > 0 || !viaDirect["watson_assistant_turns_total"] {
			return fmt.Sprint(diff)
		}
		return ""
	})
	for _, s := range colSamples {
		if s.name == "watson_assistant_turns_total" && !strings.Contains(s.labels, `instance="`+id+`"`) {
			t.Errorf("Collector path %s%s: instance is not %s", s.name, s.labels, id)
		}
	}
	for _, s := range scrape(t, direct) {
		if !strings.Contains(s.labels, `service_instance_id="`+id+`"`) {
			t.Errorf("direct path %s%s: service_instance_id is not %s", s.name, s.labels, id)
		}
	}
	t.Logf("%d series names of the service, the same on both paths; replica %s", len(viaDirect), id)
}
