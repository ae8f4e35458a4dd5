package redact

import (
	"net/netip"
	"strings"
)

// findIPv4 appends the IPv4 addresses in s that are not versions.
func findIPv4(s string, spans []span) []span {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		if !wordBoundary(s, i) || i > 0 && s[i-1] == '.' {
			i = skipToken(s, i)
			continue
		}
		end, ok := ipv4End(s, i)
		// A port may follow (":8080"), not more digits or dots.
		if ok && (end == len(s) || !isWord(s[end]) && (s[end] != '.' || end+1 == len(s) || !isDigit(s[end+1]))) && !afterVersionWord(s, i) {
			spans = append(spans, span{i, end, replIP})
		}
		i = skipToken(s, i)
	}
	return spans
}

// afterVersionWord reports whether the word before p names a version
// ("version 10.4.1.2", "build 2024.5.17.1"): four dotted numbers there are
// a version, not an address.
func afterVersionWord(s string, p int) bool {
	e := p
	for e > 0 && (s[e-1] == ' ' || s[e-1] == ':') {
		e--
	}
	b := e
	for b > 0 && isLetter(s[b-1]) {
		b--
	}
	if e == p || b > 0 && isWord(s[b-1]) {
		return false
	}
	switch strings.ToLower(s[b:e]) {
	case "version", "ver", "build", "release", "firmware", "fw", "v":
		return true
	}
	return false
}

// ipv4End parses four dotted decimal octets (0–255, no leading zeros) at p.
func ipv4End(s string, p int) (int, bool) {
	i := p
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(s) || s[i] != '.' {
				return 0, false
			}
			i++
		}
		st, v := i, 0
		for i < len(s) && isDigit(s[i]) && i-st < 4 {
			v = v*10 + int(s[i]-'0')
			i++
		}
		n := i - st
		if n == 0 || n > 3 || v > 255 || n > 1 && s[st] == '0' {
			return 0, false
		}
	}
	return i, true
}

// findIPv6 appends the IPv6 addresses in s, as netip parses them.
func findIPv6(s string, spans []span) []span {
	for i := 0; i < len(s); {
		c := s[i]
		if !isHex(c) && c != ':' {
			i++
			continue
		}
		if i > 0 && (isWord(s[i-1]) || s[i-1] == ':' || s[i-1] == '.') {
			for i < len(s) && (isHex(s[i]) || s[i] == ':') {
				i++
			}
			continue
		}
		j, colons, hex, digit := i, 0, false, false
		for j < len(s) && (isHex(s[j]) || s[j] == ':' || s[j] == '.') && j-i < 64 {
			switch {
			case s[j] == ':':
				colons++
			case isDigit(s[j]):
				hex, digit = true, true
			default:
				hex = true
			}
			j++
		}
		end := j
		for end > i && s[end-1] == '.' {
			end--
		}
		if end-i >= 2 && s[end-1] == ':' && s[end-2] != ':' { // "fe80::1: …"
			end--
		}
		st := i
		if s[st] == ':' && st+1 < end && s[st+1] != ':' {
			st++ // a label's colon (a full-width "：" in the view): "電話：2001:db8::1"
		}
		if (colons >= 3 || digit) && hex && (rightBoundary(s, end) || s[end] == '%') {
			if a, err := netip.ParseAddr(s[st:end]); err == nil && a.Is6() {
				spans = append(spans, span{st, end, replIP})
			}
		}
		if j == i {
			j++
		}
		i = j
	}
	return spans
}
