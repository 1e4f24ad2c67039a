package auth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// HashCost is the bcrypt cost of the hashes HashPassword makes: about a
// quarter of a second on a small VM, slow enough to make a stolen users
// file expensive to crack, fast enough for an interactive login.
const HashCost = 12

// MinPasswordLen is the shortest password HashPassword accepts.
const MinPasswordLen = 12

// maxPasswordLen is bcrypt's limit: it ignores bytes past 72, and the x/crypto
// implementation refuses them, so longer passwords are rejected up front.
const maxPasswordLen = 72

// Errors returned by the user set. The API maps them to status codes.
var (
	ErrBadCredentials    = errors.New("invalid user name or password")
	ErrUnknownUser       = errors.New("no such user")
	ErrUserExists        = errors.New("user already exists")
	ErrConfiguredUser    = errors.New("user is defined in the configuration and cannot be changed through the API")
	ErrLastAdministrator = errors.New("cannot remove the last administrator")
	ErrWeakPassword      = fmt.Errorf("password must be at least %d characters long", MinPasswordLen)
	ErrPasswordTooLong   = fmt.Errorf("password must be at most %d bytes long", maxPasswordLen)
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case ReadOnly, Administrator:
		return Role(s), nil
	}
	return "", fmt.Errorf("unknown role %q (want %q or %q)", s, ReadOnly, Administrator)
}

// ValidateName checks a user name: 1 to 64 letters, digits or ._@-, so it
// fits the users file's colon-separated lines and log lines unquoted.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("user name is empty")
	}
	if len(name) > 64 {
		return errors.New("user name is longer than 64 characters")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '@' || r == '-'
		if !ok {
			return fmt.Errorf("user name %q may only hold letters, digits and . _ @ -", name)
		}
	}
	return nil
}

// HashPassword checks a new password's length and returns its bcrypt hash.
func HashPassword(pw string) (string, error) {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return "", ErrWeakPassword
	}
	if len(pw) > maxPasswordLen {
		return "", ErrPasswordTooLong
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), HashCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// checkHash tells whether s is a bcrypt hash this package can verify.
func checkHash(s string) error {
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return fmt.Errorf("not a bcrypt hash (want $2a$, $2b$ or $2y$…): %w", err)
	}
	return nil
}

// User is what the API shows of a user: never the hash.
type User struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Configured users come from the configuration file; the API cannot
	// change or remove them.
	Configured bool `json:"configured"`
}

type user struct {
	User
	hash string
}

// Users is the set of users who may sign in. Users read from the users file
// are written back to it when the API changes them; configured users are
// kept in memory only. It is safe for concurrent use.
type Users struct {
	path string // "" keeps changes in memory only

	mu    sync.RWMutex
	users map[string]*user

	dummyMu sync.Mutex
	dummy   map[int][]byte // per bcrypt cost, for unknown user names
}

// NewUsers returns an empty set whose changes are written to path (or kept
// in memory when path is "").
func NewUsers(path string) *Users {
	return &Users{path: path, users: make(map[string]*user)}
}

// LoadUsersFile reads a users file: one user a line, "name:role:bcrypt-hash",
// with blank lines and lines starting with "#" skipped. A file that does not
// exist yet gives an empty set, the file being created on the first change.
// The error lists every bad line as file:line.
func LoadUsersFile(path string) (*Users, error) {
	u := NewUsers(path)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read users file: %w", err)
	}
	var problems []string
	bad := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	firstLine := make(map[string]int)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		// The hash holds no colon, so splitting in three is unambiguous.
		parts := strings.SplitN(text, ":", 3)
		if len(parts) != 3 {
			bad(n, `line is not "name:role:bcrypt-hash"`)
			continue
		}
		name, roleText, hash := parts[0], parts[1], parts[2]
		if err := ValidateName(name); err != nil {
			bad(n, "%v", err)
			continue
		}
		role, err := ParseRole(roleText)
		if err != nil {
			bad(n, "user %s: %v", name, err)
			continue
		}
		if err := checkHash(hash); err != nil {
			// The hash itself is not repeated: a typo in it is still a secret.
			bad(n, "user %s: %v", name, err)
			continue
		}
		if first, dup := firstLine[name]; dup {
			bad(n, "user %s already defined at line %d", name, first)
			continue
		}
		firstLine[name] = n
		u.users[name] = &user{User: User{Name: name, Role: role}, hash: hash}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read users file %s: %w", path, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("users file has %d error(s):\n%s", len(problems), strings.Join(problems, "\n"))
	}
	return u, nil
}

// Path is the users file the set writes to ("" when none).
func (u *Users) Path() string { return u.path }

// AddConfigured adds a user defined in the configuration file. Such users
// are never written to the users file and the API cannot change them.
func (u *Users) AddConfigured(name string, role Role, hash string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return fmt.Errorf("user %s: %w", name, err)
	}
	if err := checkHash(hash); err != nil {
		return fmt.Errorf("user %s: %w", name, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, dup := u.users[name]; dup {
		return fmt.Errorf("user %s: %w", name, ErrUserExists)
	}
	u.users[name] = &user{User: User{Name: name, Role: role, Configured: true}, hash: hash}
	return nil
}

// Len is the number of users.
func (u *Users) Len() int {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return len(u.users)
}

// List returns every user, sorted by name.
func (u *Users) List() []User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]User, 0, len(u.users))
	for _, x := range u.users {
		out = append(out, x.User)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup returns the user called name.
func (u *Users) Lookup(name string) (User, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	x, ok := u.users[name]
	if !ok {
		return User{}, false
	}
	return x.User, true
}

// Authenticate checks a user name and password. An unknown name costs the
// same bcrypt comparison as a known one, so response times do not reveal
// which names exist. Every failure is ErrBadCredentials.
func (u *Users) Authenticate(name, pw string) (Principal, error) {
	u.mu.RLock()
	x, ok := u.users[name]
	var hash []byte
	var p Principal
	if ok {
		hash = []byte(x.hash)
		p = Principal{User: x.Name, Role: x.Role}
	}
	u.mu.RUnlock()
	if !ok {
		hash = u.dummyHash()
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(pw))
	// !ok keeps the unknown-user path from ever succeeding, even if someone
	// guessed the dummy password.
	if err != nil || !ok {
		return Principal{}, ErrBadCredentials
	}
	return p, nil
}

// dummyHash returns a hash of a random password at the cost real users'
// hashes have, made once and kept.
func (u *Users) dummyHash() []byte {
	cost := HashCost
	u.mu.RLock()
	for _, x := range u.users {
		if c, err := bcrypt.Cost([]byte(x.hash)); err == nil {
			cost = c
			break
		}
	}
	u.mu.RUnlock()
	u.dummyMu.Lock()
	defer u.dummyMu.Unlock()
	if h, ok := u.dummy[cost]; ok {
		return h
	}
	pw, err := randomString(24)
	if err != nil {
		pw = "unguessable only when crypto/rand works"
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		// Cannot happen with a valid cost; an invalid hash still fails the
		// comparison, only faster.
		h = []byte("$2a$")
	}
	if u.dummy == nil {
		u.dummy = make(map[int][]byte)
	}
	u.dummy[cost] = h
	return h
}

// Add creates a user with the given password and writes the users file.
func (u *Users) Add(name string, role Role, pw string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	return u.addHash(name, role, hash)
}

func (u *Users) addHash(name string, role Role, hash string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, dup := u.users[name]; dup {
		return ErrUserExists
	}
	u.users[name] = &user{User: User{Name: name, Role: role}, hash: hash}
	if err := u.saveLocked(); err != nil {
		delete(u.users, name)
		return err
	}
	return nil
}

// Remove deletes a user and writes the users file. Configured users and
// the last administrator cannot be removed.
func (u *Users) Remove(name string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok := u.users[name]
	if !ok {
		return ErrUnknownUser
	}
	if x.Configured {
		return ErrConfiguredUser
	}
	if x.Role == Administrator {
		admins := 0
		for _, y := range u.users {
			if y.Role == Administrator {
				admins++
			}
		}
		if admins <= 1 {
			return ErrLastAdministrator
		}
	}
	delete(u.users, name)
	if err := u.saveLocked(); err != nil {
		u.users[name] = x
		return err
	}
	return nil
}

// SetPassword changes a user's password and writes the users file.
func (u *Users) SetPassword(name, pw string) error {
	u.mu.RLock()
	x, ok := u.users[name]
	u.mu.RUnlock()
	if !ok {
		return ErrUnknownUser
	}
	if x.Configured {
		return ErrConfiguredUser
	}
	// Hash outside the lock: it takes a quarter of a second.
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok = u.users[name]
	if !ok {
		return ErrUnknownUser
	}
	old := x.hash
	x.hash = hash
	if err := u.saveLocked(); err != nil {
		x.hash = old
		return err
	}
	return nil
}

// saveLocked writes the users that came from the file (not configured ones)
// to a temporary file beside it and renames it over the old one, so a crash
// leaves either the old or the new file, never half of one.
func (u *Users) saveLocked() error {
	if u.path == "" {
		return nil
	}
	var b strings.Builder
	b.WriteString("# ThreatLockDown users: name:role:bcrypt-hash (roles: read-only, administrator).\n")
	b.WriteString("# Written by tld; edit while tld is stopped.\n")
	names := make([]string, 0, len(u.users))
	for name, x := range u.users {
		if !x.Configured {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		x := u.users[name]
		fmt.Fprintf(&b, "%s:%s:%s\n", x.Name, x.Role, x.hash)
	}
	if err := writeFileAtomic(u.path, []byte(b.String())); err != nil {
		return fmt.Errorf("write users file: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to path with mode 0600 through a temporary
// file in the same directory and a rename.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	// CreateTemp already makes 0600 files; Chmod states it for umasks and
	// platforms that differ.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
