package checkpoint

import (
	"log/slog"
	"testing"
)

func TestSaverWritesTheNewestValueOfEachKey(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSaver(st, slog.New(slog.DiscardHandler))
	for i := 1; i <= 100; i++ {
		s.Put("a", i)
	}
	s.Put("b", "x")
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	var a int
	if ok, err := st.Load("a", &a); !ok || err != nil || a != 100 {
		t.Fatalf("a = %d (%v, %v), want the newest value 100", a, ok, err)
	}
	s.Put("b", "y")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, _ := Open(dir)
	var b string
	if ok, _ := reopened.Load("b", &b); !ok || b != "y" {
		t.Fatalf("b = %q after Close, want the value put before it", b)
	}
	if err := s.Sync(); err == nil {
		t.Error("Sync after Close succeeded")
	}
}
