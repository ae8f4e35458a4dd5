package helmtest

import (
	"os"
	"strings"
	"testing"
)

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSystemdUnit(t *testing.T) {
	u, err := ParseUnit(readFile(t, UnitFile()))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckUnit(u); err != nil {
		t.Fatalf("%s:\n%v", UnitFile(), err)
	}
	if err := CheckEnvFile(readFile(t, EnvFile())); err != nil {
		t.Fatalf("%s:\n%v", EnvFile(), err)
	}
}

// TestSystemdUnitBreakage edits the unit's text: each edit must make CheckUnit fail.
func TestSystemdUnitBreakage(t *testing.T) {
	text := readFile(t, UnitFile())
	cases := []struct{ name, old, new string }{
		{"no DynamicUser", "DynamicUser=yes\n", ""},
		{"no StateDirectory", "StateDirectory=assistant-otel\n", ""},
		{"ProtectSystem full", "ProtectSystem=strict", "ProtectSystem=full"},
		{"no ProtectHome", "ProtectHome=yes\n", ""},
		{"no PrivateTmp", "PrivateTmp=yes\n", ""},
		{"NoNewPrivileges off", "NoNewPrivileges=yes", "NoNewPrivileges=no"},
		{"capabilities kept", "CapabilityBoundingSet=\n", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"},
		{"raw sockets", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_PACKET"},
		{"no system call filter", "SystemCallFilter=@system-service\n", ""},
		{"no MemoryMax", "MemoryMax=256M\n", ""},
		{"MemoryMax under the Go limit", "MemoryMax=256M", "MemoryMax=128M"},
		{"stop timeout equal to the drain", "TimeoutStopSec=30s", "TimeoutStopSec=15s"},
		{"drain longer than the stop timeout", "ASSISTANT_OTEL_DRAIN_TIMEOUT=15s", "ASSISTANT_OTEL_DRAIN_TIMEOUT=1m"},
		{"secret file outside the credentials", "ASSISTANT_OTEL_SECRET_FILE=%d/webhook-secret", "ASSISTANT_OTEL_SECRET_FILE=/etc/assistant-otel/webhook-secret"},
		{"no LoadCredential", "LoadCredential=webhook-secret:/etc/assistant-otel/webhook-secret\n", ""},
		{"secret in the environment", "Environment=ASSISTANT_OTEL_LOG_FORMAT=json", "Environment=ASSISTANT_OTEL_SECRET=hunter2"},
		{"spool outside the state directory", "ASSISTANT_OTEL_SPOOL_DIR=/var/lib/assistant-otel/spool", "ASSISTANT_OTEL_SPOOL_DIR=/srv/spool"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(text, tc.old) {
				t.Fatalf("the unit lacks %q", tc.old)
			}
			u, err := ParseUnit(strings.Replace(text, tc.old, tc.new, 1))
			if err != nil {
				t.Fatal(err)
			}
			err = CheckUnit(u)
			if err == nil {
				t.Fatal("CheckUnit passed the broken unit")
			}
			t.Logf("caught: %v", err)
		})
	}
	if err := CheckEnvFile("ASSISTANT_OTEL_SECRET=hunter2\n"); err == nil {
		t.Error("CheckEnvFile passed a secret in the environment file")
	}
	if _, err := ParseUnit("[Service]\nnot a setting\n"); err == nil {
		t.Error("ParseUnit accepted a line that is not Key=Value")
	}
}
