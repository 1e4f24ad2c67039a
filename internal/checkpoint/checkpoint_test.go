package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type position struct {
	Path   string `json:"path"`
	Offset int64  `json:"offset"`
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		key  string
		val  position
	}{
		{"a plain key", "azure-logs", position{"x", 1}},
		{"a file path as key", "/var/log/auth.log", position{"/var/log/auth.log", 4096}},
		{"a key with spaces and unicode", "wörk space/ä b", position{"u", 7}},
		{"a key starting with a dot", "..hidden", position{"h", 9}},
		{"a very long key", strings.Repeat("k", 500), position{"long", 1 << 40}},
	}
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Save(tt.key, tt.val); err != nil {
				t.Fatal(err)
			}
			var got position
			found, err := s.Load(tt.key, &got)
			if err != nil || !found {
				t.Fatalf("Load = %v, %v; want found", found, err)
			}
			if got != tt.val {
				t.Errorf("Load = %+v, want %+v", got, tt.val)
			}
			base := filepath.Base(s.Path(tt.key))
			if strings.HasPrefix(base, ".") || strings.ContainsAny(base, "/\\ ") || len(base) > maxReadable+30 {
				t.Errorf("unsafe file name %q", base)
			}
		})
	}
}

func TestLoadMissingKeyIsNotFound(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := position{"keep", 3}
	found, err := s.Load("nothing", &v)
	if err != nil || found {
		t.Fatalf("Load = %v, %v; want not found, no error", found, err)
	}
	if v != (position{"keep", 3}) {
		t.Errorf("Load changed v to %+v", v)
	}
}

func TestKeysThatSanitizeAlikeStayDistinct(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"a/b", "a_b", "a b", "a?b", "A/B"}
	for i, k := range keys {
		if err := s.Save(k, position{k, int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		var got position
		if _, err := s.Load(k, &got); err != nil {
			t.Fatal(err)
		}
		if got != (position{k, int64(i)}) {
			t.Errorf("key %q: got %+v", k, got)
		}
	}
}

func TestSaveReplacesAtomically(t *testing.T) {
	t.Run("a leftover temp file from a crash is ignored by Load and removed by Open", func(t *testing.T) {
		dir := t.TempDir()
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Save("k", position{"old", 1}); err != nil {
			t.Fatal(err)
		}
		// A crash between writing the temp file and renaming it.
		leftover := filepath.Join(dir, tempPrefix+fileName("k")+"-123")
		if err := os.WriteFile(leftover, []byte(`{"path":"new","off`), 0o600); err != nil {
			t.Fatal(err)
		}
		var got position
		if _, err := s.Load("k", &got); err != nil || got.Path != "old" {
			t.Fatalf("Load with leftover = %+v, %v; want the old value", got, err)
		}
		s2, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(leftover); !os.IsNotExist(err) {
			t.Errorf("leftover temp file still there after Open: %v", err)
		}
		if _, err := s2.Load("k", &got); err != nil || got.Path != "old" {
			t.Fatalf("Load after reopen = %+v, %v; want the old value", got, err)
		}
	})
	t.Run("a failed save keeps the previous value and leaves no temp file", func(t *testing.T) {
		dir := t.TempDir()
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Save("k", position{"old", 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.Save("k", map[string]any{"bad": make(chan int)}); err == nil {
			t.Fatal("Save of an unencodable value succeeded")
		}
		var got position
		if _, err := s.Load("k", &got); err != nil || got.Path != "old" {
			t.Fatalf("Load = %+v, %v; want the old value", got, err)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tempPrefix) {
				t.Errorf("temp file %s left behind", e.Name())
			}
		}
	})
}

func TestCorruptFileIsAnErrorNamingTheFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"truncated JSON", `{"path":"x","off`},
		{"an empty file", ""},
		{"the wrong type", `["not","an","object"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path("k"), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			var got position
			found, err := s.Load("k", &got)
			if err == nil {
				t.Fatalf("Load = %v, nil; want an error", found)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), s.Path("k")) {
				t.Errorf("error %q does not name %s", err, s.Path("k"))
			}
			// Never silently reset: the file is still there.
			if data, _ := os.ReadFile(s.Path("k")); string(data) != tt.content {
				t.Errorf("corrupt file was changed to %q", data)
			}
		})
	}
}

func TestConcurrentSaves(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				key := fmt.Sprintf("k%d", g%3)
				if err := s.Save(key, position{key, int64(i)}); err != nil {
					t.Error(err)
					return
				}
				var got position
				if _, err := s.Load(key, &got); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for g := range 3 {
		key := fmt.Sprintf("k%d", g)
		var got position
		if found, err := s.Load(key, &got); err != nil || !found || got.Offset != 19 {
			t.Errorf("%s: %+v, %v, %v; want offset 19", key, got, found, err)
		}
	}
}

func TestEmptyKeyIsRejected(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save("", 1); err == nil {
		t.Error("Save with empty key succeeded")
	}
	var v int
	if _, err := s.Load("", &v); err == nil {
		t.Error("Load with empty key succeeded")
	}
}
