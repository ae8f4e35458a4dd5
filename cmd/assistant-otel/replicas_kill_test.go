package main

// Three replicas, kill -9, one Collector, a real Jaeger and Prometheus (issue 15): three
// `assistant-otel serve` processes, each with its own spool directory, take the turns of 30
// conversations spread across them (turn i of conversation c to replica (c+i)%3); one of them is
// killed with SIGKILL in the middle of the load and restarted on the same spool, and what it had not
// acknowledged is sent again, identical, together with turns it had acknowledged. They export to the
// real Collector with the shipped otel-collector.yaml (on loopback), which sends traces to a real
// Jaeger v2 (scripts/e2e/jaeger.yaml, memory storage, free ports) and metrics to its prometheus
// exporter, scraped by a real Prometheus 3. Binaries: ASSISTANT_OTEL_OTELCOL, ASSISTANT_OTEL_JAEGER,
// ASSISTANT_OTEL_PROMETHEUS; without them the test fails under CI and skips elsewhere.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
	"github.com/assistant-otel/assistant-otel/internal/otlptest"
	"github.com/assistant-otel/assistant-otel/mapping"
)

func jaegerBinary(t *testing.T) string {
	t.Helper()
	return toolBinary(t, "ASSISTANT_OTEL_JAEGER", "a real Jaeger v2", "jaeger")
}

// startJaeger runs Jaeger v2 with scripts/e2e/jaeger.yaml (memory storage) on free loopback ports and
// returns its OTLP gRPC address and the base URL of its query API, once healthy.
func startJaeger(t *testing.T, bin string) (otlpAddr, queryURL string) {
	t.Helper()
	ports := map[string]int{}
	env := cleanEnv("E2E_JAEGER_UI=")
	for _, k := range []string{"OTLP_GRPC", "OTLP_HTTP", "QUERY_HTTP", "QUERY_GRPC", "HEALTH", "METRICS"} {
		ports[k] = freePort(t)
		env = append(env, fmt.Sprintf("E2E_JAEGER_%s_PORT=%d", k, ports[k]))
	}
	cmd := exec.Command(bin, "--config", "../../scripts/e2e/jaeger.yaml")
	cmd.Env = env
	out := background(t, "jaeger", cmd)
	waitFor(t, 60*time.Second, "Jaeger healthy", func() string {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/status", ports["HEALTH"]))
		if err != nil {
			return err.Error() + "\n" + out.String()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.Status
		}
		return ""
	})
	return fmt.Sprintf("127.0.0.1:%d", ports["OTLP_GRPC"]), fmt.Sprintf("http://127.0.0.1:%d", ports["QUERY_HTTP"])
}

// jaegerSpan is a span as Jaeger's HTTP API returns it.
type jaegerSpan struct {
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
	Tags    []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

func (s jaegerSpan) tag(k string) string {
	for _, t := range s.Tags {
		if t.Key == k {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// jaegerTraces fetches one trace id (32 hex digits) and returns the traces Jaeger answers with (0 when
// it has none).
func jaegerTraces(base, traceID string) ([][]jaegerSpan, error) {
	resp, err := http.Get(base + "/api/traces/" + traceID)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("trace %s: %s: %s", traceID, resp.Status, b)
	}
	var r struct {
		Data []struct {
			TraceID string       `json:"traceID"`
			Spans   []jaegerSpan `json:"spans"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("trace %s: %v", traceID, err)
	}
	var out [][]jaegerSpan
	for _, d := range r.Data {
		out = append(out, d.Spans)
	}
	return out, nil
}

func TestThreeReplicasKill9(t *testing.T) {
	otelcol, jaegerBin, prom := otelcolBinary(t), jaegerBinary(t), prometheusBinary(t)
	began := time.Now()
	dir := t.TempDir()
	tmpl, err := loadgen.LoadTemplates("../../testdata/corpus/01-dialog-clear-intent-two-entities.json")
	if err != nil {
		t.Fatal(err)
	}
	const templateSession = "f2a38ecd-affb-4900-b1cf-67fddd587bba"
	if !bytes.Contains(tmpl[0].Body, []byte(templateSession)) {
		t.Fatalf("template has no session_id %s", templateSession)
	}

	// Jaeger, the Collector (traces to Jaeger, logs to a sink), Prometheus scraping the Collector.
	jaegerOTLP, jaegerURL := startJaeger(t, jaegerBin)
	grpcPort, promExpPort, telemetryPort := shippedCollector(t, otelcol, dir, otlptest.StartGRPC(t), otlptest.StartHTTP(t),
		func(col map[string]any) { setPath(t, col, jaegerOTLP, "exporters", "otlp_grpc/jaeger", "endpoint") })
	promURL := shippedPrometheus(t, prom, dir, promExpPort, telemetryPort)

	start := func(spool string) *process {
		env := cleanEnv(
			"ASSISTANT_OTEL_SECRET="+testSecret,
			fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", grpcPort),
			"OTEL_METRIC_EXPORT_INTERVAL=500",
		)
		return startService(t, env, "--spool-dir", spool, "--drain-timeout", "5s")
	}
	const nReplicas, nConv, nTurns, victim = 3, 30, 5, 1
	var spools [nReplicas]string
	var replicas [nReplicas]*process
	var ids [nReplicas]string
	for i := range replicas {
		spools[i] = filepath.Join(dir, fmt.Sprintf("spool-%d", i))
		replicas[i] = start(spools[i])
		ids[i], _ = instanceIDOf(t, replicas[i])
	}

	// 30 conversations of 5 turns: each conversation its own session UUID, each turn its own log_id.
	type turn struct {
		conv int
		ev   loadgen.Event
	}
	sessions := make([]string, nConv)
	turns := make([][]turn, nTurns) // by round
	for c := range sessions {
		sessions[c] = loadgen.NewLogID()
	}
	for i := range turns {
		for c := range sessions {
			ev := loadgen.Make(tmpl, 1)[0]
			ev.Body = bytes.ReplaceAll(ev.Body, []byte(templateSession), []byte(sessions[c]))
			turns[i] = append(turns[i], turn{c, ev})
		}
	}

	// Send round by round (the turns of a round in parallel on the three replicas); in round 2 the
	// victim is killed with SIGKILL after its third acknowledgement.
	var mu sync.Mutex
	acked := map[string]int{} // log_id -> conversation, for every 2xx
	convOf := map[string]int{}
	var unacked []loadgen.Event // sent to the victim and not acknowledged
	var victimAcked []loadgen.Event
	var victimAcks atomic.Int32
	var once sync.Once
	killed := false
	sent := 0
	for round := range turns {
		var wg sync.WaitGroup
		for r := range replicas {
			var evs []loadgen.Event
			for _, tu := range turns[round] {
				if (tu.conv+round)%nReplicas == r {
					evs = append(evs, tu.ev)
					convOf[tu.ev.LogID] = tu.conv
				}
			}
			sent += len(evs)
			svc := replicas[r]
			wg.Add(1)
			go func() {
				defer wg.Done()
				cfg := loadgen.Config{URL: svc.url, Secret: []byte(testSecret), Events: evs, Concurrency: 2,
					OnResult: func(ev loadgen.Event, status int, _ error) {
						mu.Lock()
						defer mu.Unlock()
						if status/100 == 2 {
							acked[ev.LogID] = convOf[ev.LogID]
							if r == victim {
								victimAcked = append(victimAcked, ev)
							}
						} else if r == victim {
							unacked = append(unacked, ev)
						}
						if r == victim && round == 2 && status/100 == 2 && victimAcks.Add(1) >= 3 {
							once.Do(func() { _ = svc.cmd.Process.Signal(syscall.SIGKILL); killed = true })
						}
					}}
				loadgen.Run(t.Context(), cfg)
			}()
		}
		wg.Wait()
		if round == 2 {
			if !killed {
				t.Fatal("the victim was never killed")
			}
			if err := <-replicas[victim].done; err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("replica %d was not killed: %v", victim, err)
			}
			// Restart on the same spool; it keeps its service.instance.id.
			replicas[victim] = start(spools[victim])
			if id, _ := instanceIDOf(t, replicas[victim]); id != ids[victim] {
				t.Fatalf("restarted replica has service.instance.id %s, was %s", id, ids[victim])
			}
			// Webhook redelivery: everything the victim did not acknowledge, and everything it did
			// (identical bodies, so identical log ids and span ids), to the restarted victim.
			mu.Lock()
			resend := append(append([]loadgen.Event(nil), unacked...), victimAcked...)
			mu.Unlock()
			res := loadgen.Run(t.Context(), loadgen.Config{URL: replicas[victim].url, Secret: []byte(testSecret), Events: resend, Concurrency: 2})
			if len(res.Acked) != len(resend) {
				t.Fatalf("restarted replica acknowledged %d of %d re-sent turns: %v", len(res.Acked), len(resend), res.FirstError)
			}
			sent += len(resend)
			mu.Lock()
			for _, l := range res.Acked {
				acked[l] = convOf[l]
			}
			mu.Unlock()
			t.Logf("kill -9 of replica %d in round 2 after %d acks: %d turns unacknowledged, %d re-sent identical after the restart, all acknowledged",
				victim, victimAcks.Load(), len(unacked), len(resend))
		}
	}
	if len(unacked) == 0 {
		t.Log("note: the kill left no turn unacknowledged (every re-send was of an acknowledged turn)")
	}

	// Jaeger: each conversation is one trace (trace id = its session UUID) holding each of its
	// acknowledged turns exactly once, as the span whose id derives from the log_id.
	want := make([]map[string]bool, nConv) // conversation -> acknowledged log ids
	for c := range want {
		want[c] = map[string]bool{}
	}
	for l, c := range acked {
		want[c][l] = true
	}
	check := func() string {
		for c, s := range sessions {
			traces, err := jaegerTraces(jaegerURL, strings.ReplaceAll(s, "-", ""))
			if err != nil {
				return err.Error()
			}
			if len(traces) != 1 {
				return fmt.Sprintf("conversation %d (%s): %d traces", c, s, len(traces))
			}
			bySpanID := map[string]int{}
			byLogID := map[string]int{}
			for _, sp := range traces[0] {
				if sp.tag("gen_ai.operation.name") != "invoke_agent" {
					continue
				}
				bySpanID[sp.SpanID]++
				byLogID[sp.tag("gen_ai.response.id")]++
			}
			for l := range want[c] {
				if sid := mapping.TurnSpanID(l).String(); bySpanID[sid] != 1 || byLogID[l] != 1 {
					return fmt.Sprintf("conversation %d (%s): turn %s: span %s %d times, log_id %d times (%d turn spans)",
						c, s, l, sid, bySpanID[sid], byLogID[l], len(bySpanID))
				}
			}
			for l, n := range byLogID {
				if !want[c][l] && n > 1 {
					return fmt.Sprintf("conversation %d: unacknowledged turn %s shown %d times", c, l, n)
				}
			}
		}
		return ""
	}
	waitFor(t, 45*time.Second, "every acknowledged turn once in its conversation's trace in Jaeger", check)

	// Prometheus: three distinct service_instance_id values, the restarted replica under its old id.
	waitFor(t, 45*time.Second, "Prometheus sees the three replicas", func() string {
		res, err := promQuery(promURL, `count by (service_instance_id) (last_over_time(target_info{job="assistant-otel"}[10m]))`)
		if err != nil {
			return err.Error()
		}
		var got []string
		for _, s := range res {
			got = append(got, s.Metric["service_instance_id"])
		}
		sort.Strings(got)
		w := append([]string(nil), ids[:]...)
		sort.Strings(w)
		if len(w) != 3 || w[0] == w[1] || w[1] == w[2] || fmt.Sprint(got) != fmt.Sprint(w) {
			return fmt.Sprintf("service_instance_id values %v, want the replicas' %v", got, w)
		}
		return ""
	})
	// What replica-local dedupe does not cover: a redelivery that lands on another replica. Three
	// turns replica 0 acknowledged are sent to replica 2; each is exported a second time, with the
	// same trace and span ids but the resource of replica 2, and Jaeger (memory storage) shows the
	// span twice under the same span id. Asserted so that the README's "Scaling out", which says so,
	// stays true.
	var cross []loadgen.Event
	for _, tu := range turns[0] {
		if tu.conv%nReplicas == 0 && len(cross) < 3 {
			cross = append(cross, tu.ev)
		}
	}
	if res := loadgen.Run(t.Context(), loadgen.Config{URL: replicas[2].url, Secret: []byte(testSecret), Events: cross}); len(res.Acked) != len(cross) {
		t.Fatalf("replica 2 acknowledged %d of %d redeliveries: %v", len(res.Acked), len(cross), res.FirstError)
	}
	crossSeen := func() (string, []int) {
		var counts []int
		var desc []string
		for _, ev := range cross {
			traces, err := jaegerTraces(jaegerURL, strings.ReplaceAll(sessions[convOf[ev.LogID]], "-", ""))
			if err != nil || len(traces) != 1 {
				return fmt.Sprint(err, len(traces)), nil
			}
			n := 0
			var spanIDs []string
			for _, sp := range traces[0] {
				if sp.tag("gen_ai.operation.name") == "invoke_agent" && sp.tag("gen_ai.response.id") == ev.LogID {
					n++
					spanIDs = append(spanIDs, sp.SpanID)
				}
			}
			counts = append(counts, n)
			desc = append(desc, fmt.Sprintf("%s: span ids %v (derived %s)", ev.LogID, spanIDs, mapping.TurnSpanID(ev.LogID)))
		}
		return strings.Join(desc, "; "), counts
	}
	waitFor(t, 20*time.Second, "the cross-replica redeliveries exported", func() string {
		_, counts := crossSeen()
		for _, n := range counts {
			if n < 2 {
				return fmt.Sprintf("Jaeger shows the redelivered turns %v times", counts)
			}
		}
		return ""
	})
	desc, counts := crossSeen()
	t.Logf("cross-replica redelivery of %d turns (replica 0 then replica 2): Jaeger shows them %v times: %s", len(cross), counts, desc)

	t.Logf("3 replicas %v, %d conversations x %d turns: %d requests, %d turns acknowledged, each once in its conversation's trace in Jaeger; %s",
		ids, nConv, nTurns, sent, len(acked), time.Since(began).Round(time.Second))
}
