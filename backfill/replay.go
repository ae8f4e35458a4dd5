package backfill

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/assistant-otel/assistant-otel/watson"
)

// ErrInvalidEntries is wrapped by Replay's error when some entries were
// malformed: they were reported (file and line) and skipped, and every other
// entry was consumed.
var ErrInvalidEntries = errors.New("malformed entries were skipped")

// maxLine bounds one JSON line (contexts can reach hundreds of kilobytes).
const maxLine = 64 << 20

// Replay imports files of saved webhook bodies or log entries. Each file is
// detected by content, after gunzipping it when it starts with the gzip
// magic bytes (1f 8b):
//
//   - JSON lines: one value per line (the first line is a complete JSON
//     value). A malformed line is reported with its line number and skipped.
//   - Otherwise a JSON document: an array of entries, one entry, or several
//     concatenated. A syntax error stops that file (JSON cannot be resumed
//     after one): it is reported with its line and the next file is read.
//
// An entry is a webhook body {"event":…,"payload":…} (message_logged or
// cdr_logged, decoded exactly as the receiver does), a bare Log object, or a
// saved logs API page {"logs":[…],…}; an array on a JSON line is a list of
// entries. Entries already exported (Deduper) are skipped. When some entries
// were malformed, Replay still consumes all the others and then returns an
// error wrapping ErrInvalidEntries.
func Replay(ctx context.Context, cfg ReplayConfig, deps Deps) (_ Stats, err error) {
	st := Stats{Total: -1}
	im, err := startImport("replay", cfg.DryRun, cfg.DedupeFile, cfg.Progress, deps, &st)
	if err != nil {
		return st, err
	}
	defer im.finish(&err)
	r := &replayer{importer: im}
	r.progress.Detail = func() string { return fmt.Sprintf("%s, %d invalid", im.detail(st.Consumed, st.Skipped), st.Invalid) }
	defer r.progress.Finish()
	for _, name := range cfg.Files {
		if err := r.file(ctx, name); err != nil {
			return st, err
		}
		st.Pages++
	}
	if s, ok := r.dedupe.(Syncer); ok {
		if err := s.Sync(); err != nil {
			return st, fmt.Errorf("replay: %w", err)
		}
	}
	r.logger.Info("replay: done", "stats", st.String())
	if st.Invalid > 0 {
		return st, fmt.Errorf("replay: %w: %d (see the warnings above)", ErrInvalidEntries, st.Invalid)
	}
	return st, nil
}

type replayer struct {
	*importer
	name string // of the file being read
}

func (r *replayer) file(ctx context.Context, name string) (err error) {
	r.name = name
	var in io.Reader
	if name == "-" {
		in = os.Stdin
		r.name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		defer f.Close()
		in = f
	}
	br := bufio.NewReaderSize(in, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("replay: %s: %w", r.name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	// The first non-blank line decides: a complete JSON value means JSON
	// lines, anything else is one JSON document, except that a first line
	// starting with "{" followed by a line holding a complete object is JSON
	// lines whose first line is broken.
	line := 0
	head, blanks, err := nonBlank(br, &line)
	if head == nil {
		if err == io.EOF {
			return nil // empty file
		}
		return r.readErr(err)
	}
	headLine := line
	if json.Valid(head) {
		return r.lines(ctx, br, head, headLine)
	}
	// readLine drops line ends; put them back so offsets map to lines.
	prefix := append(bytes.Repeat([]byte("\n"), blanks), head...)
	prefix = append(prefix, '\n')
	if err == nil && head[0] == '{' {
		next, nblanks, nerr := nonBlank(br, &line)
		if next != nil && next[0] == '{' && json.Valid(next) {
			r.invalid(headLine, errors.New(watson.DescribeJSONError(json.Unmarshal(head, new(json.RawMessage)))))
			return r.lines(ctx, br, next, line)
		}
		if nerr != nil && nerr != io.EOF {
			return r.readErr(nerr)
		}
		prefix = append(prefix, bytes.Repeat([]byte("\n"), nblanks)...)
		if next != nil {
			prefix = append(append(prefix, next...), '\n')
		}
	}
	return r.document(ctx, io.MultiReader(bytes.NewReader(prefix), br), headLine-blanks)
}

// nonBlank reads up to the next line that is not blank and returns it
// (trimmed, without a byte order mark) and how many blank lines came before
// it; *line counts the lines read. At the end it returns nil and io.EOF.
func nonBlank(br *bufio.Reader, line *int) ([]byte, int, error) {
	blanks := 0
	for {
		b, err := readLine(br)
		if err != nil && err != io.EOF {
			return nil, blanks, err
		}
		if len(b) > 0 || err == nil {
			*line++
		}
		if *line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			return t, blanks, err
		}
		if err == io.EOF {
			return nil, blanks, io.EOF
		}
		blanks++
	}
}

func (r *replayer) readErr(err error) error {
	if errors.Is(err, errLineTooLong) {
		return fmt.Errorf("replay: %s: %w", r.name, err)
	}
	return fmt.Errorf("replay: reading %s: %w", r.name, err)
}

var errLineTooLong = fmt.Errorf("a line is longer than %d bytes", maxLine)

// readLine reads one line (without its end); io.EOF with the last line.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == nil {
			line = bytes.TrimSuffix(line, []byte("\n"))
		}
		return bytes.TrimSuffix(line, []byte("\r")), err
	}
}

// lines reads JSON lines; head is line number first.
func (r *replayer) lines(ctx context.Context, br *bufio.Reader, head []byte, first int) error {
	if err := r.value(ctx, head, first); err != nil {
		return err
	}
	for n := first + 1; ; n++ {
		b, err := readLine(br)
		if t := bytes.TrimSpace(b); len(t) > 0 {
			if !json.Valid(t) {
				r.invalid(n, errors.New(watson.DescribeJSONError(json.Unmarshal(t, new(json.RawMessage)))))
			} else if err := r.value(ctx, t, n); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return r.readErr(err)
		}
	}
}

// document reads one JSON document (an array, an object, or several values);
// line numbers come from the byte offsets. firstLine is the line its first
// byte is on.
func (r *replayer) document(ctx context.Context, in io.Reader, firstLine int) error {
	li := &lineIndex{r: in}
	lineAt := func(off int64) int { return li.line(off) + firstLine - 1 }
	dec := json.NewDecoder(li)
	syntax := func(err error) error {
		// The decoder stays at the start of the value it failed on (its
		// SyntaxError offsets leave out delimiters read as tokens).
		off := dec.InputOffset() + leadingSpace(dec.Buffered())
		msg := "invalid JSON"
		if errors.Is(err, io.ErrUnexpectedEOF) {
			msg = "truncated JSON"
		}
		r.invalid(lineAt(off), fmt.Errorf("the entry starting here is %s; the rest of the file is skipped", msg))
		return nil
	}
	for {
		tok, err := peekDelim(dec)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return syntax(err)
		}
		if tok == '[' {
			if _, err := dec.Token(); err != nil {
				return syntax(err)
			}
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return syntax(err)
				}
				if err := r.value(ctx, raw, lineAt(dec.InputOffset()-int64(len(raw)))); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return syntax(err)
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntax(err)
		}
		if err := r.value(ctx, raw, lineAt(dec.InputOffset()-int64(len(raw)))); err != nil {
			return err
		}
	}
}

// leadingSpace counts the JSON whitespace (and commas) r starts with.
func leadingSpace(r io.Reader) int64 {
	b, _ := io.ReadAll(io.LimitReader(r, 1<<20))
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t' || b[n] == '\r' || b[n] == '\n' || b[n] == ',') {
		n++
	}
	return int64(n)
}

// peekDelim reports the first byte of the next value without consuming it.
func peekDelim(dec *json.Decoder) (byte, error) {
	if !dec.More() {
		// Either EOF or a stray closing delimiter.
		if _, err := dec.Token(); err != nil {
			return 0, err
		}
		return 0, errors.New("unexpected closing bracket")
	}
	b, err := io.ReadAll(io.LimitReader(dec.Buffered(), 64))
	if err != nil {
		return 0, err
	}
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', ',':
			continue
		}
		return c, nil
	}
	return 0, nil
}

// value handles one JSON value at line: an entry, a list of entries or a
// logs API page.
func (r *replayer) value(ctx context.Context, raw json.RawMessage, line int) error {
	t := bytes.TrimSpace(raw)
	switch {
	case len(t) > 0 && t[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			r.invalid(line, errors.New(watson.DescribeJSONError(err)))
			return nil
		}
		for _, e := range list {
			if err := r.value(ctx, e, line); err != nil {
				return err
			}
		}
		return nil
	case len(t) == 0 || t[0] != '{':
		r.invalid(line, fmt.Errorf("%w: expected a JSON object", ErrNotAnEntry))
		return nil
	}
	ev, logs, err := decodeEntry(t)
	if err != nil {
		r.invalid(line, err)
		return nil
	}
	if logs != nil {
		for _, l := range logs {
			ev, err := DecodeLog(l)
			if err != nil {
				r.invalid(line, err)
				continue
			}
			if err := r.consume(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	}
	return r.consume(ctx, ev)
}

func (r *replayer) consume(ctx context.Context, ev watson.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.st.Fetched++
	defer r.progress.Add(1)
	key := ev.DedupeKey()
	if _, err := r.offer(ctx, ev, key, r.dedupe.Seen); err != nil {
		return fmt.Errorf("replay: %s: consuming %s: %w", r.name, key, err)
	}
	return nil
}

// invalid reports a skipped entry; err never quotes the input.
func (r *replayer) invalid(line int, err error) {
	r.st.Invalid++
	r.logger.Warn("replay: skipping a malformed entry", "file", r.name, "line", line, "error", err)
}

// lineIndex records where newlines are in what it reads, to turn byte
// offsets into line numbers.
type lineIndex struct {
	r        io.Reader
	off      int64
	newlines []int64
}

func (l *lineIndex) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.newlines = append(l.newlines, l.off+int64(i))
		}
	}
	l.off += int64(n)
	return n, err
}

// line is the 1-based line of byte offset off.
func (l *lineIndex) line(off int64) int {
	return sort.Search(len(l.newlines), func(i int) bool { return l.newlines[i] >= off }) + 1
}
