package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/tld/internal/auth"
)

func runWithInput(t *testing.T, in string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, IO{In: strings.NewReader(in), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestUsersManagesTheUsersFile(t *testing.T) {
	data := t.TempDir()
	if code, _, stderr := runWithInput(t, "a long enough password\n", "users", "add", "--data", data, "--role", "administrator", "ana"); code != 0 {
		t.Fatalf("add: %s", stderr)
	}
	if code, _, stderr := runWithInput(t, "another long password\n", "users", "add", "--data", data, "bob"); code != 0 {
		t.Fatalf("add: %s", stderr)
	}
	_, stdout, _ := runWithInput(t, "", "users", "list", "--data", data)
	if !strings.Contains(stdout, "ana   administrator") || !strings.Contains(stdout, "bob   read-only") {
		t.Errorf("list:\n%s", stdout)
	}
	users, err := auth.LoadUsersFile(filepath.Join(data, "users"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Authenticate("bob", "another long password"); err != nil {
		t.Errorf("bob cannot sign in with his password: %v", err)
	}
	raw, _ := os.ReadFile(filepath.Join(data, "users"))
	if strings.Contains(string(raw), "long password") {
		t.Error("the users file holds a plain password")
	}

	if code, _, stderr := runWithInput(t, "short\n", "users", "passwd", "--data", data, "bob"); code != 1 || !strings.Contains(stderr, "12") {
		t.Errorf("a short password: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runWithInput(t, "", "users", "delete", "--data", data, "ana"); code != 1 {
		t.Errorf("deleting the last administrator: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runWithInput(t, "", "users", "delete", "--data", data, "bob"); code != 0 {
		t.Errorf("delete bob: %s", stderr)
	}
	code, stdout, _ := runWithInput(t, "a long enough password\n", "users", "hash")
	if code != 0 || !strings.HasPrefix(stdout, "$2a$12$") {
		t.Errorf("hash: %d %q", code, stdout)
	}
}
