package redact

import (
	"math/rand/v2"
	"testing"
)

func TestCountMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("0123456789@:./-+ aZ\x00\x7f\x80\xff\xc2\xa0\x2f\x3a\x3b\x3f\x41\x2d")
	for n := 0; n < 5000; n++ {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		var want counts
		for _, ch := range b {
			switch {
			case ch >= '0' && ch <= '9':
				want.digits++
			case ch == '@':
				want.ats++
			case ch == ':':
				want.colons++
			case ch == '.':
				want.dots++
			case ch >= 0x80:
				want.high++
			}
		}
		if got := count(string(b)); got != want {
			t.Fatalf("count(%q) = %+v, want %+v", b, got, want)
		}
	}
}
