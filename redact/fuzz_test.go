package redact_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/assistant-otel/assistant-otel/redact"
)

var fuzzSeeds = []string{
	"mail john.doe@example.com or call +44 20 7946 0958",
	"card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00",
	"from 203.0.113.9 and 2001:db8::1",
	"order A-1042 on 2024-05-17 12:30 (0.97)",
	"j***@example.com ************1111",
	"電話番号は090-1234-5678です 😀",
	"(((((1)))))", "+", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
	"a@b.c@d.e", "::::", "1.1.1.1.1.1.1", "06\u00a012\u00a034\u00a056\u00a078",
	"credit_card=4111111111111111", "phone_number=(415) 555-2671", "CC#4111 1111 1111 1111",
	// the normalised view
	"カード番号は４１１１－１１１１－１１１１－１１１１です",
	"メールはｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍです",
	"call 415\u200b555\u200b2671 now", "mail john@exam\u200bple.com",
	"رقمي ٠٥٥١٢٣٤٥٦٧ شكرا", "josé@bücher.de", "用户@例子.中国", "4111.1111.1111.1111", "4111/1111/1111/1111",
	"電話は０９０ー１２３４ー５６７８です", "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽ ⒈⒉⒊4", "::¹ ：2001:db8::1", "a@b.㎝", "\u00ad\u200b\ufeff",
	"4111\u00ad1111\u00ad1111\u00ad1111", "[REDACTED:email] a@b.co", "\xff\xfe４１１１\xc0",
}

var mark = regexp.MustCompile(`\[REDACTED:[a-z0-9_]+\]`)

// FuzzRedact: never a panic; valid UTF-8 stays valid; asterisks (Watson's
// masks) are all kept; the output is never longer than MaxLen; redacting
// twice changes nothing more; outside the [REDACTED:…] marks the text is
// the input as written, in order; text whose normalised view has no digit,
// '@' or ':' is returned as is. The same properties hold with operator
// patterns, which read both the text and its view (one of them matches a
// single character, the worst case of MaxLen).
func FuzzRedact(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	r, err := redact.New()
	if err != nil {
		f.Fatal(err)
	}
	rp, err := redact.New(
		redact.WithPattern("employee_id", regexp.MustCompile(`EMP-\d{4}`)),
		redact.WithPattern("x", regexp.MustCompile(`[xＸ]`)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkRedact(t, r, s)
		checkRedact(t, rp, s)
		if !hasDetectable(s) {
			if got := r.Redact(s); got != s {
				t.Fatalf("Redact(%q) = %q: nothing to find, yet changed", s, got)
			}
		}
	})
}

func checkRedact(t *testing.T, r *redact.Redactor, s string) {
	t.Helper()
	got := r.Redact(s)
	if utf8.ValidString(s) && !utf8.ValidString(got) {
		t.Fatalf("Redact(%q) = %q: invalid UTF-8", s, got)
	}
	if strings.Count(got, "*") != strings.Count(s, "*") {
		t.Fatalf("Redact(%q) = %q: asterisks changed", s, got)
	}
	if len(got) > r.MaxLen(len(s)) {
		t.Fatalf("Redact(%q) = %q: %d bytes, more than MaxLen(%d) = %d", s, got, len(got), len(s), r.MaxLen(len(s)))
	}
	if again := r.Redact(got); again != got {
		t.Fatalf("not idempotent: Redact(%q) = %q, Redact of that = %q", s, got, again)
	}
	pos := 0
	for _, piece := range mark.Split(got, -1) {
		k := strings.Index(s[pos:], piece)
		if k < 0 {
			t.Fatalf("Redact(%q) = %q: %q is not the input as written", s, got, piece)
		}
		pos += k + len(piece)
	}
}

// hasDetectable reports whether the normalised view of s may hold a finding:
// a digit of any script, '@' or ':' in any form.
func hasDetectable(s string) bool {
	for _, r := range norm.NFKC.String(s) {
		if unicode.IsDigit(r) || r == '@' || r == ':' {
			return true
		}
	}
	return false
}
