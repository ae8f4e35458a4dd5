package auth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits on what the file may hold.
const (
	maxFileBytes   = 1 << 20
	maxSecretBytes = 64 << 10
	maxAssistants  = 1000
	maxNameLength  = 256
	maxIDLength    = 256
)

// Assistant is one configured assistant, without its secrets.
type Assistant struct {
	// ID is the assistant_id of the assistant's log events.
	ID string
	// Name is the display name (gen_ai.agent.name); empty when not set.
	Name string
}

// fileEntry is one item of the file's assistants list.
type fileEntry struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	SecretFiles []string `yaml:"secret_files"`
	SecretEnv   []string `yaml:"secret_env"`
	// Declared only to refuse them with a clear message.
	Secret  any `yaml:"secret"`
	Secrets any `yaml:"secrets"`
}

type fileDoc struct {
	Assistants []fileEntry `yaml:"assistants"`
}

// loaded is the file with every secret read.
type loaded struct {
	assistants []Assistant
	secrets    [][]byte // all secrets, in file order
	owners     []int    // owners[i] is the index in assistants of secrets[i]'s assistant
	digest     [sha256.Size]byte
}

// load reads the file at path and every secret it names. Errors name files,
// variables and assistants but never a secret.
func load(path string, getenv func(string) string) (*loaded, error) {
	raw, err := readLimited(path, maxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("assistants file: %w", err)
	}
	var doc fileDoc
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("assistants file %s is empty", path)
		}
		return nil, fmt.Errorf("assistants file %s: %s", path, yamlError(err))
	}
	if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("assistants file %s: holds more than one YAML document", path)
	}
	if len(doc.Assistants) == 0 {
		return nil, fmt.Errorf("assistants file %s lists no assistants", path)
	}
	if len(doc.Assistants) > maxAssistants {
		return nil, fmt.Errorf("assistants file %s lists %d assistants, more than %d", path, len(doc.Assistants), maxAssistants)
	}
	dir := filepath.Dir(path)
	l := &loaded{}
	h := sha256.New()
	h.Write(raw)
	seen := map[string]bool{}
	var errs []error
	for i, e := range doc.Assistants {
		where := fmt.Sprintf("assistants[%d]", i)
		id := strings.TrimSpace(e.ID)
		if id != "" {
			where += " (" + id + ")"
		}
		switch {
		case e.Secret != nil || e.Secrets != nil:
			errs = append(errs, fmt.Errorf("%s: inline secrets are not allowed; use secret_files or secret_env", where))
			continue
		case id == "":
			errs = append(errs, fmt.Errorf("%s: id is required", where))
			continue
		case len(id) > maxIDLength || !printable(id):
			errs = append(errs, fmt.Errorf("%s: id must be at most %d printable characters", where, maxIDLength))
			continue
		case seen[strings.ToLower(id)]:
			errs = append(errs, fmt.Errorf("%s: id listed twice", where))
			continue
		case utf8.RuneCountInString(e.Name) > maxNameLength || !printable(e.Name):
			errs = append(errs, fmt.Errorf("%s: name must be at most %d printable characters", where, maxNameLength))
			continue
		case len(e.SecretFiles)+len(e.SecretEnv) == 0:
			errs = append(errs, fmt.Errorf("%s: needs at least one secret in secret_files or secret_env", where))
			continue
		}
		seen[strings.ToLower(id)] = true
		idx := len(l.assistants)
		l.assistants = append(l.assistants, Assistant{ID: id, Name: strings.TrimSpace(e.Name)})
		for _, f := range e.SecretFiles {
			if f == "" {
				errs = append(errs, fmt.Errorf("%s: empty secret file name", where))
				continue
			}
			if !filepath.IsAbs(f) {
				f = filepath.Join(dir, f)
			}
			b, err := readLimited(f, maxSecretBytes)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: secret file: %w", where, err))
				continue
			}
			b = bytes.TrimRight(b, "\r\n")
			if len(b) == 0 {
				errs = append(errs, fmt.Errorf("%s: secret file %s is empty", where, f))
				continue
			}
			l.add(idx, b, h, "file", f)
		}
		for _, name := range e.SecretEnv {
			if name == "" || strings.ContainsAny(name, "= \t\n") {
				errs = append(errs, fmt.Errorf("%s: invalid secret_env name %q", where, name))
				continue
			}
			v := getenv(name)
			if v == "" {
				errs = append(errs, fmt.Errorf("%s: environment variable %s is unset or empty", where, name))
				continue
			}
			l.add(idx, []byte(v), h, "env", name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	h.Sum(l.digest[:0])
	return l, nil
}

func (l *loaded) add(owner int, secret []byte, h io.Writer, kind, source string) {
	l.secrets = append(l.secrets, secret)
	l.owners = append(l.owners, owner)
	fmt.Fprintf(h, "\x00%s\x00%s\x00%d\x00", kind, source, len(secret))
	h.Write(secret)
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// quoted matches the values the yaml library quotes in its errors.
var quoted = regexp.MustCompile("`[^`]*`")

// yamlError shortens a YAML error and drops the values it quotes: a secret
// pasted where a file name belongs must not reach the logs.
func yamlError(err error) string {
	msg := quoted.ReplaceAllString(err.Error(), "(value)")
	msg = strings.TrimPrefix(msg, "yaml: ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}
