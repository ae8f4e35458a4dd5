package redact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/assistant-otel/assistant-otel/redact"
)

// FuzzRedact: never a panic; valid UTF-8 stays valid; asterisks (Watson's
// masks) are all kept; text without digits, '@' or ':' is returned as is.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"mail john.doe@example.com or call +44 20 7946 0958",
		"card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00",
		"from 203.0.113.9 and 2001:db8::1",
		"order A-1042 on 2024-05-17 12:30 (0.97)",
		"j***@example.com ************1111",
		"電話番号は090-1234-5678です 😀",
		"(((((1)))))", "+", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
		"a@b.c@d.e", "::::", "1.1.1.1.1.1.1", "06\u00a012\u00a034\u00a056\u00a078",
	} {
		f.Add(s)
	}
	r, err := redact.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := r.Redact(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Redact(%q) = %q: invalid UTF-8", s, got)
		}
		if strings.Count(got, "*") != strings.Count(s, "*") {
			t.Fatalf("Redact(%q) = %q: asterisks changed", s, got)
		}
		if !strings.ContainsAny(s, "0123456789@:") && got != s {
			t.Fatalf("Redact(%q) = %q: nothing to find, yet changed", s, got)
		}
	})
}
