package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// findEmails appends the e-mail addresses in s: a local part, "@" and a
// domain (domainEnd), neither touching an asterisk.
func findEmails(s string, spans []span) []span {
	from := 0
	for from < len(s) {
		k := strings.IndexByte(s[from:], '@')
		if k < 0 {
			break
		}
		k += from
		from = k + 1
		start, cls := k, 0
		for start > 0 {
			c, size := lastEmailChar(s[:start], true)
			if c == 0 || cls != 0 && c != cls {
				break
			}
			cls = c
			start -= size
		}
		for start < k && s[start] == '.' {
			start++
		}
		if start == k || start > 0 && s[start-1] == '*' {
			continue
		}
		end, ok := domainEnd(s, k+1)
		if !ok || end < len(s) && s[end] == '*' {
			continue
		}
		spans = append(spans, span{start, end, replEmail})
		from = end
	}
	return spans
}

// Classes of the characters of a local part or a domain label. A local part
// or a domain is all of one class, so that an address written inside text
// without spaces ("メールはtaro@example.jpです") ends where its script does.
const (
	emailSpaced   = 1 // ASCII, and letters of scripts written with spaces (ü, я, é, ع)
	emailUnspaced = 2 // letters of scripts written without spaces (漢字, かな, 한글, ไทย)
)

// emailChar returns the class of the character at the start of s, 0 if it
// cannot be part of an address, and its size. local selects the characters
// of a local part, else those of a domain label.
func emailChar(s string, local bool) (int, int) {
	if c := s[0]; c < utf8.RuneSelf {
		if local && isLocal(c) || !local && (isAlnum(c) || c == '-') {
			return emailSpaced, 1
		}
		return 0, 1
	}
	r, size := utf8.DecodeRuneInString(s)
	return runeClass(r), size
}

func lastEmailChar(s string, local bool) (int, int) {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return emailChar(s[len(s)-1:], local)
	}
	r, size := utf8.DecodeLastRuneInString(s)
	return runeClass(r), size
}

func runeClass(r rune) int {
	switch {
	case !unicode.IsLetter(r) && !unicode.IsMark(r):
		return 0
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar):
		return emailUnspaced
	}
	return emailSpaced
}

// domainEnd returns the end of a domain name starting at p: dot-separated
// labels of letters (of any script), digits and inner hyphens, at least
// two, the last of two or more letters (or an xn-- label).
func domainEnd(s string, p int) (int, bool) {
	labels, cls := 0, 0
	lastStart, lastEnd, lastChars := 0, 0, 0
	i := p
	for {
		ls, chars := i, 0
		for i < len(s) {
			c, size := emailChar(s[i:], false)
			if c == 0 || cls != 0 && c != cls {
				break
			}
			cls = c
			i += size
			chars++
		}
		if i == ls || s[ls] == '-' || s[i-1] == '-' || chars > 63 {
			// An empty label or one with an edge hyphen ends the domain
			// at the previous label.
			break
		}
		labels++
		lastStart, lastEnd, lastChars = ls, i, chars
		if i+1 < len(s) && s[i] == '.' {
			if c, _ := emailChar(s[i+1:], false); c != 0 && c == cls {
				i++
				continue
			}
		}
		break
	}
	if labels < 2 || lastChars < 2 {
		return 0, false
	}
	tld := s[lastStart:lastEnd]
	if !strings.HasPrefix(strings.ToLower(tld), "xn--") {
		for _, r := range tld {
			if r < utf8.RuneSelf && !isLetter(byte(r)) || r >= utf8.RuneSelf && runeClass(r) == 0 {
				return 0, false
			}
		}
	}
	return lastEnd, true
}
