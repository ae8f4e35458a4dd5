package watson_test

import (
	"testing"

	"github.com/assistant-otel/assistant-otel/internal/benchdata"
	"github.com/assistant-otel/assistant-otel/watson"
)

// BenchmarkDecode decodes each corpus body as the receiver does.
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchdata.Corpus() {
		b.Run(c.Name, func(b *testing.B) {
			b.SetBytes(int64(len(c.Data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := watson.Decode(c.Data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
