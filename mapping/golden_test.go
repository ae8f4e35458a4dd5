package mapping

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assistant-otel/assistant-otel/watson"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenReceived stands in for the arrival time of events without timestamps.
var goldenReceived = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func goldenMapper(t *testing.T) *Mapper {
	t.Helper()
	opts := DefaultOptions()
	opts.PseudonymKey = []byte("golden-test-key")
	opts.Now = func() time.Time { return goldenReceived } // the window of plausible timestamps
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGolden maps every corpus body and every edge-case fixture and compares
// the result with its snapshot in testdata/golden. Run with -update to rewrite
// the snapshots, then review the diff by eye.
func TestGolden(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		"../testdata/corpus/*.json",
		"../testdata/corpus/other-events/*.json",
		"testdata/edge/*.json",
	} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d fixture files; is the corpus in testdata/corpus?", len(files))
	}
	m := goldenMapper(t)
	seen := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		if seen[name] {
			t.Fatalf("two fixtures named %s", name)
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := watson.Decode(body)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := render(m.Map(ev, goldenReceived))
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./mapping -run TestGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("telemetry differs from %s (rerun with -update and review the diff):\n%s", golden, diff(string(want), got))
			}
		})
	}
}

// diff shows the first lines that differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			if shown++; shown == 10 {
				break
			}
		}
	}
	return b.String()
}
