package redact

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The detectors read ASCII. Personal data written in other forms — full-width
// digits and "＠" (Japanese input methods), Arabic-Indic or Devanagari
// digits, a zero-width space inside a number or a domain — is found on a
// normalised view of the text, one rune at a time:
//
//   - invisible characters (format characters, category Cf: U+200B–U+200F,
//     U+2060–U+2064, U+FEFF, the soft hyphen U+00AD, bidi controls, …; and
//     U+034F, U+180B–U+180F) are removed;
//   - a decimal digit of any script (category Nd) becomes its ASCII digit;
//   - a dash (category Pd, U+2212 minus, U+30FC and U+FF70 prolonged sound
//     marks, which Japanese input methods type for "-") becomes "-";
//   - the ideographic full stops U+3002 and U+FF61 become "." (IDNA reads
//     them as label separators);
//   - a space of any kind (category Zs) becomes " ";
//   - anything else becomes its Unicode compatibility normalisation (NFKC),
//     so "＠" is "@", "．" is "." and "①" is "1".
//
// When a text holds invisible characters, a second view reads each of them
// as a space, since one may stand for a separator.
//
// Every byte of the view remembers the rune of the text it came from, so a
// finding on the view redacts exactly the runes that produced it, and the
// rest of the text is exported as it was written. Text of pure ASCII is its
// own view: it takes the detectors' fast path, with no extra pass.

// ndRange is a range of decimal digits: Unicode encodes each script's digits
// 0–9 contiguously and in order, so a range starts at a zero.
type ndRange struct{ lo, hi rune }

var ndRanges = func() []ndRange {
	var out []ndRange
	add := func(lo, hi, stride rune) {
		if stride != 1 {
			for r := lo; r <= hi; r += stride {
				out = append(out, ndRange{r, r})
			}
			return
		}
		out = append(out, ndRange{lo, hi})
	}
	for _, r := range unicode.Nd.R16 {
		add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	for _, r := range unicode.Nd.R32 {
		add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	return out
}()

// digitValue returns the ASCII digit of a decimal digit of any script.
func digitValue(r rune) (byte, bool) {
	i, j := 0, len(ndRanges) // the first range with hi >= r
	for i < j {
		h := int(uint(i+j) >> 1)
		if ndRanges[h].hi < r {
			i = h + 1
		} else {
			j = h
		}
	}
	if i == len(ndRanges) || r < ndRanges[i].lo {
		return 0, false
	}
	return byte('0' + (r-ndRanges[i].lo)%10), true
}

func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == 0x034f || r >= 0x180b && r <= 0x180f
}

func dash(r rune) bool {
	return r == 0x2212 || r == 0x30fc || r == 0xff70 || unicode.Is(unicode.Pd, r)
}

// Kinds of fold.
const (
	foldKeep = iota // the rune as it is
	foldDrop        // nothing
	foldByte        // one ASCII byte
	foldNFKC        // its NFKC form
)

// fold says what the non-ASCII rune r, encoded as src, becomes in the view.
// For foldByte it returns the byte; for foldNFKC the rune's compatibility
// decomposition, which holds the same ASCII characters as its NFKC form.
// Runes of the Basic Multilingual Plane are looked up in a table.
func fold(r rune, src string) (int, byte, []byte) {
	if r < 0x10000 && !(r == utf8.RuneError && len(src) == 1) {
		e := bmpFolds()[r]
		k := int(e >> 8)
		if k == foldNFKC {
			return k, 0, norm.NFKC.PropertiesString(src).Decomposition()
		}
		return k, byte(e), nil
	}
	return foldSlow(r, src)
}

// bmpFolds holds fold's answer for every rune below U+10000, kind<<8|byte;
// built on first use (a few milliseconds), 128 KiB.
var bmpFolds = sync.OnceValue(func() *[0x10000]uint16 {
	t := new([0x10000]uint16)
	var buf [utf8.UTFMax]byte
	for r := rune(utf8.RuneSelf); r < 0x10000; r++ {
		n := utf8.EncodeRune(buf[:], r)
		k, b, _ := foldSlow(r, string(buf[:n]))
		if k == foldNFKC {
			// One ASCII character ("１", "＠", "．"): a byte.
			if f := norm.NFKC.String(string(buf[:n])); len(f) == 1 && f[0] < utf8.RuneSelf {
				k, b = foldByte, f[0]
			}
		}
		t[r] = uint16(k)<<8 | uint16(b)
	}
	return t
})

func foldSlow(r rune, src string) (int, byte, []byte) {
	switch {
	case r == utf8.RuneError && len(src) == 1:
		return foldKeep, 0, nil
	case invisible(r):
		return foldDrop, 0, nil
	case r == 0x3002 || r == 0xff61:
		return foldByte, '.', nil
	case dash(r):
		return foldByte, '-', nil
	case unicode.Is(unicode.Zs, r):
		return foldByte, ' ', nil
	}
	if d, ok := digitValue(r); ok {
		return foldByte, d, nil
	}
	p := norm.NFKC.PropertiesString(src)
	if d := p.Decomposition(); d != nil && !norm.NFKC.IsNormalString(src) {
		return foldNFKC, 0, d
	}
	return foldKeep, 0, nil
}

// viewCounts counts, without building it, what count would find in the view
// of s, and reports whether the view differs from s and whether s holds
// invisible characters.
func viewCounts(s string) (c counts, changed, invisibles bool) {
	t := bmpFolds()
	for i, r := range s {
		if r < utf8.RuneSelf {
			c.add(byte(r))
			continue
		}
		var k int
		var b byte
		var d []byte
		if r < 0x10000 && r != utf8.RuneError {
			e := t[r]
			if k, b = int(e>>8), byte(e); k == foldKeep {
				continue // most runes of most scripts
			}
			if k == foldNFKC {
				d = norm.NFKC.PropertiesString(s[i:]).Decomposition()
			}
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			k, b, d = foldSlow(r, s[i:i+size])
		}
		switch k {
		case foldDrop:
			changed, invisibles = true, true
		case foldByte:
			changed = true
			c.add(b)
		case foldNFKC:
			changed = true
			for _, b := range d {
				c.add(b)
			}
		}
	}
	return c, changed, invisibles
}

func (c *counts) add(b byte) {
	switch {
	case isDigit(b):
		c.digits++
	case b == '@':
		c.ats++
	case b == ':':
		c.colons++
	case b == '.':
		c.dots++
	}
}

// view is the normalised view of a text: v[j] came from the rune
// s[from[j]:to[j]].
type view struct {
	v        string
	from, to []int32
}

// newView builds the view of s. With asSpace, invisible characters become
// spaces instead of nothing: one standing for a separator
// ("415\u200b555\u200b2671") is found on that view, one hiding inside a
// group of digits or a domain on the other.
func newView(s string, asSpace bool) view {
	v := make([]byte, 0, len(s))
	from := make([]int32, 0, len(s))
	to := make([]int32, 0, len(s))
	for i := 0; i < len(s); {
		size := 1
		n := len(v)
		if s[i] < utf8.RuneSelf {
			v = append(v, s[i])
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			src := s[i : i+size]
			switch k, b, _ := fold(r, src); k {
			case foldDrop:
				if asSpace {
					v = append(v, ' ')
				}
			case foldKeep:
				v = append(v, src...)
			case foldByte:
				v = append(v, b)
			case foldNFKC:
				v = norm.NFKC.AppendString(v, src)
			}
		}
		for range len(v) - n {
			from = append(from, int32(i))
			to = append(to, int32(i+size))
		}
		i += size
	}
	return view{string(v), from, to}
}

// original maps a span of the view to the runes of the text it came from.
func (w view) original(sp span) span {
	return span{int(w.from[sp.start]), int(w.to[sp.end-1]), sp.repl}
}
