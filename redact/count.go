package redact

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// counts is what the pre-checks need to know about a text.
type counts struct {
	digits, ats, colons, dots int
	high                      int // bytes of non-ASCII characters
}

const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
	low7 = 0x7f7f7f7f7f7f7f7f
)

// between returns, in the high bit of each byte, whether that byte b of x
// satisfies m < b < n (0 <= m <= 127, 0 <= n <= 128): "countbetween" from
// Sean Anderson's Bit Twiddling Hacks, exact for every byte value.
func between(x, lo, m, n uint64) uint64 {
	return (ones*(127+n) - lo) & ^x & (lo + ones*(127-m)) & high
}

// count counts digits, '@', ':', '.' and non-ASCII bytes eight bytes at a
// time.
func count(s string) counts {
	var c counts
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		lo := x & low7
		c.digits += bits.OnesCount64(between(x, lo, '0'-1, '9'+1))
		c.ats += bits.OnesCount64(between(x, lo, '@'-1, '@'+1))
		c.colons += bits.OnesCount64(between(x, lo, ':'-1, ':'+1))
		c.dots += bits.OnesCount64(between(x, lo, '.'-1, '.'+1))
		c.high += bits.OnesCount64(x & high)
	}
	for ; i < len(b); i++ {
		switch ch := b[i]; {
		case ch >= '0' && ch <= '9':
			c.digits++
		case ch == '@':
			c.ats++
		case ch == ':':
			c.colons++
		case ch == '.':
			c.dots++
		case ch >= 0x80:
			c.high++
		}
	}
	return c
}
