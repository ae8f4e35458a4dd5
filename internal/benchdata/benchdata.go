// Package benchdata loads the webhook corpus for benchmarks and the load
// tool: the message_logged bodies of testdata/corpus, by file name.
//
// Imports: it imports no package of this module.
package benchdata

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Body is one corpus file.
type Body struct {
	Name string // file name without .json
	Data []byte
}

// Corpus returns the top-level corpus bodies (testdata/corpus/*.json),
// sorted by name, compacted (json.Compact) as a webhook sender would send
// them; the files themselves are indented for reading. It panics if the
// corpus is missing: benchmarks need it.
func Corpus() []Body {
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "testdata", "corpus")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		panic("benchdata: no corpus in " + dir)
	}
	sort.Strings(files)
	out := make([]Body, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			panic(f + ": " + err.Error())
		}
		out = append(out, Body{Name: strings.TrimSuffix(filepath.Base(f), ".json"), Data: c.Bytes()})
	}
	return out
}
