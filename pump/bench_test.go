package pump

import (
	"context"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/intake"
	"github.com/assistant-otel/assistant-otel/internal/benchdata"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/redact"
	"github.com/assistant-otel/assistant-otel/spool"
	"github.com/assistant-otel/assistant-otel/watson"
)

// BenchmarkIntakeToMapContextAllow is serve's path from a decoded request
// body to its telemetry with a context allow-list configured: the intake
// queues the decoded event (in memory), the pump reads it back and maps it.
func BenchmarkIntakeToMapContextAllow(b *testing.B) {
	allow, err := redact.NewContextAllowList("skills.actions skill.skill_variables.last_order_id", "global.system.timezone")
	if err != nil {
		b.Fatal(err)
	}
	opts := mapping.DefaultOptions()
	opts.PseudonymKey = []byte("bench-pseudonym-key")
	opts.ContextAllow = allow
	m, err := mapping.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range benchdata.Corpus() {
		b.Run(c.Name, func(b *testing.B) {
			q := spool.NewMemory(spool.MemoryOptions{MaxBytes: 1 << 30})
			in, err := intake.New(q, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ev, err := watson.Decode(c.Data)
				if err != nil {
					b.Fatal(err)
				}
				if err := in.Consume(context.Background(), ev, received); err != nil {
					b.Fatal(err)
				}
				recs, _ := q.Read(0, 1, 1<<30)
				_ = m.Map(recs[0].Hint.(watson.Event), received)
				_ = q.Delete(recs)
			}
		})
	}
}
