package receiver

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// DefaultLogInterval is how often at most one line per reason is logged for
// events anyone on the network can cause: authentication failures and TLS
// handshake errors. Their metrics count every one.
const DefaultLogInterval = 10 * time.Second

// logLimiter lets through at most one log line per key per interval and
// counts the lines it held back, reported with the next line let through.
// Keys come from small fixed sets (reasons), so its map stays small; it
// never holds more than maxLimiterKeys (beyond, one shared key).
type logLimiter struct {
	every time.Duration
	now   func() time.Time
	mu    sync.Mutex
	keys  map[string]*limiterKey
}

type limiterKey struct {
	last       time.Time
	suppressed int64
}

const maxLimiterKeys = 64

func newLogLimiter(every time.Duration, now func() time.Time) *logLimiter {
	return &logLimiter{every: every, now: now, keys: map[string]*limiterKey{}}
}

// allow reports whether a line for key may be logged now and, if so, how
// many were held back since the last one.
func (l *logLimiter) allow(key string) (ok bool, suppressed int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys[key]
	if k == nil {
		if len(l.keys) >= maxLimiterKeys {
			key = "other"
			k = l.keys[key]
		}
		if k == nil {
			l.keys[key] = &limiterKey{last: l.now()}
			return true, 0
		}
	}
	t := l.now()
	if l.every > 0 && t.Sub(k.last) < l.every {
		k.suppressed++
		return false, 0
	}
	k.last, suppressed, k.suppressed = t, k.suppressed, 0
	return true, suppressed
}

// logSafe returns s for a log line when it is a short plain token (ids,
// event names as Watson sends them), otherwise a fingerprint that names no
// content: attacker-chosen strings never reach the logs verbatim.
func logSafe(s string) string {
	if len(s) <= 64 {
		plain := true
		for i := 0; i < len(s) && plain; i++ {
			c := s[i]
			plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		}
		if plain {
			return s
		}
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:6])
}
