package redact

import (
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Every decimal digit of every script reads as its ASCII digit: ranges hold
// whole runs of ten, and full-width and mathematical digits agree with NFKC.
func TestDigitValue(t *testing.T) {
	for _, rg := range ndRanges {
		if (rg.hi-rg.lo+1)%10 != 0 {
			t.Errorf("Nd range %U–%U is not runs of ten", rg.lo, rg.hi)
		}
	}
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		d, ok := digitValue(r)
		if ok != unicode.Is(unicode.Nd, r) {
			t.Fatalf("digitValue(%U) ok = %v", r, ok)
		}
		if !ok {
			continue
		}
		n++
		if k := norm.NFKC.String(string(r)); len(k) == 1 && k[0] != d {
			t.Errorf("digitValue(%U) = %c, NFKC gives %q", r, d, k)
		}
	}
	for r, want := range map[rune]byte{'٣': '3', '۷': '7', '९': '9', '๕': '5', '５': '5', '𝟘': '0', '᠑': '1'} {
		if d, _ := digitValue(r); d != want {
			t.Errorf("digitValue(%c) = %c, want %c", r, d, want)
		}
	}
	if n < 600 {
		t.Errorf("only %d decimal digits known", n)
	}
}

func TestView(t *testing.T) {
	s := "ａ\u200b１－٢。x⑴é"
	w := newView(s, false)
	if w.v != "a1-2.x(1)é" {
		t.Fatalf("view %q", w.v)
	}
	// Each byte of the view points at the rune it came from.
	for j := range len(w.v) {
		if w.from[j] >= w.to[j] || int(w.to[j]) > len(s) {
			t.Fatalf("byte %d maps to %d..%d", j, w.from[j], w.to[j])
		}
	}
	if sp := w.original(span{1, 4, ""}); s[sp.start:sp.end] != "１－٢" {
		t.Errorf("original of view[1:4] = %q", s[sp.start:sp.end])
	}
	if w := newView(s, true); w.v != "a 1-2.x(1)é" {
		t.Errorf("view with invisibles as spaces %q", w.v)
	}
	c, changed, invisibles := viewCounts(s)
	if !changed || !invisibles || c.digits != 3 || c.dots != 1 || c != count(newView(s, false).v) && c.high != 0 {
		t.Errorf("viewCounts = %+v %v %v", c, changed, invisibles)
	}
	if _, changed, _ := viewCounts("日本語のテキストé"); changed {
		t.Error("text with nothing to fold counted as changed")
	}
}
