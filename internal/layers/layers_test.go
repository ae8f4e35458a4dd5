package layers

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/assistant-otel/assistant-otel/"

// allowed lists, for every package, the packages of this module its
// non-test files may import. A package not listed fails the test: a new
// package states its place here.
var allowed = map[string][]string{
	"auth":                         {"config", "internal/filewatch", "watson"},
	"backfill":                     {"config", "deadletter", "mapping", "watson", "watsonapi"},
	"cmd/assistant-otel":           {"backfill", "config", "deadletter", "exporter", "internal/retry", "mapping", "sender", "service", "watson"},
	"cmd/loadgen":                  {"internal/loadgen"},
	"config":                       {"mapping", "redact"},
	"deadletter":                   nil,
	"deploy/rulestest":             nil,
	"exporter":                     {"exporter/internal/otlpclient", "exporter/internal/otlpwire", "mapping"},
	"exporter/internal/otlpclient": nil,
	"exporter/internal/otlpwire":   {"mapping"},
	"intake":                       {"spool", "watson"},
	"internal/bench":               nil,
	"internal/benchdata":           nil,
	"internal/cmd/ports":           nil,
	"internal/filewatch":           nil,
	"internal/layers":              nil,
	"internal/loadgen":             {"sender"},
	"internal/otlptest":            nil,
	"internal/pprofserver":         nil,
	"internal/retry":               nil,
	"internal/testlog":             nil,
	"internal/testpki":             nil,
	"mapping":                      {"redact", "watson"},
	"pump":                         {"deadletter", "exporter", "internal/retry", "mapping", "spool", "watson"},
	"receiver":                     {"auth", "intake", "internal/filewatch", "watson"},
	"redact":                       nil,
	"sender":                       nil,
	"service":                      {"auth", "config", "deadletter", "exporter", "intake", "internal/pprofserver", "mapping", "pump", "receiver", "spool"},
	"spool":                        nil,
	"watson":                       nil,
	"watsonapi":                    {"internal/retry", "watson"},
	"watsonapi/watsonapitest":      nil,
}

func TestImportsFollowTheLayers(t *testing.T) {
	root := moduleRoot(t)
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && rel != "." {
			return filepath.SkipDir // a module of its own
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files (or only tests)
		}
		seen[rel] = true
		ok, listed := allowed[rel]
		if !listed {
			t.Errorf("package %s is not in the layer table: add it with the packages it may import", rel)
			return nil
		}
		for _, imp := range pkg.Imports {
			if name, ours := strings.CutPrefix(imp, module); ours && !slices.Contains(ok, name) {
				t.Errorf("%s imports %s, which its layer does not allow", rel, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range allowed {
		if !seen[name] {
			t.Errorf("the layer table lists %s, which has no Go files any more", name)
		}
	}
	if !seen["mapping"] || !seen["cmd/assistant-otel"] {
		t.Fatalf("walked %d packages from %s without finding the event path", len(seen), root)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
