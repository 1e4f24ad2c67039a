package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// testHash hashes at the minimum cost to keep tests fast.
func testHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadUsersFile(t *testing.T) {
	h := testHash(t, "correct horse battery")
	tests := []struct {
		name    string
		content string
		users   []User
		errs    []string // each must appear, with the file name before it
	}{
		{
			name:    "comments and blank lines are skipped",
			content: "# users\n\nalice:administrator:" + h + "\n  # indented comment\nbob:read-only:" + h + "\n",
			users:   []User{{Name: "alice", Role: Administrator}, {Name: "bob", Role: ReadOnly}},
		},
		{
			name:    "an unknown role is reported with its line",
			content: "alice:administrator:" + h + "\nbob:root:" + h + "\n",
			errs:    []string{`:2: user bob: unknown role "root"`},
		},
		{
			name:    "a bad hash is reported with its line but not repeated",
			content: "\nalice:administrator:plaintext-secret\n",
			errs:    []string{":2: user alice: not a bcrypt hash"},
		},
		{
			name:    "a duplicate name names the first line",
			content: "alice:administrator:" + h + "\nalice:read-only:" + h + "\n",
			errs:    []string{":2: user alice already defined at line 1"},
		},
		{
			name:    "a line without colons is reported",
			content: "alice\n",
			errs:    []string{`:1: line is not "name:role:bcrypt-hash"`},
		},
		{
			name:    "every bad line is reported at once",
			content: "bad name:read-only:" + h + "\nbob:x:" + h + "\n",
			errs:    []string{":1: user name", ":2: user bob: unknown role"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			u, err := LoadUsersFile(path)
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.errs)
				}
				for _, want := range tt.errs {
					if !strings.Contains(err.Error(), path+want) {
						t.Errorf("error %q does not contain %q", err, path+want)
					}
				}
				if strings.Contains(err.Error(), "plaintext-secret") {
					t.Errorf("error repeats the bad hash: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := u.List()
			if len(got) != len(tt.users) {
				t.Fatalf("got %v, want %v", got, tt.users)
			}
			for i := range got {
				if got[i] != tt.users[i] {
					t.Errorf("user %d = %v, want %v", i, got[i], tt.users[i])
				}
			}
		})
	}
}

func TestLoadUsersFileMissingGivesEmptySet(t *testing.T) {
	u, err := LoadUsersFile(filepath.Join(t.TempDir(), "nope"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Len() != 0 {
		t.Fatalf("Len = %d", u.Len())
	}
}

func TestUsersRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "users")
	u := NewUsers(path)
	// addHash skips the slow cost-12 hashing of Add.
	if err := u.addHash("alice", Administrator, testHash(t, "alice password 1")); err != nil {
		t.Fatal(err)
	}
	if err := u.addHash("bob", ReadOnly, testHash(t, "bob password 12")); err != nil {
		t.Fatal(err)
	}
	if err := u.AddConfigured("carol", ReadOnly, testHash(t, "carol password")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	back, err := LoadUsersFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := back.List()
	want := []User{{Name: "alice", Role: Administrator}, {Name: "bob", Role: ReadOnly}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("reloaded %v, want %v (configured users are not written)", got, want)
	}
	if _, err := back.Authenticate("bob", "bob password 12"); err != nil {
		t.Errorf("reloaded bob cannot sign in: %v", err)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".users.tmp-*"))
	if len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

func TestUsersChanges(t *testing.T) {
	newSet := func(t *testing.T) *Users {
		u := NewUsers(filepath.Join(t.TempDir(), "users"))
		if err := u.addHash("alice", Administrator, testHash(t, "alice password 1")); err != nil {
			t.Fatal(err)
		}
		if err := u.AddConfigured("carol", Administrator, testHash(t, "carol password")); err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		name string
		do   func(u *Users) error
		want error
	}{
		{"removing an unknown user fails", func(u *Users) error { return u.Remove("zed") }, ErrUnknownUser},
		{"removing a configured user fails", func(u *Users) error { return u.Remove("carol") }, ErrConfiguredUser},
		{"removing an administrator while another remains works", func(u *Users) error { return u.Remove("alice") }, nil},
		{"adding an existing name fails", func(u *Users) error { return u.Add("alice", ReadOnly, "long enough password") }, ErrUserExists},
		{"adding with a short password fails", func(u *Users) error { return u.Add("dave", ReadOnly, "short") }, ErrWeakPassword},
		{"changing a configured user's password fails", func(u *Users) error { return u.SetPassword("carol", "long enough password") }, ErrConfiguredUser},
		{"changing an unknown user's password fails", func(u *Users) error { return u.SetPassword("zed", "long enough password") }, ErrUnknownUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(newSet(t))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRemoveLastAdministrator(t *testing.T) {
	u := NewUsers("")
	if err := u.addHash("alice", Administrator, testHash(t, "alice password 1")); err != nil {
		t.Fatal(err)
	}
	if err := u.addHash("bob", ReadOnly, testHash(t, "bob password 12")); err != nil {
		t.Fatal(err)
	}
	if err := u.Remove("alice"); !errors.Is(err, ErrLastAdministrator) {
		t.Fatalf("err = %v, want ErrLastAdministrator", err)
	}
	if err := u.Remove("bob"); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticate(t *testing.T) {
	u := NewUsers("")
	if err := u.AddConfigured("alice", Administrator, testHash(t, "alice password 1")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pw string
		ok             bool
	}{
		{"the right password signs in", "alice", "alice password 1", true},
		{"a wrong password fails", "alice", "alice password 2", false},
		{"an unknown user fails", "mallory", "alice password 1", false},
		{"an empty password fails", "alice", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := u.Authenticate(tt.user, tt.pw)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (p.User != "alice" || p.Role != Administrator) {
				t.Errorf("principal = %+v", p)
			}
			if !tt.ok && !errors.Is(err, ErrBadCredentials) {
				t.Errorf("err = %v, want ErrBadCredentials", err)
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	if _, err := HashPassword("elevenchars"); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("11 characters: err = %v, want ErrWeakPassword", err)
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); err == nil {
		t.Error("73 bytes: no error")
	}
	h, err := HashPassword("twelve chars")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost([]byte(h)); c != HashCost {
		t.Errorf("cost = %d, want %d", c, HashCost)
	}
}

func TestEnsureInitialAdmin(t *testing.T) {
	dir := t.TempDir()
	usersPath, pwPath := filepath.Join(dir, "users"), filepath.Join(dir, "admin.password")
	created, err := EnsureInitialAdmin(usersPath, pwPath)
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	pw, err := os.ReadFile(pwPath)
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(pw))
	if len(password) != 20 {
		t.Errorf("password has %d characters, want 20", len(password))
	}
	for _, p := range []string{usersPath, pwPath} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v err %v, want 0600", p, fi.Mode().Perm(), err)
		}
	}
	u, err := LoadUsersFile(usersPath)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := u.Authenticate("admin", password); err != nil || p.Role != Administrator {
		t.Fatalf("admin cannot sign in: %v %+v", err, p)
	}
	created, err = EnsureInitialAdmin(usersPath, pwPath)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v, want nothing done", created, err)
	}
}

func TestEnsureInitialAdminSkipsWhenConfiguredUsersExist(t *testing.T) {
	dir := t.TempDir()
	u := NewUsers(filepath.Join(dir, "users"))
	if err := u.AddConfigured("ops", Administrator, testHash(t, "ops password 12")); err != nil {
		t.Fatal(err)
	}
	created, err := u.EnsureInitialAdmin(filepath.Join(dir, "pw"))
	if err != nil || created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pw")); !os.IsNotExist(err) {
		t.Errorf("password file written: %v", err)
	}
}
