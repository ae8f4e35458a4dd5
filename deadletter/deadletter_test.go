package deadletter

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), DirName)
	s, err := Open(dir, 4096)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":{"name":"message_logged"},"payload":{"log_id":"a/b"}}`)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n1, err := s.Put(Letter{LogID: "a/b", Time: t0, Reason: "http_400", Message: "bad", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(Letter{LogID: "c", Time: t0.Add(time.Second), Reason: "grpc_invalid_argument", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(n1, "/") {
		t.Errorf("file name %q", n1)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].LogID != "a/b" || list[0].Size != len(body) || list[0].Body != nil || list[1].Reason != "grpc_invalid_argument" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	l, err := s.Read(list[0].Name)
	if err != nil || string(l.Body) != string(body) || !l.Time.Equal(t0) {
		t.Fatalf("Read = %+v, %v", l, err)
	}
	// Full: refused, nothing written.
	if _, err := s.Put(Letter{LogID: "big", Body: make([]byte, 5000)}); !errors.Is(err, ErrFull) {
		t.Fatalf("Put over the bound = %v", err)
	}
	// A removal by another process (dead-letters retry) makes room again.
	if err := os.Remove(filepath.Join(dir, list[0].Name)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(Letter{LogID: "d", Body: make([]byte, 3800)}); err != nil {
		t.Fatalf("Put after a removal = %v", err)
	}
	if err := s.Remove(list[1].Name); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(list[1].Name); err != nil {
		t.Errorf("Remove twice = %v", err)
	}
	if _, err := s.Read("../x" + ext); err == nil {
		t.Error("Read outside the store")
	}
	// Reopened, the store counts what it holds.
	s2, err := Open(dir, 4096)
	if err != nil || s2.used < 3800 {
		t.Fatalf("reopened: used %d, %v", s2.used, err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}
