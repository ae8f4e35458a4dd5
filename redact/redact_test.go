package redact_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/assistant-otel/assistant-otel/redact"
)

func mustNew(t testing.TB, opts ...redact.Option) *redact.Redactor {
	t.Helper()
	r, err := redact.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	rEmail = "[REDACTED:email]"
	rPhone = "[REDACTED:phone]"
	rCard  = "[REDACTED:card]"
	rIBAN  = "[REDACTED:iban]"
	rIP    = "[REDACTED:ip]"
)

func TestRedactPositives(t *testing.T) {
	r := mustNew(t)
	for _, c := range []struct{ in, want string }{
		// e-mail
		{"mail me at john.doe+shop@example.co.uk please", "mail me at " + rEmail + " please"},
		{"JOHN_DOE@EXAMPLE.COM", rEmail},
		{"<a@b.io>", "<" + rEmail + ">"},
		{"mailto:anna-maria@sub.domain.example.org.", "mailto:" + rEmail + "."},
		{"メールはtaro.yamada@example.jpです", "メールは" + rEmail + "です"},
		{"two: a@x.de, b@y.fr", "two: " + rEmail + ", " + rEmail},
		{"idn x@xn--bcher-kva.example", "idn " + rEmail},
		// phone: international
		{"call +1 415 555 2671 now", "call " + rPhone + " now"},
		{"+1 (415) 555-2671", rPhone},
		{"+44 20 7946 0958", rPhone},
		{"+44 (0)20 7946 0958", rPhone},
		{"+49 30 12345678", rPhone},
		{"+33 6 12 34 56 78", rPhone},
		{"+81 3-1234-5678", rPhone},
		{"+4930123456", rPhone},
		{"0044 20 7946 0958", rPhone},
		{"Tel:+49 30 12345678", "Tel:" + rPhone},
		// phone: national
		{"(415) 555-2671", rPhone},
		{"415-555-2671", rPhone},
		{"415.555.2671", rPhone},
		{"020 7946 0958", rPhone},
		{"07700 900123", rPhone},
		{"06 12 34 56 78", rPhone},
		{"06\u00a012\u00a034\u00a056\u00a078", rPhone},
		{"030 12345678", rPhone},
		{"0301234567", rPhone},
		{"03-1234-5678", rPhone},
		{"電話番号は090-1234-5678です", "電話番号は" + rPhone + "です"},
		{"912 345 678", rPhone},
		{"phone:0612345678", "phone:" + rPhone},
		// cards (test numbers, Luhn-valid)
		{"card 4111 1111 1111 1111 exp 12/27", "card " + rCard + " exp 12/27"},
		{"4111-1111-1111-1111", rCard},
		{"4111111111111111", rCard},
		{"amex 3782 822463 10005", "amex " + rCard},
		{"5555555555554444.", rCard + "."},
		{"6011 0009 9013 9424", rCard},
		{"4000 0566 5566 5556", rCard},
		// IBAN
		{"IBAN DE89 3704 0044 0532 0130 00 thanks", "IBAN " + rIBAN + " thanks"},
		{"GB82WEST12345698765432", rIBAN},
		{"gb82 west 1234 5698 7654 32", rIBAN},
		{"FR14 2004 1010 0505 0001 3M02 606", rIBAN},
		{"IBAN:NL91ABNA0417164300", "IBAN:" + rIBAN},
		{"NO9386011117947", rIBAN},
		// IP
		{"from 203.0.113.9 today", "from " + rIP + " today"},
		{"ip=10.0.0.1", "ip=" + rIP},
		{"10.185.27.136:8080", rIP + ":8080"},
		{"[2001:db8::8a2e:370:7334]", "[" + rIP + "]"},
		{"fe80::1%eth0", rIP + "%eth0"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", rIP},
		{"mapped ::ffff:192.0.2.1 ok", "mapped " + rIP + " ok"},
		{"::1", rIP},
		// mixed, with other scripts around
		{"😀 a@b.co 😀 +1 415 555 2671 مرحبا", "😀 " + rEmail + " 😀 " + rPhone + " مرحبا"},
		// two numbers in a row
		{"on 2024-05-17 0612345678", "on 2024-05-17 " + rPhone},
		{"ref 123456 (415) 555-2671", "ref 123456 " + rPhone},
		{"+1 415 555 2671, 4111 1111 1111 1111", rPhone + ", " + rCard},
		{"call 0612345678 or 0798765432", "call " + rPhone + " or " + rPhone},
		{"שלום 203.0.113.9", "שלום " + rIP},
	} {
		if got := r.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestRedactNegatives(t *testing.T) {
	r := mustNew(t)
	for _, in := range []string{
		// order numbers, references
		"Where is my order A-1042?",
		"order #1042 and #20240517",
		"ORD-2024-000123",
		"order 123456",
		"order number 1234567890",
		"ticket INC0012345678",
		"ref 12345678",
		// dates and times
		"2024-05-17",
		"on 17.05.2024 at 12:30",
		"05/17/2024",
		"2024/05/17",
		"2024-05-17 12:30:45",
		"2024-05-17T12:30:45.123Z",
		"10:00-11:00",
		"12:30:45",
		"Mon 17 May 2024",
		"between 2020-2024",
		// numbers
		"confidence 0.9734",
		"0.97",
		"score 0.123456789",
		"€1,234,567.89",
		"$ 12345678.90",
		"1 234 567 €",
		"version 1.2.3",
		"v10.185.27.136",
		"50%",
		"42",
		"3 4 5 6 7 8 9 10 11",
		"10000-20000",
		// UUIDs and hashes
		"550e8400-e29b-41d4-a716-446655440000",
		"session fafe1014-dac9-4056-9a7a-32a9bdf6441d",
		"12345678-1234-5678-1234-567812345678",
		"sha 3a7bd3e2360a3d29eea436fcfb7e44c735d117c4",
		// near misses
		"not an email: user@localhost",
		"nor this: root@localhost. Thanks", // one label, with a dot in the text
		"@handle and a@b",
		"x@y.z1",
		"GB82 WEST 1234 5698 7654 33", // bad IBAN check
		"4111 1111 1111 1112",         // bad Luhn, 16 digits
		"999.999.999.999",             // not an IPv4
		"1.2.3",                       // not an IPv4
		"00:1A:2B:3C:4D:5E",           // a MAC
		"a::b",                        // too short to be an address
		"C++ and C#",
		// already masked by Watson
		"my PIN is ****",
		"card ************1111",
		"j***@example.com",
		"jo**n@example.com",
		"call ****5678",
		"+1 415 ***-**71",
		"***-***-2671",
		// other scripts
		"こんにちは、注文の状況を教えてください",
		"مرحبا بالعالم",
		"👨‍👩‍👧‍👦🇯🇵",
		"",
	} {
		if got := r.Redact(in); got != in {
			t.Errorf("Redact(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestBuiltinsOffAndCustomPatterns(t *testing.T) {
	in := "a@b.co +1 415 555 2671, 4111 1111 1111 1111 GB82WEST12345698765432 10.0.0.1 EMP-123456"
	if got := mustNew(t, redact.WithoutBuiltin(redact.Phone)).Redact(in); got != rEmail+" +1 415 555 2671, "+rCard+" "+rIBAN+" "+rIP+" EMP-123456" {
		t.Errorf("without phone: %q", got)
	}
	if got := mustNew(t, redact.WithBuiltins(redact.Email, redact.IP)).Redact(in); got != rEmail+" +1 415 555 2671, 4111 1111 1111 1111 GB82WEST12345698765432 "+rIP+" EMP-123456" {
		t.Errorf("email and ip only: %q", got)
	}
	if got := mustNew(t, redact.WithBuiltins()).Redact(in); got != in {
		t.Errorf("no built-ins: %q", got)
	}
	emp := mustNew(t, redact.WithBuiltins(), redact.WithPattern("employee_id", regexp.MustCompile(`\bEMP-\d{6}\b`)))
	if got := emp.Redact(in + " EMP-12**56"); got != strings.Replace(in, "EMP-123456", "[REDACTED:employee_id]", 1)+" EMP-12**56" {
		t.Errorf("custom pattern: %q", got)
	}
	name, re, err := redact.ParsePattern("policy=POL[0-9]{8}")
	if err != nil || name != "policy" || !re.MatchString("POL12345678") {
		t.Fatalf("ParsePattern: %q %v %v", name, re, err)
	}
	if got := mustNew(t, redact.WithPattern(name, re)).Redact("policy POL12345678, mail a@b.co"); got != "policy [REDACTED:policy], mail "+rEmail {
		t.Errorf("custom with built-ins: %q", got)
	}
	// Overlapping findings merge.
	ov := mustNew(t, redact.WithPattern("acct", regexp.MustCompile(`acct 4111[\d ]+`)))
	if got := ov.Redact("acct 4111 1111 1111 1111 end"); got != "[REDACTED:acct]end" {
		t.Errorf("overlap: %q", got)
	}
	if got := mustNew(t).Enabled(); !slices.Equal(got, redact.Builtins()) {
		t.Errorf("Enabled = %v", got)
	}
	var nilR *redact.Redactor
	if nilR.Redact("a@b.co") != "a@b.co" {
		t.Error("nil Redactor changed the text")
	}
}

func TestNewValidates(t *testing.T) {
	for name, opt := range map[string]redact.Option{
		"unknown builtin off":  redact.WithoutBuiltin("ssn"),
		"unknown builtin on":   redact.WithBuiltins("email", "names"),
		"bad pattern name":     redact.WithPattern("Bad Name", regexp.MustCompile("x")),
		"nil pattern":          redact.WithPattern("x", nil),
		"builtin name clashes": redact.WithPattern("", regexp.MustCompile("x")),
	} {
		if _, err := redact.New(opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := redact.New(redact.WithPattern("a", regexp.MustCompile("x")), redact.WithPattern("a", regexp.MustCompile("y"))); err == nil {
		t.Error("duplicate pattern: no error")
	}
	for _, spec := range []string{"", "name", "=x", "name=", "Name=x", "n=("} {
		if _, _, err := redact.ParsePattern(spec); err == nil {
			t.Errorf("ParsePattern(%q): no error", spec)
		}
	}
}

func TestRedactKeepsUTF8AndAllocatesNothingWhenClean(t *testing.T) {
	r := mustNew(t)
	clean := "I'd like to change the delivery address of order A-1042 to the one I gave you on 2024-05-17, thanks!"
	if n := testing.AllocsPerRun(100, func() { r.Redact(clean) }); n != 0 {
		t.Errorf("clean text: %v allocations, want 0", n)
	}
	mixed := "日本語 a@b.co 😀 \u200fעברית\u200e +44 20 7946 0958 \xef\xbf\xbd"
	got := r.Redact(mixed)
	if !utf8.ValidString(got) || !strings.Contains(got, "日本語") || !strings.Contains(got, "\u200fעברית\u200e") {
		t.Errorf("Redact(%q) = %q", mixed, got)
	}
}

// Typical utterances, about 100 characters.
var (
	benchClean = "Hi, I would like to know where my order A-1042 is, it was supposed to arrive on Monday 12 May."
	benchPII   = "Hi, I'm jane.doe@example.com, call me on +44 20 7946 0958 about card 4111 1111 1111 1111 please."
)

func BenchmarkRedact(b *testing.B) {
	r := mustNew(b)
	for _, c := range []struct{ name, in string }{{"clean", benchClean}, {"pii", benchPII}, {"japanese", "注文番号A-1042の配送状況を教えてください。明日の午前中に届きますか？よろしくお願いします🙏"},
		{"japanese_pii", "カード番号は４１１１－１１１１－１１１１－１１１１、電話は０９０ー１２３４ー５６７８です。よろしくお願いします"},
		{"arabic_pii", "مرحبا، رقمي ٠٥٥١٢٣٤٥٦٧ والبريد ahmed@مثال.مصر شكرا لكم على المساعدة"},
		{"zwsp_pii", "call me on 415\u200b555\u200b2671 or mail jane\u200b@example.com about the order A-1042 please"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				r.Redact(c.in)
			}
		})
	}
}
