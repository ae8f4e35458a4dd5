package main

// Two replicas, one Collector, one Prometheus (issue 12): two `assistant-otel serve` processes with
// their own spool directories export to the real Collector running the shipped otel-collector.yaml
// (only its addresses and directories moved to loopback and a temporary directory; Jaeger and Loki
// replaced by OTLP sinks), whose prometheus exporter a real Prometheus 3 scrapes with the shipped
// deploy/prometheus/prometheus.yml (and its rules). Binaries: ASSISTANT_OTEL_OTELCOL and
// ASSISTANT_OTEL_PROMETHEUS; without them the test fails under CI and skips elsewhere.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
)

func prometheusBinary(t *testing.T) string {
	t.Helper()
	return toolBinary(t, "ASSISTANT_OTEL_PROMETHEUS", "a real Prometheus 3", "prometheus")
}

// setPath sets m[path...] = v in a decoded YAML document, failing when the path is not there: the
// shipped file changed shape and the test must follow.
func setPath(t *testing.T, m map[string]any, v any, path ...string) {
	t.Helper()
	cur := m
	for i, p := range path {
		if i == len(path)-1 {
			if _, ok := cur[p]; !ok {
				t.Fatalf("shipped config has no %v", path)
			}
			cur[p] = v
			return
		}
		next, ok := cur[p].(map[string]any)
		if !ok {
			t.Fatalf("shipped config has no %v", path[:i+1])
		}
		cur = next
	}
}

func readYAMLFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func writeYAMLFile(t *testing.T, path string, m map[string]any) {
	t.Helper()
	b, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// background runs a program until the test ends, keeping its output for a failure.
func background(t *testing.T, name string, cmd *exec.Cmd) *syncBuffer {
	t.Helper()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return out
}

// shippedCollector runs the real Collector with the shipped otel-collector.yaml, changed only where a
// test must: every address on a free loopback port, the queue directory in dir, Jaeger and Loki
// replaced by the sinks, and whatever edit changes (nil: nothing). It returns the OTLP gRPC port,
// the prometheus exporter's port and the port of the Collector's own metrics, once it listens.
func shippedCollector(t *testing.T, bin, dir string, jaeger, loki *otlptest.Server, edit func(map[string]any)) (grpcPort, promExpPort, telemetryPort int) {
	t.Helper()
	grpcPort, promExpPort, telemetryPort = freePort(t), freePort(t), freePort(t)
	col := readYAMLFile(t, "../../otel-collector.yaml")
	loop := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	setPath(t, col, loop(grpcPort), "receivers", "otlp", "protocols", "grpc", "endpoint")
	setPath(t, col, loop(freePort(t)), "receivers", "otlp", "protocols", "http", "endpoint")
	setPath(t, col, loop(freePort(t)), "extensions", "health_check", "endpoint")
	storage := filepath.Join(dir, "otelcol-storage")
	setPath(t, col, storage, "extensions", "file_storage", "directory")
	setPath(t, col, storage, "extensions", "file_storage", "compaction", "directory")
	setPath(t, col, strings.TrimPrefix(jaeger.Endpoint(), "http://"), "exporters", "otlp_grpc/jaeger", "endpoint")
	setPath(t, col, loki.Endpoint(), "exporters", "otlp_http/loki", "endpoint")
	setPath(t, col, loop(promExpPort), "exporters", "prometheus", "endpoint")
	setPath(t, col, []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{"prometheus": map[string]any{
		"host": "127.0.0.1", "port": telemetryPort}}}}}, "service", "telemetry", "metrics", "readers")
	if edit != nil {
		edit(col)
	}
	colFile := filepath.Join(dir, "otelcol.yaml")
	writeYAMLFile(t, colFile, col)
	out := background(t, "collector", exec.Command(bin, "--config", colFile))
	waitFor(t, 30*time.Second, "Collector listening", func() string {
		conn, err := net.DialTimeout("tcp", loop(grpcPort), time.Second)
		if err != nil {
			return err.Error() + "\n" + out.String()
		}
		conn.Close()
		return ""
	})
	return grpcPort, promExpPort, telemetryPort
}

// poll calls cond until it returns "" (done) or the deadline passes, and returns its last message.
func poll(timeout time.Duration, cond func() string) string {
	deadline := time.Now().Add(timeout)
	for {
		msg := cond()
		if msg == "" || time.Now().After(deadline) {
			return msg
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitFor polls cond until it returns "" (done), and fails the test if the deadline passes first.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	if msg := poll(timeout, cond); msg != "" {
		t.Fatalf("%s: not within %s: %s", what, timeout, msg)
	}
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) float(t *testing.T) float64 {
	f, err := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	if err != nil {
		t.Fatalf("sample %v: %v", s, err)
	}
	return f
}

// promQuery runs an instant query; an error is returned as a message for waitFor.
func promQuery(base, q string) ([]promSample, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promSample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", q, err, b)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", q, r.Error)
	}
	return r.Data.Result, nil
}

var instanceIDRE = regexp.MustCompile(`service\.instance\.id=(\S+) service\.instance\.id_from="?([^"\n]+)"?`)

// instanceIDOf reads the service.instance.id the service logged at start, and where it came from.
func instanceIDOf(t *testing.T, s *process) (string, string) {
	t.Helper()
	m := instanceIDRE.FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("no service.instance.id in the start-up log:\n%s", s.stderr.String())
	}
	return m[1], m[2]
}

// shippedPrometheus runs a real Prometheus with the shipped prometheus.yml (relabelling, rules),
// scraping the Collector's prometheus exporter and its own metrics every second on loopback, and
// returns its base URL once it is ready.
func shippedPrometheus(t *testing.T, prom, dir string, promExpPort, telemetryPort int) string {
	t.Helper()
	loop := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	webPort := freePort(t)
	pc := readYAMLFile(t, "../../deploy/prometheus/prometheus.yml")
	setPath(t, pc, map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}, "global")
	rules, err := filepath.Abs("../../deploy/prometheus/rules/assistant-otel.yml")
	if err != nil {
		t.Fatal(err)
	}
	setPath(t, pc, []any{rules}, "rule_files")
	jobs, _ := pc["scrape_configs"].([]any)
	targets := map[string]int{"otel-collector-exporter": promExpPort, "otel-collector": telemetryPort}
	for _, j := range jobs {
		jm := j.(map[string]any)
		port, ok := targets[fmt.Sprint(jm["job_name"])]
		if !ok {
			t.Fatalf("prometheus.yml: unexpected job %v", jm["job_name"])
		}
		delete(targets, fmt.Sprint(jm["job_name"]))
		setPath(t, jm, []any{map[string]any{"targets": []any{loop(port)}}}, "static_configs")
	}
	if len(targets) > 0 {
		t.Fatalf("prometheus.yml: jobs %v missing", targets)
	}
	pcFile := filepath.Join(dir, "prometheus.yml")
	writeYAMLFile(t, pcFile, pc)
	background(t, "prometheus", exec.Command(prom, "--config.file="+pcFile, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+loop(webPort)))
	promURL := "http://" + loop(webPort)
	waitFor(t, 60*time.Second, "Prometheus ready", func() string {
		resp, err := http.Get(promURL + "/-/ready")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return ""
	})

	return promURL
}

func TestTwoReplicasOneCollectorPrometheus(t *testing.T) {
	otelcol, prom := otelcolBinary(t), prometheusBinary(t)
	dir := t.TempDir()
	tmpl, err := loadgen.LoadTemplates("../../testdata/corpus/*.json")
	if err != nil {
		t.Fatal(err)
	}

	// The Collector: the shipped otel-collector.yaml on loopback ports and a temporary queue
	// directory, with OTLP sinks for Jaeger and Loki.
	jaeger, loki := otlptest.StartGRPC(t), otlptest.StartHTTP(t)
	grpcPort, promExpPort, telemetryPort := shippedCollector(t, otelcol, dir, jaeger, loki, nil)
	loop := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }

	// Prometheus: the shipped prometheus.yml (relabelling, rules) scraping every second.
	promURL := shippedPrometheus(t, prom, dir, promExpPort, telemetryPort)

	// Two replicas, each with its own spool directory.
	start := func(spool string) *process {
		env := cleanEnv(
			"ASSISTANT_OTEL_SECRET="+testSecret,
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+loop(grpcPort),
			"OTEL_METRIC_EXPORT_INTERVAL=500",
		)
		return startService(t, env, "--spool-dir", spool, "--drain-timeout", "10s")
	}
	spools := []string{filepath.Join(dir, "spool-a"), filepath.Join(dir, "spool-b")}
	replicas := []*process{start(spools[0]), start(spools[1])}
	ids := make([]string, 2)
	for i, r := range replicas {
		id, from := instanceIDOf(t, r)
		if from != "spool directory" || uuid.Validate(id) != nil {
			t.Fatalf("replica %d: service.instance.id %q from %q, want a UUID kept in the spool directory", i, id, from)
		}
		ids[i] = id
	}
	if ids[0] == ids[1] {
		t.Fatalf("both replicas have service.instance.id %s", ids[0])
	}

	// requestsSeen waits until Prometheus has each replica's webhook request count, by
	// service_instance_id (several copies of one series would be counted once: max).
	requestsSeen := func(want map[string]int) {
		t.Helper()
		waitFor(t, 60*time.Second, fmt.Sprintf("Prometheus sees requests %v", want), func() string {
			res, err := promQuery(promURL, `sum by (service_instance_id) (max by (service_instance_id, http_response_status_code, watson_assistant_event) (assistant_otel_webhook_requests_total))`)
			if err != nil {
				return err.Error()
			}
			got := map[string]int{}
			for _, s := range res {
				got[s.Metric["service_instance_id"]] = int(s.float(t))
			}
			for id, n := range want {
				if got[id] != n {
					return fmt.Sprintf("got %v", got)
				}
			}
			return ""
		})
	}
	acked := map[string]string{} // log_id -> service.instance.id of the replica that acknowledged it
	send := func(r *process, n int) int {
		t.Helper()
		res := loadgen.Run(context.Background(), loadgen.Config{URL: r.url, Secret: []byte(testSecret),
			Events: loadgen.Make(tmpl, n), Concurrency: 4})
		if len(res.Acked) != n {
			t.Fatalf("%d of %d events acknowledged: %v", len(res.Acked), n, res.FirstError)
		}
		id, _ := instanceIDOf(t, r)
		for _, l := range res.Acked {
			acked[l] = id
		}
		return res.Sent
	}

	// Waves of different sizes, each seen by Prometheus before the next: if the two replicas
	// wrote the same series, its value would jump between their counts (resets).
	sent := []int{0, 0}
	for wave := range 4 {
		sent[0] += send(replicas[0], 30+10*wave)
		sent[1] += send(replicas[1], 5+wave)
		requestsSeen(map[string]int{ids[0]: sent[0], ids[1]: sent[1]})
	}

	// target_info: one per replica, service_instance_id = instance = the logged id.
	res, err := promQuery(promURL, `target_info{job="assistant-otel"}`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range res {
		if s.Metric["service_instance_id"] != s.Metric["instance"] {
			t.Errorf("target_info %v: service_instance_id differs from instance", s.Metric)
		}
		seen[s.Metric["service_instance_id"]] = true
	}
	if len(seen) != 2 || !seen[ids[0]] || !seen[ids[1]] {
		t.Errorf("target_info service_instance_id values %v, want %v", seen, ids)
	}
	// No counter of the service reset during the run. (resets() drops the metric name, so one
	// query per counter.)
	res, err = promQuery(promURL, `count by (__name__) ({__name__=~"(assistant_otel|watson_assistant)_.*_total", job="assistant-otel"})`)
	if err != nil {
		t.Fatal(err)
	}
	var counters []string
	series := 0
	for _, s := range res {
		counters = append(counters, s.Metric["__name__"])
		series += int(s.float(t))
	}
	if len(counters) < 5 {
		t.Fatalf("only counters %v in Prometheus", counters)
	}
	t.Logf("%d series of %d counters of 2 replicas in Prometheus", series, len(counters))
	resets := func(selector string) map[string]float64 {
		t.Helper()
		out := map[string]float64{} // service_instance_id -> the most resets of one of its series
		for _, c := range counters {
			res, err := promQuery(promURL, `max by (service_instance_id) (resets(`+c+selector+`[10m]))`)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range res {
				if v := s.float(t); v > out[s.Metric["service_instance_id"]] {
					out[s.Metric["service_instance_id"]] = v
				}
				if _, ok := out[s.Metric["service_instance_id"]]; !ok {
					out[s.Metric["service_instance_id"]] = 0
				}
			}
		}
		return out
	}
	if r := resets(`{job="assistant-otel"}`); len(r) != 2 || r[ids[0]] != 0 || r[ids[1]] != 0 {
		t.Errorf("counter resets by replica: %v, want none for each of %v", r, ids)
	}

	// Restart replica a on its spool: same id, and its new counts continue under it.
	replicas[0].stop(t)
	replicas[0] = start(spools[0])
	if id, _ := instanceIDOf(t, replicas[0]); id != ids[0] {
		t.Fatalf("restarted replica has service.instance.id %s, was %s", id, ids[0])
	}
	after := send(replicas[0], 7)
	requestsSeen(map[string]int{ids[0]: after, ids[1]: sent[1]})
	res, err = promQuery(promURL, `count by (service_instance_id) (last_over_time(target_info{job="assistant-otel"}[10m]))`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Errorf("after the restart Prometheus knows %d replicas, want 2: %v", len(res), res)
	}
	// The restart itself is the one reset of replica a's counters (rate() handles it); b has none.
	if r := resets(`{job="assistant-otel"}`); r[ids[0]] > 1 || r[ids[1]] != 0 {
		t.Errorf("counter resets by replica after a's restart: %v, want at most 1 for %s and none for %s", r, ids[0], ids[1])
	}
	// Traces and logs went through the Collector's persistent queues and batching to the sinks:
	// every acknowledged turn arrived, as a span and a log record carrying the resource of the
	// replica that took it.
	waitFor(t, 60*time.Second, "every acknowledged turn at the trace and log sinks", func() string {
		spans, logs := map[string]string{}, map[string]string{}
		for _, s := range jaeger.Spans() {
			if s.Attributes["gen_ai.operation.name"] == "invoke_agent" {
				spans[fmt.Sprint(s.Attributes["gen_ai.response.id"])] = fmt.Sprint(s.Resource["service.instance.id"])
			}
		}
		for _, l := range loki.LogRecords() {
			if l.EventName == "watson_assistant.turn" {
				logs[fmt.Sprint(l.Attributes["gen_ai.response.id"])] = fmt.Sprint(l.Resource["service.instance.id"])
			}
		}
		for logID, id := range acked {
			if spans[logID] != id || logs[logID] != id {
				return fmt.Sprintf("turn %s (replica %s): span from %q, log record from %q; %d spans, %d log records",
					logID, id, spans[logID], logs[logID], len(spans), len(logs))
			}
		}
		return ""
	})
	t.Logf("replicas %s (%d requests, then %d after a restart with the same id) and %s (%d requests): distinct ids, no counter resets",
		ids[0], sent[0], after, ids[1], sent[1])
}
