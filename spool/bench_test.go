package spool

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDiskService is the disk spool as the service uses it: appends of
// 3 KB bodies with a dedupe key (window on), and a reader that reads up to
// 512 records, then deletes them (as the pump does after each export).
// "sequential" is one appender (the low rate: one commit per append),
// "parallel-32" 32 appenders (the high rate: group commits). It reports
// cpu-ns/op (user+system of the process, the reader included, per append)
// commits per append, and the p50/p99 latency of Append.
func BenchmarkDiskService(b *testing.B) {
	for _, appenders := range []int{1, 32} {
		name := "sequential"
		if appenders > 1 {
			name = fmt.Sprintf("parallel-%d", appenders)
		}
		b.Run(name, func(b *testing.B) { benchDiskService(b, appenders) })
	}
}

func benchDiskService(b *testing.B, appenders int) {
	d, _, err := Open(b.TempDir(), Options{MaxBytes: 1 << 30, Dedupe: DedupeOptions{Window: time.Hour, Max: 100000}})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var commits atomic.Int64
	d.afterCommit = func() { commits.Add(1) }
	payload := bytes.Repeat([]byte("x"), 3000)
	stop := make(chan struct{})
	var drained sync.WaitGroup
	drained.Add(1)
	go func() { // the pump: read, then delete what was read
		defer drained.Done()
		var cursor uint64
		for {
			recs, err := d.Read(cursor, 512, 16<<20)
			if err != nil {
				b.Error(err)
				return
			}
			if len(recs) == 0 {
				select {
				case <-d.Notify():
					continue
				case <-stop:
					return
				}
			}
			cursor = recs[len(recs)-1].Seq
			if err := d.Delete(recs); err != nil {
				b.Error(err)
				return
			}
		}
	}()

	var next atomic.Int64
	lat := make([][]time.Duration, appenders)
	b.ReportAllocs()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t := time.Now()
				if _, err := d.Append(context.Background(), Entry{Key: fmt.Sprint("event-", i), Body: payload, Received: t0}); err != nil {
					b.Error(err)
					return
				}
				lat[a] = append(lat[a], time.Since(t))
			}
		}()
	}
	wg.Wait()
	for d.Stats().Events > 0 {
		time.Sleep(50 * time.Microsecond)
	}
	close(stop)
	drained.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(commits.Load())/float64(b.N), "commits/op")
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2])/1e3, "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100])/1e3, "p99-µs")
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
