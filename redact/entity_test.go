package redact_test

import (
	"regexp"
	"testing"

	"github.com/assistant-otel/assistant-otel/redact"
)

// Entity values are exported as "entity=value" (mapping/turn.go): the value
// after "=" must be redacted like the value alone, and a card glued to a
// label must not leave its first group behind.
func TestRedactKeyValueAndGluedCards(t *testing.T) {
	r := mustNew(t)
	for _, c := range []struct{ in, want string }{
		{"credit_card=4111111111111111", "credit_card=" + rCard},
		{"card=4111-1111-1111-1111", "card=" + rCard},
		{"card=4111 1111 1111 1111", "card=" + rCard},
		{"phone_number=(415) 555-2671", "phone_number=" + rPhone},
		{"phone_number=+1 415 555 2671", "phone_number=" + rPhone},
		{"phone=0612345678", "phone=" + rPhone},
		{"email=john.doe@example.com", "email=" + rEmail},
		{"iban=DE89370400440532013000", "iban=" + rIBAN},
		{"ip=2001:db8::1", "ip=" + rIP},
		{"CC#4111 1111 1111 1111", "CC#" + rCard},
		{"x4111 1111 1111 1111 exp 12/27", "x" + rCard + " exp 12/27"},
	} {
		if got := r.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	for _, in := range []string{
		"order=1042",
		"qty=12",
		"date=2024-05-17",
		"time=12:30:45",
		"version=1.2.3",
		"amount=1234567.89",
		"id=1234567890",
		"ts=1715942400120",    // a millisecond timestamp that passes the Luhn check
		"ref=1234567890128",   // a 13-digit id that passes it too
		"a==4111111111111111", // not a key=value pair
		"ID4532015112830366",  // one glued group: an id, as before
		"order_number=ORD-2024-000123",
	} {
		if got := r.Redact(in); got != in {
			t.Errorf("Redact(%q) = %q, want it unchanged", in, got)
		}
	}
}

// The normalised view: the forms an attacker or an input method produces are
// found, and everything outside a finding is exported as written.
func TestRedactNormalisedForms(t *testing.T) {
	r := mustNew(t)
	for _, c := range []struct{ in, want string }{
		{"カード番号は４１１１－１１１１－１１１１－１１１１です", "カード番号は" + rCard + "です"},
		{"ｃａｒｄ＝４１１１１１１１１１１１１１１１", "ｃａｒｄ＝" + rCard},
		{"メールはｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍです", "メールは" + rEmail + "です"},
		{"taro＠example．com", rEmail},
		{"電話は０９０ー１２３４ー５６７８です", "電話は" + rPhone + "です"},
		{"call 415\u200b555\u200b2671 now", "call " + rPhone + " now"},
		{"card 4111\u200b1111\u200b1111\u200b1111.", "card " + rCard + "."},
		{"card 41\u200d11 1111 1111 1111", "card " + rCard},
		{"mail john@exam\u200bple.com\u200b!", "mail " + rEmail + "\u200b!"},
		{"\u200bjohn@example.com", "\u200b" + rEmail},
		{"soft 4111\u00ad1111\u00ad1111\u00ad1111", "soft " + rCard},
		{"رقمي ٠٥٥١٢٣٤٥٦٧ شكرا", "رقمي " + rPhone + " شكرا"},
		{"फोन +९१ ९८७६५ ४३२१० करें", "फोन " + rPhone + " करें"},
		{"mail josé@bücher.de ok", "mail " + rEmail + " ok"},
		{"почта иван@пример.рф да", "почта " + rEmail + " да"},
		{"用户@例子.中国", rEmail},
		{"メールはtaro.yamada@example.jpです。次に", "メールは" + rEmail + "です。次に"},
		{"card 4111.1111.1111.1111 ok", "card " + rCard + " ok"},
		{"card 4111/1111/1111/1111.", "card " + rCard + "."},
		{"amex 3782/822463/10005", "amex " + rCard},
		{"ip １９２．１６８．０．１", "ip " + rIP},
		{"確認しました：2001:db8::1。", "確認しました：" + rIP + "。"},
		{"iban ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００", "iban " + rIBAN},
		{"tel\u3000４１５\u3000５５５\u3000２６７１", "tel\u3000" + rPhone},
	} {
		if got := r.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	for _, in := range []string{
		"２０２４年５月１７日　１２：３０",
		"注文番号ＡＢ－１０４２",
		"価格は１，２８０円です",
		"٢٠٢٤-٠٥-١٧",
		"version １.２.３",
		"2024/05/17",
		"v1.2.3/4.5.6",
		"1.2.3.4.5.6.7.8",
		"4111.1111.1111.1112", // bad Luhn
		"1111.1111.1111.1111", // no card starts with 1
		"12/05/2024 10:30",
		"日本語のテキスト",
		"\u200b\u200b\u200b",
	} {
		if got := r.Redact(in); got != in {
			t.Errorf("Redact(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestMaxLenAndMarks(t *testing.T) {
	r := mustNew(t)
	for _, in := range []string{"::1", "a@b.co", "::1 ::1 ::1", "1::", "+12345678"} {
		if got := r.Redact(in); len(got) > r.MaxLen(len(in)) {
			t.Errorf("Redact(%q) = %q: longer than MaxLen %d", in, got, r.MaxLen(len(in)))
		}
	}
	if r.MaxLen(3) != 16 || r.MaxLen(0) != 0 {
		t.Errorf("MaxLen(3) = %d, MaxLen(0) = %d", r.MaxLen(3), r.MaxLen(0))
	}
	x := mustNew(t, redact.WithPattern("x", regexp.MustCompile("x")))
	if got := x.Redact("[REDACTED:x] x"); got != "[REDACTED:x] [REDACTED:x]" {
		t.Errorf("a mark was redacted again: %q", got)
	}
	if x.MaxLen(2) != 2*len("[REDACTED:x]") {
		t.Errorf("MaxLen with a pattern = %d", x.MaxLen(2))
	}
	// A finding next to a mark's "]" is found in the same call, not on
	// the next one.
	chain := "00000000.0.00000::0"
	once := r.Redact(chain)
	if again := r.Redact(once); again != once {
		t.Errorf("Redact(%q) = %q, again %q", chain, once, again)
	}
}
