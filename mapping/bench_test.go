package mapping_test

import (
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/internal/benchdata"
	"github.com/assistant-otel/assistant-otel/mapping"
	"github.com/assistant-otel/assistant-otel/watson"
)

// BenchmarkMap maps each corpus body (already decoded) with the service's
// default options: content captured, a pseudonym key, no redactor.
func BenchmarkMap(b *testing.B) {
	opts := mapping.DefaultOptions()
	opts.PseudonymKey = []byte("bench-pseudonym-key")
	m, err := mapping.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	received := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range benchdata.Corpus() {
		ev, err := watson.Decode(c.Data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Map(ev, received)
			}
		})
	}
}
