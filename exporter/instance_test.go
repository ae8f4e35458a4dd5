package exporter

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
)

// noEnv clears the variables the resource and the instance id read, so that
// the machine running the tests cannot change them.
func noEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"OTEL_RESOURCE_ATTRIBUTES", "OTEL_SERVICE_NAME", "KUBERNETES_SERVICE_HOST",
		"POD_NAME", "K8S_POD_NAME", "POD_NAMESPACE", "K8S_NAMESPACE_NAME"} {
		t.Setenv(v, "")
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func resolve(t *testing.T, dir string, env map[string]string) (string, string) {
	t.Helper()
	id, src, err := resolveInstanceID(t.Context(), dir, envOf(env), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	return id, src
}

func resourceInstanceID(t *testing.T, id string) string {
	t.Helper()
	res, err := newResource(t.Context(), options{}, id)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := res.Set().Value(InstanceIDKey)
	return v.String()
}

// TestInstanceIDKeptInSpoolDir: the first start creates <dir>/instance-id, every later start
// (an Exporter built again on the same directory, as after a crash) carries the same id.
func TestInstanceIDKeptInSpoolDir(t *testing.T) {
	noEnv(t)
	dir := filepath.Join(t.TempDir(), "spool") // not there yet, as on a first start
	var ids []string
	for range 2 {
		e, err := New(t.Context(), WithConsole(io.Discard), WithLogger(discardLogger()), WithInstanceIDDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		id, src := e.InstanceID()
		if err := e.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if src != InstanceIDFromSpool {
			t.Errorf("source %q, want %q", src, InstanceIDFromSpool)
		}
		ids = append(ids, id)
	}
	b, err := os.ReadFile(filepath.Join(dir, InstanceIDFile))
	if err != nil {
		t.Fatal(err)
	}
	kept := strings.TrimSpace(string(b))
	if u, err := uuid.Parse(kept); err != nil || u.Version() != 4 {
		t.Errorf("kept id %q is not a random UUID: %v", kept, err)
	}
	if ids[0] != kept || ids[1] != kept {
		t.Errorf("ids %v, want both %s (the kept one)", ids, kept)
	}
	if got := resourceInstanceID(t, kept); got != kept {
		t.Errorf("resource service.instance.id %q, want %q", got, kept)
	}
	// Nothing else is left behind in the spool directory.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("spool directory holds %d entries, want only %s", len(entries), InstanceIDFile)
	}
}

// TestInstanceIDSpoolWinsOverKubernetes: a spool directory keeps the id even in a pod.
func TestInstanceIDSpoolWinsOverKubernetes(t *testing.T) {
	noEnv(t)
	dir := t.TempDir()
	id, src := resolve(t, dir, map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOSTNAME": "assistant-otel-1"})
	if src != InstanceIDFromSpool || id == "2e30ed5a-c280-588e-ba1b-16ffaa771f7c" {
		t.Errorf("got %s from %q, want the spool's id", id, src)
	}
}

// TestInstanceIDKubernetes: in a pod without a spool, the id is the UUID v5 of the pod name in the
// semantic conventions' namespace (the expected values were computed independently, with Python's
// uuid.uuid5), never the name itself, and the same on every start of that pod.
func TestInstanceIDKubernetes(t *testing.T) {
	noEnv(t)
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOSTNAME": "assistant-otel-1"}, "2e30ed5a-c280-588e-ba1b-16ffaa771f7c"},
		{map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOSTNAME": "ignored", "POD_NAME": "assistant-otel-7d9f-abcde"}, "a43f5579-bca2-5a74-a289-69a6fe5cd579"},
		{map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "K8S_POD_NAME": "assistant-otel-7d9f-abcde"}, "a43f5579-bca2-5a74-a289-69a6fe5cd579"},
		{map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "POD_NAME": "assistant-otel-0", "POD_NAMESPACE": "shop"}, "cdc27bdb-3a14-5a5e-ab5d-8623a742c6c2"},
	} {
		id, src := resolve(t, "", c.env)
		again, _ := resolve(t, "", c.env)
		if id != c.want || again != id || src != InstanceIDFromKubernetes {
			t.Errorf("%v: got %s (then %s) from %q, want %s from %q", c.env, id, again, src, c.want, InstanceIDFromKubernetes)
		}
	}
}

// TestInstanceIDRandom: outside Kubernetes and without a spool, every process gets its own id
// (a HOSTNAME alone does not count: it is not known to be unique).
func TestInstanceIDRandom(t *testing.T) {
	noEnv(t)
	env := map[string]string{"HOSTNAME": "assistant-otel-1"}
	a, src := resolve(t, "", env)
	b, _ := resolve(t, "", env)
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 4 || src != InstanceIDRandom {
		t.Errorf("got %s (%v) from %q, want a random UUID", a, err, src)
	}
	if a == b {
		t.Errorf("two processes got the same id %s", a)
	}
	// KUBERNETES_SERVICE_HOST without any pod name: random too.
	if _, src := resolve(t, "", map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1"}); src != InstanceIDRandom {
		t.Errorf("in a pod without a name: source %q", src)
	}
}

// TestInstanceIDFromEnvironment: OTEL_RESOURCE_ATTRIBUTES wins over every source, and then no file
// is written; OTEL_SERVICE_NAME is left as it is.
func TestInstanceIDFromEnvironment(t *testing.T) {
	noEnv(t)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,service.instance.id=replica-a")
	t.Setenv("OTEL_SERVICE_NAME", "my-assistant")
	dir := t.TempDir()
	id, src := resolve(t, dir, map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOSTNAME": "assistant-otel-1"})
	if id != "replica-a" || src != InstanceIDFromEnv {
		t.Errorf("got %s from %q, want replica-a from the environment", id, src)
	}
	if _, err := os.Stat(filepath.Join(dir, InstanceIDFile)); !os.IsNotExist(err) {
		t.Errorf("%s written although the environment sets the id: %v", InstanceIDFile, err)
	}
	res, err := newResource(t.Context(), options{resourceAttrs: []attribute.KeyValue{attribute.String("service.name", "x")}}, "from-spool")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[attribute.Key]string{InstanceIDKey: "replica-a", "service.name": "my-assistant", "deployment.environment.name": "prod"} {
		if v, _ := res.Set().Value(k); v.String() != want {
			t.Errorf("resource %s = %q, want %q", k, v.String(), want)
		}
	}
}

// TestInstanceIDBadFileReplaced: a kept file that holds no UUID is replaced, with a warning.
func TestInstanceIDBadFileReplaced(t *testing.T) {
	noEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, InstanceIDFile)
	if err := os.WriteFile(path, []byte("garbage\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	id, _, err := resolveInstanceID(t.Context(), dir, envOf(nil), slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != id || uuid.Validate(id) != nil {
		t.Errorf("file holds %q, id %q", b, id)
	}
	if !strings.Contains(log.String(), "not a UUID") {
		t.Errorf("no warning: %s", log.String())
	}
}

// TestInstanceIDCreatedOnce: processes starting at the same time on a fresh directory all end
// up with one id.
func TestInstanceIDCreatedOnce(t *testing.T) {
	dir := t.TempDir()
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := keptInstanceID(dir, discardLogger())
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("ids differ: %v", ids)
		}
	}
}
