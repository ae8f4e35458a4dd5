package receiver

import (
	"errors"
	"io"
	"sync/atomic"
)

// firstChunk is the first reservation, and buffer, of a body whose length
// is not known in advance (chunked, or gzip-compressed): it grows by
// doubling from there, each growth reserved before it is read into.
const firstChunk = 64 << 10

// budget counts the body bytes held by requests in flight against a limit.
type budget struct {
	max  int64
	used atomic.Int64
}

// tryReserve counts n more bytes if they fit under the limit.
func (b *budget) tryReserve(n int64) bool {
	for {
		cur := b.used.Load()
		if cur+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (b *budget) release(n int64) {
	if n != 0 {
		b.used.Add(-n)
	}
}

// errNoBudget is the internal cause of a 503 for the in-flight body budget.
var errNoBudget = errors.New("in-flight body bytes at the limit")

// hold is one request's share of the budget; release it once, when the
// request is done with its body (and everything decoded from it).
type hold struct {
	b *budget // nil: no budget
	n int64
}

// reserve adds n bytes to the hold, false when the budget has no room.
func (h *hold) reserve(n int64) bool {
	if h.b == nil || n <= 0 {
		return true
	}
	if !h.b.tryReserve(n) {
		return false
	}
	h.n += n
	return true
}

func (h *hold) release() {
	if h.b != nil {
		h.b.release(h.n)
		h.n = 0
	}
}

// errTooLarge is returned by readGrowing for a stream longer than its limit.
var errTooLarge = errors.New("body over the limit")

// readGrowing reads src to its end into buf (whose capacity h already
// holds), doubling it as needed up to limit bytes; errTooLarge when src has
// more. Each growth is reserved in h before anything is read into it;
// errNoBudget when it cannot be.
func readGrowing(src io.Reader, buf []byte, limit int64, h *hold) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) >= limit {
				// Full: only the end of the stream may follow.
				var one [1]byte
				n, err := io.ReadFull(src, one[:])
				switch {
				case n > 0:
					return buf, errTooLarge
				case errors.Is(err, io.EOF):
					return buf, nil
				}
				return buf, err
			}
			newCap := min(max(firstChunk, 2*int64(cap(buf))), limit)
			if !h.reserve(newCap - int64(cap(buf))) {
				return nil, errNoBudget
			}
			nb := make([]byte, len(buf), newCap)
			copy(nb, buf)
			buf = nb
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
