package redact_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/assistant-otel/assistant-otel/redact"
)

// The privacy corpus: personal data written in every form seen in the field
// or tried by an attacker, placed in every kind of exported text, and
// ordinary text (dates, times, prices, versions, order and tracking numbers)
// in the same places and forms. The cases are generated deterministically
// (no randomness), and testdata/privacy/cases.txt adds hand-written ones.
//
// Run: go test -run TestPrivacyCorpus -v ./redact

// piiValue is one piece of personal data: secret reports whether the
// normalised form of an exported text still gives it away.
type piiValue struct {
	kind   string // card, phone, email, iban, ip
	value  string // written in ASCII
	secret func(normalised string) bool
}

// digitsLeak: four or more digits survive (the templates hold none).
func digitsLeak(n string) bool {
	d := 0
	for _, r := range n {
		if r >= '0' && r <= '9' {
			d++
		}
	}
	return d >= 4
}

func partsLeak(parts ...string) func(string) bool {
	return func(n string) bool {
		for _, p := range parts {
			if strings.Contains(n, p) {
				return true
			}
		}
		return false
	}
}

func piiValues() []piiValue {
	var out []piiValue
	num := func(kind string, vals ...string) {
		for _, v := range vals {
			out = append(out, piiValue{kind, v, digitsLeak})
		}
	}
	num("card", "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "5555 5555 5555 4444",
		"3782 822463 10005", "6011 0009 9013 9424", "4111.1111.1111.1111", "4111/1111/1111/1111")
	num("phone", "+1 415 555 2671", "(415) 555-2671", "415-555-2671", "+44 20 7946 0958", "020 7946 0958",
		"090-1234-5678", "+81 90-1234-5678", "06 12 34 56 78", "+49 30 12345678", "+91 98765 43210",
		"0551234567", "+966 55 123 4567", "415 555 2671")
	num("iban", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR14 2004 1010 0505 0001 3M02 606")
	num("ip", "203.0.113.9", "192.168.10.254")
	out = append(out, piiValue{"ip", "2001:db8::8a2e:370:7334", partsLeak("db8", "8a2e", "7334")})
	for _, e := range []string{
		"john.doe@example.com", "taro.yamada@example.co.jp", "a.smith+shop@mail.example.org",
		"josé@bücher.de", "müller@münchen.de", "иван@пример.рф", "用户@例子.中国", "χρήστης@παράδειγμα.ελ",
		"ahmed@مثال.مصر", "user@xn--bcher-kva.example",
	} {
		local, domain, _ := strings.Cut(e, "@")
		label, _, _ := strings.Cut(domain, ".")
		out = append(out, piiValue{"email", e, partsLeak(fold(local), fold(label))})
	}
	return out
}

// A form rewrites a value written in ASCII.
type form struct {
	name string
	f    func(string) string
	only string // a kind of personal data it applies to, or any
}

func mapRunes(f func(rune) string) func(string) string {
	return func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteString(f(r))
		}
		return b.String()
	}
}

func digitsOf(zero rune) func(string) string {
	return mapRunes(func(r rune) string {
		if r >= '0' && r <= '9' {
			return string(zero + r - '0')
		}
		return string(r)
	})
}

// inside puts an invisible character after every third character.
func inside(c string) func(string) string {
	return func(s string) string {
		var b strings.Builder
		for i, r := range []rune(s) {
			if i > 0 && i%3 == 0 {
				b.WriteString(c)
			}
			b.WriteRune(r)
		}
		return b.String()
	}
}

func forms() []form {
	return []form{
		{"ascii", func(s string) string { return s }, ""},
		{"fullwidth", mapRunes(func(r rune) string {
			switch {
			case r == ' ':
				return "\u3000"
			case r > ' ' && r < 0x7f:
				return string(r + 0xfee0)
			}
			return string(r)
		}), ""},
		{"fullwidth digits, ー dashes", mapRunes(func(r rune) string {
			switch {
			case r >= '0' && r <= '9':
				return string(r + 0xfee0)
			case r == '-':
				return "ー"
			}
			return string(r)
		}), ""},
		{"fullwidth @ and .", strings.NewReplacer("@", "＠", ".", "．").Replace, ""},
		{"zero-width space inside", inside("\u200b"), ""},
		{"zero-width space around", func(s string) string { return "\u200b" + strings.ReplaceAll(s, " ", " \u200b") + "\u200b" }, ""},
		{"zero-width joiner inside", inside("\u200d"), ""},
		{"word joiner inside", inside("\u2060"), ""},
		{"BOM inside", inside("\ufeff"), ""},
		{"soft hyphen inside", inside("\u00ad"), ""},
		{"zero-width space separators", strings.NewReplacer(" ", "\u200b", "-", "\u200b").Replace, ""},
		{"no-break space separators", strings.NewReplacer(" ", "\u00a0").Replace, ""},
		{"narrow no-break space separators", strings.NewReplacer(" ", "\u202f").Replace, ""},
		{"arabic-indic digits", digitsOf('٠'), ""},
		{"extended arabic-indic digits", digitsOf('۰'), ""},
		{"devanagari digits", digitsOf('०'), ""},
		{"thai digits", digitsOf('๐'), ""},
		{"mathematical digits", digitsOf('𝟎'), ""},
		{"ideographic full stop", strings.NewReplacer(".", "。").Replace, ""},
		{"dot separators", strings.NewReplacer(" ", ".", "-", ".").Replace, "card"},
		{"slash separators", strings.NewReplacer(" ", "/", "-", "/").Replace, "card"},
	}
}

// A kind is a kind of exported text; it returns what is exported for a
// value written in it.
type textKind struct {
	name string
	f    func(r *redact.Redactor, piiKind, v string) string
}

func tmpl(t string) func(*redact.Redactor, string, string) string {
	return func(r *redact.Redactor, _, v string) string { return r.Redact(fmt.Sprintf(t, v)) }
}

var entityNames = map[string]string{"card": "credit_card", "phone": "phone_number", "email": "email", "iban": "iban", "ip": "ip_address", "clean": "sys-date"}

func textKinds(t testing.TB) []textKind {
	allow, err := redact.NewContextAllowList("user.contact")
	if err != nil {
		t.Fatal(err)
	}
	ctx := func(r *redact.Redactor, _, v string) string {
		vals := allow.Extract(map[string]any{"user": map[string]any{"contact": v}}, r)
		if len(vals) != 1 {
			return "missing"
		}
		return vals[0].Value.(string)
	}
	ctxJSON := func(r *redact.Redactor, _, v string) string {
		vals := allow.Extract(map[string]any{"user": map[string]any{"contact": map[string]any{"value": v}}}, r)
		if len(vals) != 1 {
			return "missing"
		}
		return vals[0].Value.(string)
	}
	return []textKind{
		{"input", tmpl("Hi, it's %s, please help")},
		{"input ja", tmpl("連絡先は%sです。よろしく")},
		{"input ar", tmpl("رقمي %s شكرا")},
		{"output", tmpl("I have noted %s for you.")},
		{"output ja", tmpl("確認しました：%s。")},
		{"option label", tmpl("Use %s")},
		{"suggestion label", tmpl("Send to %s")},
		// mapping/turn.go exports an entity value as entity=value.
		{"entity value", func(r *redact.Redactor, k, v string) string { return r.Redact(entityNames[k] + "=" + v) }},
		{"context variable", ctx},
		{"context object", ctxJSON},
		{"log message", tmpl(`Invalid value "%s" for variable user_contact`)},
		{"log message 2", tmpl("Webhook call failed: payload contact=%s rejected")},
	}
}

// normalised is what a reader of the exported text sees: compatibility
// forms folded, digits of every script read as digits, invisible characters
// gone.
func normalised(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
		case unicode.IsDigit(r):
			b.WriteRune('0' + rune(digitOf(r)))
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// digitOf is an independent reading of a digit's value: Nd digits come in
// runs of ten from zero.
func digitOf(r rune) int {
	n := 0
	for unicode.IsDigit(r-1) && n < 9 {
		r--
		n++
	}
	return n
}

func fold(s string) string { return normalised(s) }

// valuePart is what an exported text holds in the place of the value: the
// text without its template (whose words, such as "email=", must not read as
// a leak) and without [REDACTED:name] marks.
func valuePart(k textKind, piiKind, out string) string {
	prefix, suffix, _ := strings.Cut(k.f(nil, piiKind, "\x00"), "\x00")
	if strings.HasPrefix(out, prefix) && strings.HasSuffix(out[len(prefix):], suffix) {
		out = out[len(prefix) : len(out)-len(suffix)]
	}
	return withoutReplacements(out)
}

var replacement = regexp.MustCompile(`\[REDACTED:[a-z0-9_]+\]`)

// withoutReplacements removes the [REDACTED:name] marks, whose letters
// would read as a leak of "mail" or "ip".
func withoutReplacements(s string) string { return replacement.ReplaceAllString(s, " ") }

// cleanValues are ordinary texts that must be exported unchanged.
func cleanValues() []string {
	return []string{
		// dates
		"2024-05-17", "17.05.2024", "05/17/2024", "2024/05/17", "17 May 2024", "2024年5月17日", "between 2020-2024",
		// times
		"12:30", "12:30:45", "10:00-11:00", "9:05 pm", "from 08:00 to 17:30",
		// ISO timestamps
		"2024-05-17T12:30:45Z", "2024-05-17T12:30:45.123+02:00", "2024-05-17 12:30:45", "20240517T123045Z",
		// prices and amounts
		"€1,234.56", "$12,345,678.90", "1 234 567 €", "¥12,800", "12.99 USD", "CHF 1'250.00", "0.97",
		// versions
		"1.2.3", "v2.14.0-rc.1", "1.22.5", "version 10.4.1.2", "build 2024.05.17.1",
		// order, invoice and ticket numbers
		"A-1042", "#1042", "ORD-2024-000123", "order 123456", "INV-20240517-0042", "PO 4500012345",
		"ticket INC0012345678", "case 00123456", "ref 12345678",
		// tracking numbers
		"1Z999AA10123456784", "9400111899223197428490", "794689021234", "RR123456785DE",
		"00340434161234567895", "JJD000390007765432", "1234567890",
		// other numbers
		"ISBN 978-3-16-148410-0", "9783161484100", "room 1204", "flight LH 400", "50%", "3 4 5 6 7 8 9",
		"1715942400120", "session 550e8400-e29b-41d4-a716-446655440000",
		"12:30–13:00", "10 000 items", "page 3 of 12", "Q3 2024", "48.8566, 2.3522", "1.5 kg", "-12.5 °C",
		"firmware 4.2.10.3", "build: 2.0.0.1", "invoice 2024-05-0042", "batch 2024/05/17-003", "№ 1042",
		"1Z 999 AA1 01 2345 6784", "EAN 4006381333931", "order 12345-67890", "+3 more items", "x2 x10",
	}
}

// cleanForms are the forms ordinary text also comes in.
func cleanForms() []form {
	var out []form
	for _, f := range forms() {
		switch f.name {
		case "ascii", "fullwidth", "fullwidth digits, ー dashes", "arabic-indic digits", "devanagari digits", "no-break space separators", "zero-width space around":
			out = append(out, f)
		}
	}
	return out
}

// readHandWritten reads testdata/privacy/cases.txt: "pii<TAB>kind<TAB>text"
// or "clean<TAB>text" per line, \u escapes allowed, # comments.
func readHandWritten(t testing.TB) (pii [][2]string, clean []string) {
	b, err := os.ReadFile(filepath.Join("testdata", "privacy", "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		unq := func(s string) string {
			var out string
			if _, err := fmt.Sscanf(`"`+strings.ReplaceAll(s, `"`, `\"`)+`"`, "%q", &out); err != nil {
				t.Fatalf("cases.txt:%d: %v", i+1, err)
			}
			return out
		}
		switch {
		case len(f) == 3 && f[0] == "pii":
			pii = append(pii, [2]string{f[1], unq(f[2])})
		case len(f) == 2 && f[0] == "clean":
			clean = append(clean, unq(f[1]))
		default:
			t.Fatalf("cases.txt:%d: want pii<TAB>kind<TAB>text or clean<TAB>text", i+1)
		}
	}
	return pii, clean
}

// Thresholds of the corpus (see the README, Privacy and security).
const (
	minDetection     = 0.995 // share of personal-data cases redacted without a leak
	maxFalsePositive = 0.02  // share of ordinary texts changed
)

func TestPrivacyCorpus(t *testing.T) {
	r := mustNew(t)
	kinds := textKinds(t)

	total, detected := 0, 0
	missByForm := map[string]int{}
	var misses []string
	for _, p := range piiValues() {
		seen := map[string]bool{}
		for _, f := range forms() {
			v := f.f(p.value)
			if seen[v] || f.only != "" && f.only != p.kind {
				continue // the form does not apply to this value
			}
			seen[v] = true
			for _, k := range kinds {
				out := k.f(r, p.kind, v)
				total++
				if strings.Contains(out, "[REDACTED:") && !p.secret(normalised(valuePart(k, p.kind, out))) {
					detected++
					continue
				}
				missByForm[f.name]++
				misses = append(misses, fmt.Sprintf("%s/%s/%s: %q -> %q", p.kind, f.name, k.name, v, out))
			}
		}
	}
	handPII, handClean := readHandWritten(t)
	for _, c := range handPII {
		out := r.Redact(c[1])
		total++
		if strings.Contains(out, "[REDACTED:") && !digitsLeak(normalised(out)) {
			detected++
			continue
		}
		missByForm["hand-written"]++
		misses = append(misses, fmt.Sprintf("%s/hand-written: %q -> %q", c[0], c[1], out))
	}

	cleanTotal, changed := 0, 0
	var fps []string
	for _, v := range cleanValues() {
		seen := map[string]bool{}
		for _, f := range cleanForms() {
			in := f.f(v)
			if seen[in] {
				continue
			}
			seen[in] = true
			for _, k := range kinds {
				want := k.f(nil, "clean", in)
				out := k.f(r, "clean", in)
				cleanTotal++
				if out != want {
					changed++
					fps = append(fps, fmt.Sprintf("%s/%s: %q -> %q", f.name, k.name, in, out))
				}
			}
		}
	}
	for _, in := range handClean {
		cleanTotal++
		if out := r.Redact(in); out != in {
			changed++
			fps = append(fps, fmt.Sprintf("hand-written: %q -> %q", in, out))
		}
	}

	det := float64(detected) / float64(total)
	fp := float64(changed) / float64(cleanTotal)
	for _, m := range misses {
		t.Logf("missed: %s", m)
	}
	for _, m := range fps {
		t.Logf("false positive: %s", m)
	}
	names := make([]string, 0, len(missByForm))
	for n := range missByForm {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t.Logf("misses in form %q: %d", n, missByForm[n])
	}
	t.Logf("privacy corpus: detection %d/%d = %.2f%%, false positives %d/%d = %.2f%%",
		detected, total, 100*det, changed, cleanTotal, 100*fp)
	if det < minDetection {
		t.Errorf("detection rate %.4f < %.4f", det, minDetection)
	}
	if fp > maxFalsePositive {
		t.Errorf("false-positive rate %.4f > %.4f", fp, maxFalsePositive)
	}
}
