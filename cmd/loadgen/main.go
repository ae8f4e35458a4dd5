// Command loadgen drives an assistant-otel webhook with signed corpus
// events, each with a log_id of its own, at a fixed rate (or as fast as
// acknowledged) for a duration, and prints one summary line every interval
// and a final one: events/s, acknowledged, refused (503), failed, ack
// latency percentiles. Loopback only by intent: it is a test tool.
//
//	ASSISTANT_OTEL_SECRET=... go run ./cmd/loadgen --url http://127.0.0.1:8080/webhook --rate 200 --duration 10m
//
// With --target otlp it posts the same bodies, unsigned, each wrapped as the
// string body of one OTLP/JSON log record, to a Collector's OTLP/HTTP
// receiver (--url http://127.0.0.1:4318/v1/logs): the side-by-side baseline
// of scripts/bench.sh. --watch name=PID (repeatable) adds, for the measured
// part of the run, the CPU seconds per 1,000 acknowledged events of that
// process (utime+stime from /proc/PID/stat) and its peak RSS (VmHWM, reset
// at the start of the measured part where the kernel allows).
//
// Imports: it may import internal/loadgen and nothing else of this module.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
)

type watchFlag []watched

type watched struct {
	name string
	pid  int
	cpu0 float64
}

func (w *watchFlag) String() string { return "" }
func (w *watchFlag) Set(s string) error {
	name, p, ok := strings.Cut(s, "=")
	pid, err := strconv.Atoi(p)
	if !ok || name == "" || err != nil || pid <= 0 {
		return fmt.Errorf("want NAME=PID, got %q", s)
	}
	*w = append(*w, watched{name: name, pid: pid})
	return nil
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/webhook", "webhook URL (or the Collector's /v1/logs with --target otlp)")
	rate := flag.Float64("rate", 100, "events per second; 0: as fast as acknowledged")
	duration := flag.Duration("duration", time.Minute, "how long to run (at most 24h)")
	warmup := flag.Duration("warmup", 0, "run this long first, at the same settings, without measuring")
	concurrency := flag.Int("concurrency", 16, "concurrent senders (HTTP keep-alive connections)")
	corpus := flag.String("corpus", "testdata/corpus/*.json", "glob of message_logged bodies to send")
	compact := flag.Bool("compact", true, "send the bodies compacted, as Watson Assistant would (the corpus files are indented)")
	target := flag.String("target", "webhook", "webhook (signed, to assistant-otel) or otlp (unsigned OTLP/JSON log records, to a Collector)")
	interval := flag.Duration("report", 10*time.Second, "how often to print a summary line")
	label := flag.String("label", "", "label of the final RESULT line")
	exportedURL := flag.String("exported-url", "", "Prometheus text URL of a counter of what left the service (e.g. the Collector's otelcol_receiver_accepted_log_records): after the run, wait until it stops growing and report the end-to-end rate")
	exportedMatch := flag.String("exported-match", `otelcol_receiver_accepted_log_records,transport="grpc"`, "comma-separated substrings a line of --exported-url must all contain (values summed)")
	var watch watchFlag
	flag.Var(&watch, "watch", "NAME=PID of a process whose CPU time and peak RSS to report (repeatable)")
	flag.Parse()
	secret := os.Getenv("ASSISTANT_OTEL_SECRET")
	if (*target == "webhook" && secret == "") || (*target != "webhook" && *target != "otlp") ||
		*duration <= 0 || *duration > 24*time.Hour || *interval <= 0 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "loadgen: set ASSISTANT_OTEL_SECRET (--target webhook); --target webhook|otlp; --duration must be in (0, 24h], --report positive")
		os.Exit(2)
	}
	tmpl, err := loadgen.LoadTemplates(*corpus)
	if err == nil && *compact {
		tmpl, err = loadgen.Compact(tmpl)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	otlp := *target == "otlp"
	events := func(n int) []loadgen.Event {
		evs := loadgen.Make(tmpl, n)
		if otlp {
			now := time.Now()
			for i := range evs {
				evs[i].Body = loadgen.WrapOTLP(evs[i].Body, now)
			}
		}
		return evs
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// One client for the whole run, so the warm-up's connections are reused.
	run := func(ctx context.Context, n int) *loadgen.Result {
		return loadgen.Run(ctx, loadgen.Config{URL: *url, Secret: []byte(secret), Events: events(n),
			Concurrency: *concurrency, Rate: *rate, NoAuth: otlp, Client: client(*concurrency)})
	}
	if *warmup > 0 {
		wctx, cancel := context.WithTimeout(ctx, *warmup)
		for wctx.Err() == nil {
			n := int(*rate * warmup.Seconds())
			if *rate <= 0 {
				n = 5000
			}
			run(wctx, n)
			if *rate > 0 {
				break
			}
		}
		cancel()
	}
	for i := range watch {
		watch[i].cpu0 = cpuSeconds(watch[i].pid)
		_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", watch[i].pid), []byte("5"), 0) // reset VmHWM
	}
	exported0 := -1.0
	if *exportedURL != "" {
		exported0 = scrape(*exportedURL, *exportedMatch)
	}
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	var total loadgen.Result
	start := time.Now()
	fmt.Printf("%8s %9s %8s %8s %7s %7s %9s %9s %9s\n", "t_s", "events/s", "acked", "refused", "failed", "sent", "p50_ms", "p90_ms", "p99_ms")
	for ctx.Err() == nil {
		chunk, cancelChunk := context.WithTimeout(ctx, *interval)
		t0 := time.Now()
		var r loadgen.Result
		for chunk.Err() == nil {
			n := int(*rate * interval.Seconds())
			if *rate <= 0 {
				n = 5000 // as fast as acknowledged: batches of fresh log_ids until the interval ends
			}
			merge(&r, run(chunk, n))
			if *rate > 0 {
				break
			}
		}
		cancelChunk()
		loadgen.SortLatencies(&r)
		el := time.Since(t0)
		merge(&total, &r)
		fmt.Printf("%8.0f %9.1f %8d %8d %7d %7d %9.2f %9.2f %9.2f\n", time.Since(start).Seconds(),
			float64(len(r.Acked))/el.Seconds(), len(r.Acked), r.Refused, r.Failed, r.Sent,
			ms(r.Percentile(0.5)), ms(r.Percentile(0.9)), ms(r.Percentile(0.99)))
		if ctx.Err() == nil && el < *interval {
			select { // the chunk finished early (e.g. all failed fast): keep the pace
			case <-time.After(*interval - el):
			case <-ctx.Done():
			}
		}
	}
	el := time.Since(start)
	loadgen.SortLatencies(&total)
	acked := len(total.Acked)
	fmt.Printf("total: %.0fs, sent %d, acked %d (%.1f/s), refused %d, failed %d, ack latency p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms\n",
		el.Seconds(), total.Sent, acked, float64(acked)/el.Seconds(), total.Refused, total.Failed,
		ms(total.Percentile(0.5)), ms(total.Percentile(0.9)), ms(total.Percentile(0.99)), ms(total.Percentile(1)))
	// One machine-readable line for scripts/bench.sh.
	res := fmt.Sprintf("RESULT label=%s target=%s rate=%g concurrency=%d seconds=%.1f acked=%d events_per_s=%.1f refused=%d failed=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f",
		orDash(*label), *target, *rate, *concurrency, el.Seconds(), acked, float64(acked)/el.Seconds(), total.Refused, total.Failed,
		ms(total.Percentile(0.5)), ms(total.Percentile(0.9)), ms(total.Percentile(0.99)))
	if exported0 >= 0 {
		// What was accepted is exported later: wait until the counter stops
		// growing (1 s without change), and rate it over the whole time.
		last, since := scrape(*exportedURL, *exportedMatch), time.Now()
		for outer.Err() == nil && time.Since(since) < time.Second && time.Since(start) < *duration+2*time.Minute {
			time.Sleep(100 * time.Millisecond)
			if v := scrape(*exportedURL, *exportedMatch); v != last {
				last, since = v, time.Now()
			}
		}
		drained := since.Sub(start)
		res += fmt.Sprintf(" exported=%.0f drained_s=%.1f exported_per_s=%.1f", last-exported0, drained.Seconds(), (last-exported0)/drained.Seconds())
	}
	self := cpuSeconds(os.Getpid())
	for _, w := range watch {
		cpu := cpuSeconds(w.pid) - w.cpu0
		per := 0.0
		if acked > 0 {
			per = cpu / float64(acked) * 1000
		}
		res += fmt.Sprintf(" %s_cpu_s=%.2f %s_cpu_s_per_1k=%.4f %s_hwm_mib=%.1f", w.name, cpu, w.name, per, w.name, hwmMiB(w.pid))
	}
	res += fmt.Sprintf(" loadgen_cpu_s_total=%.2f", self)
	fmt.Println(res)
	if total.Failed > 0 || total.Refused > 0 {
		os.Exit(1)
	}
}

func client(concurrency int) *http.Client { return loadgen.Client(concurrency) }

// scrape sums the values of the lines of a Prometheus text page that hold
// every comma-separated part of match; -1 on failure.
func scrape(url, match string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	parts := strings.Split(match, ",")
	sum := 0.0
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if f := strings.Fields(line); ok && len(f) >= 2 {
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// cpuSeconds is utime+stime of pid, from /proc/PID/stat; 0 if unreadable.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64) // field 14 of stat
	st, _ := strconv.ParseFloat(f[12], 64) // field 15
	return (ut + st) / 100                 // USER_HZ is 100 on Linux
}

// hwmMiB is the peak resident set size of pid (VmHWM), in MiB.
func hwmMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func merge(into, r *loadgen.Result) {
	into.Sent += r.Sent
	into.Acked = append(into.Acked, r.Acked...)
	into.Refused += r.Refused
	into.Failed += r.Failed
	into.Latencies = append(into.Latencies, r.Latencies...)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, " ", "_")
}
