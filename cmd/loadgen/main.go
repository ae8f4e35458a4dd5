// Command loadgen drives an assistant-otel webhook with signed corpus
// events, each with a log_id of its own, at a fixed rate (or as fast as
// acknowledged) for a duration, and prints one summary line every interval
// and a final one: events/s, acknowledged, refused (503), failed, ack
// latency percentiles. Loopback only by intent: it is a test tool.
//
//	ASSISTANT_OTEL_SECRET=... go run ./cmd/loadgen --url http://127.0.0.1:8080/webhook --rate 200 --duration 10m
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/loadgen"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/webhook", "webhook URL")
	rate := flag.Float64("rate", 100, "events per second; 0: as fast as acknowledged")
	duration := flag.Duration("duration", time.Minute, "how long to run (at most 24h)")
	concurrency := flag.Int("concurrency", 16, "concurrent senders")
	corpus := flag.String("corpus", "testdata/corpus/*.json", "glob of message_logged bodies to send")
	interval := flag.Duration("report", 10*time.Second, "how often to print a summary line")
	flag.Parse()
	secret := os.Getenv("ASSISTANT_OTEL_SECRET")
	if secret == "" || *duration <= 0 || *duration > 24*time.Hour || *interval <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: set ASSISTANT_OTEL_SECRET; --duration must be in (0, 24h], --report positive")
		os.Exit(2)
	}
	tmpl, err := loadgen.LoadTemplates(*corpus)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
				n = 2000 // as fast as acknowledged: batches of fresh log_ids until the interval ends
			}
			part := loadgen.Run(chunk, loadgen.Config{URL: *url, Secret: []byte(secret), Events: loadgen.Make(tmpl, n), Concurrency: *concurrency, Rate: *rate})
			merge(&r, part)
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
	fmt.Printf("total: %.0fs, sent %d, acked %d (%.1f/s), refused %d, failed %d, ack latency p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms\n",
		el.Seconds(), total.Sent, len(total.Acked), float64(len(total.Acked))/el.Seconds(), total.Refused, total.Failed,
		ms(total.Percentile(0.5)), ms(total.Percentile(0.9)), ms(total.Percentile(0.99)), ms(total.Percentile(1)))
	if total.Failed > 0 || total.Refused > 0 {
		os.Exit(1)
	}
}

func merge(into, r *loadgen.Result) {
	into.Sent += r.Sent
	into.Acked = append(into.Acked, r.Acked...)
	into.Refused += r.Refused
	into.Failed += r.Failed
	into.Latencies = append(into.Latencies, r.Latencies...)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
