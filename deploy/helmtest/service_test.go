package helmtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// repoRoot is the main module, relative to this one.
func repoRoot() string { return filepath.Join("..", "..") }

// buildService builds the real assistant-otel binary from the main module.
func buildService(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "assistant-otel")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/assistant-otel")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/assistant-otel: %v\n%s", err, out)
	}
	t.Logf("built the service in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

var flagLine = regexp.MustCompile(`(?m)^\s+--?([a-z0-9][a-z0-9-]*)`)

// serveFlags returns the flag names of `assistant-otel serve`, from its usage text.
func serveFlags(t *testing.T, bin string) map[string]bool {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, "serve", "-h")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("serve -h: %v (help exits 0)\n%s", err, out.String())
	}
	flags := map[string]bool{}
	for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
		flags[m[1]] = true
	}
	if !flags["spool-dir"] || !flags["secret-file"] {
		t.Fatalf("could not read the flags of serve -h:\n%s", out.String())
	}
	return flags
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var k8sRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// podEnv turns the container's env into what the kubelet would give the process: literal values, the
// downward API fields of pod 0, and $(VAR) references expanded.
func podEnv(t *testing.T, c *corev1.Container, pod string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = k8sRef.ReplaceAllStringFunc(e.Value, func(ref string) string {
				if v, ok := env[ref[2:len(ref)-1]]; ok {
					return v
				}
				return ref
			})
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = map[string]string{"metadata.name": pod, "metadata.namespace": Namespace, "spec.nodeName": "node-1"}[e.ValueFrom.FieldRef.FieldPath]
		default:
			t.Fatalf("env %s: no stand-in for %+v", e.Name, e.ValueFrom)
		}
	}
	return env
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// TestServiceRunsWithChartEnv runs the real service with the environment the chart gives a pod: every
// ASSISTANT_OTEL_* variable must name a flag of serve (the service ignores unknown ones, so a misspelt
// name would otherwise go unnoticed), the service must start and become ready with the chart's values,
// accept a signed event, and on SIGTERM drain and exit well within terminationGracePeriodSeconds.
// Only the paths (secret file, spool) and the listen addresses are moved into a temporary directory and
// onto 127.0.0.1.
func TestServiceRunsWithChartEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	r := render(t, "-f", valuesFile("ingress-tls-values.yaml"))
	s, c, err := statefulSet(r)
	if err != nil {
		t.Fatal(err)
	}
	bin := buildService(t)
	flags := serveFlags(t, bin)
	pod := s.Name + "-0"
	env := podEnv(t, c, pod)
	for name := range env {
		f, ok := strings.CutPrefix(name, "ASSISTANT_OTEL_")
		if !ok {
			continue
		}
		flag := strings.ToLower(strings.ReplaceAll(f, "_", "-"))
		switch {
		case flags[flag]:
		default:
			t.Errorf("%s names no flag of serve (--%s): the service would silently ignore it", name, flag)
		}
	}

	// The same for the systemd unit's Environment= and the EnvironmentFile example, commented lines
	// included (they are the settings a reader will uncomment).
	u, err := ParseUnit(readFile(t, UnitFile()))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for k := range u.Env() {
		names = append(names, k)
	}
	for _, m := range regexp.MustCompile(`(?m)^#?\s*(ASSISTANT_OTEL_[A-Z0-9_]+)=`).FindAllStringSubmatch(readFile(t, EnvFile()), -1) {
		names = append(names, m[1])
	}
	for _, name := range names {
		f, ok := strings.CutPrefix(name, "ASSISTANT_OTEL_")
		if !ok {
			continue
		}
		flag := strings.ToLower(strings.ReplaceAll(f, "_", "-"))
		if !flags[flag] {
			t.Errorf("systemd unit or env file: %s names no flag of serve (--%s)", name, flag)
		}
	}

	dir := t.TempDir()
	secret := filepath.Join(dir, "secret", "webhook-secret")
	if err := os.MkdirAll(filepath.Dir(secret), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("test-webhook-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	env["ASSISTANT_OTEL_LISTEN"] = listen
	env["ASSISTANT_OTEL_SECRET_FILE"] = secret
	env["ASSISTANT_OTEL_SPOOL_DIR"] = filepath.Join(dir, "spool")
	if _, ok := env["ASSISTANT_OTEL_METRICS_LISTEN"]; ok {
		env["ASSISTANT_OTEL_METRICS_LISTEN"] = freeAddr(t)
	}
	// The chart's Collector is not here: point OTLP at a closed local port, so that exports fail and
	// the service is degraded, which must still be ready (the spool keeps the events).
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://" + freeAddr(t)

	cmd := exec.Command(bin, c.Args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("service output:\n%s", logs.String())
		}
	}()

	base := "http://" + listen
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		code, body, err := get(base + "/readyz")
		if err == nil && code == http.StatusOK {
			t.Logf("ready: %s", strings.TrimSpace(body))
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the service exited before it was ready: %v", err)
		case <-ctx.Done():
			t.Fatalf("not ready within 60 s: %d %q %v", code, body, err)
		case <-time.After(50 * time.Millisecond): // polling interval, not a decision
		}
	}
	if code, body, err := get(base + "/healthz"); err != nil || code != http.StatusOK {
		t.Fatalf("/healthz: %d %q %v", code, body, err)
	}

	// A signed event, with the service's own send command (as Watson would sign it).
	send := exec.Command(bin, "send", "--url", base+"/webhook", "--secret-file", secret,
		filepath.Join(repoRoot(), "testdata", "corpus", "01-dialog-clear-intent-two-entities.json"))
	if out, err := send.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "200") {
		t.Fatalf("send: %v: %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "spool", "spool.db")); err != nil {
		t.Fatalf("the spool is not in ASSISTANT_OTEL_SPOOL_DIR: %v", err)
	}

	grace := time.Duration(*s.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		took := time.Since(start)
		t.Logf("SIGTERM to exit: %v (grace period %v); exit: %v", took.Round(time.Millisecond), grace, err)
		// With the Collector unreachable the drain runs to --drain-timeout and leaves the event in the
		// spool: exit 0, and the log says so. Anything else is a failure.
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Errorf("exit status %v after SIGTERM, want 0", err)
		}
	case <-time.After(grace):
		t.Fatalf("still running %v after SIGTERM: the kubelet would kill it", grace)
	}
}
