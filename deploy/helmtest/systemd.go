package helmtest

import (
	"bufio"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UnitFile is the systemd unit, relative to this module.
func UnitFile() string { return filepath.Join("..", "systemd", "assistant-otel.service") }

// EnvFile is the example EnvironmentFile, relative to this module.
func EnvFile() string { return filepath.Join("..", "systemd", "assistant-otel.env") }

// Unit is a parsed unit file: section -> key -> values in order (a key may repeat).
type Unit map[string]map[string][]string

// ParseUnit reads a systemd unit file: [Section] headers, Key=Value lines, # and ; comments, and
// backslash continuations. A line that is none of these is an error.
func ParseUnit(text string) (Unit, error) {
	u := Unit{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	pending := ""
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending += cont + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section header %q", n, line)
			}
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			return nil, fmt.Errorf("line %d: not Key=Value in a section: %q", n, line)
		}
		k = strings.TrimSpace(k)
		u[section][k] = append(u[section][k], strings.TrimSpace(v))
	}
	if pending != "" {
		return nil, errors.New("file ends in a continuation")
	}
	return u, sc.Err()
}

// Get returns the last value of key in section (systemd's rule for single-valued settings).
func (u Unit) Get(section, key string) (string, bool) {
	v := u[section][key]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// Env returns the unit's Environment= assignments (later ones win).
func (u Unit) Env() map[string]string {
	m := map[string]string{}
	for _, line := range u["Service"]["Environment"] {
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(strings.Trim(f, `"`), "=")
			m[k] = v
		}
	}
	return m
}

var systemdSize = regexp.MustCompile(`^([0-9]+)([KMGT]?)$`)

func parseSystemdBytes(s string) (int64, error) {
	m := systemdSize.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("size %q is not N[K|M|G|T]", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m[2]]
	return n << shift, nil
}

// parseSystemdSeconds reads a time span such as 30s, 1min 30s, 2min or a bare number of seconds.
func parseSystemdSeconds(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "min", "m"), " ", "")
	return time.ParseDuration(s)
}

// CheckUnit checks the hardening and the settings that keep events and secrets safe.
func CheckUnit(u Unit) error {
	var errs []error
	want := func(key string, ok func(string) bool, why string) {
		v, set := u.Get("Service", key)
		if !set || !ok(v) {
			errs = append(errs, fmt.Errorf("[Service] %s=%q: %s", key, v, why))
		}
	}
	is := func(vals ...string) func(string) bool {
		return func(v string) bool { return slices.Contains(vals, v) }
	}
	exec, _ := u.Get("Service", "ExecStart")
	if f := strings.Fields(exec); len(f) < 2 || !filepath.IsAbs(f[0]) || f[1] != "serve" {
		errs = append(errs, fmt.Errorf("ExecStart=%q is not an absolute path running serve", exec))
	}
	user, hasUser := u.Get("Service", "User")
	dyn, _ := u.Get("Service", "DynamicUser")
	if dyn != "yes" && (!hasUser || user == "root" || user == "0") {
		errs = append(errs, errors.New("neither DynamicUser=yes nor a dedicated non-root User="))
	}
	want("StateDirectory", is("assistant-otel"), "the spool needs a state directory of its own")
	want("ProtectSystem", is("strict"), "want strict")
	want("ProtectHome", is("yes", "read-only", "tmpfs"), "want yes")
	want("PrivateTmp", is("yes", "true"), "want yes")
	want("NoNewPrivileges", is("yes", "true"), "want yes")
	want("CapabilityBoundingSet", is(""), "want empty: no capabilities")
	want("RestrictAddressFamilies", func(v string) bool {
		f := strings.Fields(v)
		return slices.Contains(f, "AF_INET") && slices.Contains(f, "AF_INET6") &&
			!slices.ContainsFunc(f, func(s string) bool { return s == "AF_PACKET" || s == "AF_NETLINK" || strings.HasPrefix(s, "~") })
	}, "want an allow-list of AF_INET, AF_INET6 (and AF_UNIX)")
	if !slices.Contains(u["Service"]["SystemCallFilter"], "@system-service") {
		errs = append(errs, errors.New("no SystemCallFilter=@system-service"))
	}
	env := u.Env()
	if dir := env["ASSISTANT_OTEL_SPOOL_DIR"]; !strings.HasPrefix(dir, "/var/lib/assistant-otel/") && dir != "/var/lib/assistant-otel" {
		errs = append(errs, fmt.Errorf("ASSISTANT_OTEL_SPOOL_DIR=%q is not in the StateDirectory (the only writable place under ProtectSystem=strict)", dir))
	}
	for k := range env {
		if sensitiveEnv.MatchString(k) {
			errs = append(errs, fmt.Errorf("a secret in Environment=%s: use LoadCredential=", k))
		}
	}
	creds := map[string]bool{}
	for _, c := range u["Service"]["LoadCredential"] {
		id, path, _ := strings.Cut(c, ":")
		if filepath.IsAbs(path) {
			creds[id] = true
		}
	}
	files := env["ASSISTANT_OTEL_SECRET_FILE"]
	if files == "" {
		errs = append(errs, errors.New("no ASSISTANT_OTEL_SECRET_FILE"))
	}
	for _, f := range strings.Split(files, ",") {
		if id, ok := strings.CutPrefix(f, "%d/"); !ok || !creds[id] {
			errs = append(errs, fmt.Errorf("secret file %q is not a LoadCredential= credential (%%d/<id>)", f))
		}
	}
	memMax, set := u.Get("Service", "MemoryMax")
	limit, err := parseSystemdBytes(memMax)
	if !set || err != nil {
		errs = append(errs, fmt.Errorf("MemoryMax=%q: %v", memMax, err))
	} else if goLimit, err := strconv.ParseInt(env["ASSISTANT_OTEL_MEMORY_LIMIT"], 10, 64); err != nil || goLimit <= 0 || goLimit+MemoryHeadroom > limit {
		errs = append(errs, fmt.Errorf("ASSISTANT_OTEL_MEMORY_LIMIT=%q is not at least %d bytes below MemoryMax=%s", env["ASSISTANT_OTEL_MEMORY_LIMIT"], MemoryHeadroom, memMax))
	}
	drain := DefaultDrainTimeout
	if v, ok := env["ASSISTANT_OTEL_DRAIN_TIMEOUT"]; ok {
		if drain, err = time.ParseDuration(v); err != nil {
			errs = append(errs, fmt.Errorf("ASSISTANT_OTEL_DRAIN_TIMEOUT=%q: %w", v, err))
		}
	}
	stop, set := u.Get("Service", "TimeoutStopSec")
	if d, err := parseSystemdSeconds(stop); !set || err != nil || d <= drain {
		errs = append(errs, fmt.Errorf("TimeoutStopSec=%q is not longer than the drain timeout %v", stop, drain))
	}
	if ks, ok := u.Get("Service", "KillSignal"); ok && ks != "SIGTERM" {
		errs = append(errs, fmt.Errorf("KillSignal=%s: the drain runs on SIGTERM", ks))
	}
	if _, ok := u.Get("Install", "WantedBy"); !ok {
		errs = append(errs, errors.New("[Install] has no WantedBy="))
	}
	return errors.Join(errs...)
}

// CheckEnvFile checks the example EnvironmentFile: KEY=VALUE lines and comments only, and no secret.
func CheckEnvFile(text string) error {
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`).MatchString(k) {
			errs = append(errs, fmt.Errorf("line %d: not KEY=VALUE: %q", i+1, line))
			continue
		}
		if sensitiveEnv.MatchString(k) {
			errs = append(errs, fmt.Errorf("line %d: %s holds a secret; use a file", i+1, k))
		}
	}
	return errors.Join(errs...)
}
