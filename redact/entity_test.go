package redact_test

import "testing"

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
