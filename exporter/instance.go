package exporter

// service.instance.id: one id per replica, stable across restarts where the
// replica has something stable to keep it in. Several replicas writing the
// same metric streams without it collide at the Collector and in Prometheus
// (counter resets: OpenTelemetry's single-writer rule is broken).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// InstanceIDKey is the resource attribute that tells replicas apart.
const InstanceIDKey = "service.instance.id"

// InstanceIDFile is the file, in the spool directory, that keeps the
// replica's service.instance.id across restarts.
const InstanceIDFile = "instance-id"

// instanceIDNamespace is the UUID v5 namespace the OpenTelemetry semantic
// conventions give for a service.instance.id derived from an inherent id
// (such as a pod name): the name itself is not exported.
var instanceIDNamespace = uuid.MustParse("4d63009a-8d0f-11ee-aad7-4c796ed8e320")

// Where a service.instance.id came from (InstanceID).
const (
	InstanceIDFromEnv        = "OTEL_RESOURCE_ATTRIBUTES"
	InstanceIDFromSpool      = "spool directory"
	InstanceIDFromKubernetes = "kubernetes pod name"
	InstanceIDRandom         = "random per process"
)

// WithInstanceIDDir keeps service.instance.id in dir (the spool directory):
// created on the first start, read on every later one. Without it the id
// is derived from the Kubernetes pod name when running in a pod, or random
// per process. OTEL_RESOURCE_ATTRIBUTES=service.instance.id=... wins over
// all of them.
func WithInstanceIDDir(dir string) Option { return func(o *options) { o.instanceIDDir = dir } }

// InstanceID returns the resource's service.instance.id and where it came
// from (one of the InstanceIDFrom* constants or InstanceIDRandom).
func (e *Exporter) InstanceID() (id, source string) { return e.instanceID, e.instanceIDSource }

// resolveInstanceID picks the service.instance.id: from the environment's
// resource (OTEL_RESOURCE_ATTRIBUTES), else kept in dir, else from the
// Kubernetes pod, else random.
func resolveInstanceID(ctx context.Context, dir string, getenv func(string) string, logger *slog.Logger) (id, source string, err error) {
	env, err := resource.New(ctx, resource.WithFromEnv())
	if err != nil && env == nil {
		return "", "", err
	}
	if v, ok := env.Set().Value(attribute.Key(InstanceIDKey)); ok && v.String() != "" {
		return v.String(), InstanceIDFromEnv, nil
	}
	if dir != "" {
		id, err := keptInstanceID(dir, logger)
		if err != nil {
			return "", "", fmt.Errorf("%s in %s: %w", InstanceIDFile, dir, err)
		}
		return id, InstanceIDFromSpool, nil
	}
	if name := podName(getenv); name != "" {
		return uuid.NewSHA1(instanceIDNamespace, []byte(name)).String(), InstanceIDFromKubernetes, nil
	}
	return uuid.NewString(), InstanceIDRandom, nil
}

// podName is the name a UUID v5 is derived from in a Kubernetes pod
// ("namespace.pod" when the namespace is known, as the semantic conventions'
// Kubernetes mapping joins them), or "" outside Kubernetes.
func podName(getenv func(string) string) string {
	if getenv("KUBERNETES_SERVICE_HOST") == "" {
		return ""
	}
	pod := firstSet(getenv, "POD_NAME", "K8S_POD_NAME", "HOSTNAME")
	if pod == "" {
		return ""
	}
	if ns := firstSet(getenv, "POD_NAMESPACE", "K8S_NAMESPACE_NAME"); ns != "" {
		return ns + "." + pod
	}
	return pod
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// keptInstanceID reads the id kept in dir, or creates it atomically: a
// complete file appears under its name or none does, and of two processes
// starting at once on the same directory both end up with the one that
// was linked first. A file that holds no UUID is replaced (logged).
func keptInstanceID(dir string, logger *slog.Logger) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, InstanceIDFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if id, perr := uuid.Parse(strings.TrimSpace(string(b))); perr == nil {
			return id.String(), nil
		}
		logger.Warn("the kept service.instance.id is not a UUID: replacing it (this replica's metrics start new series)",
			"file", path)
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	id := uuid.NewString()
	tmp, err := os.CreateTemp(dir, InstanceIDFile+".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(id + "\n"); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if b != nil {
		// A bad file is there: replace it.
		err = os.Rename(tmp.Name(), path)
	} else {
		// Link fails if another process created the file meanwhile: use theirs.
		err = os.Link(tmp.Name(), path)
		if errors.Is(err, os.ErrExist) {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", err
			}
			theirs, err := uuid.Parse(strings.TrimSpace(string(b)))
			if err != nil {
				return "", fmt.Errorf("created meanwhile by another process, but not a UUID: %w", err)
			}
			return theirs.String(), nil
		}
		if err != nil { // a file system without hard links
			err = os.Rename(tmp.Name(), path)
		}
	}
	if err != nil {
		return "", err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable
		d.Close()
	}
	return id, nil
}
