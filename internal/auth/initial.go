package auth

import (
	"crypto/rand"
	"fmt"
)

// InitialAdmin is the name of the user EnsureInitialAdmin creates.
const InitialAdmin = "admin"

// EnsureInitialAdmin makes a fresh install reachable: when the users file at
// usersPath holds no user, it creates the administrator "admin" with a
// random 20-character password, writes its hash to the users file and the
// password itself to passwordPath (mode 0600) for the operator to read. The
// password is never logged. It reports whether it created the user.
//
// It looks at the users file only; use (*Users).EnsureInitialAdmin when
// users may also come from the configuration.
func EnsureInitialAdmin(usersPath, passwordPath string) (created bool, err error) {
	u, err := LoadUsersFile(usersPath)
	if err != nil {
		return false, err
	}
	return u.EnsureInitialAdmin(passwordPath)
}

// EnsureInitialAdmin creates the administrator "admin" as the package
// function does, when the set (file and configured users together) is empty.
func (u *Users) EnsureInitialAdmin(passwordPath string) (created bool, err error) {
	if u.Len() > 0 {
		return false, nil
	}
	pw, err := randomString(20)
	if err != nil {
		return false, err
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return false, err
	}
	// The password file first: a users file naming an admin whose password
	// nobody knows would lock the operator out.
	if err := writeFileAtomic(passwordPath, []byte(pw+"\n")); err != nil {
		return false, fmt.Errorf("write initial admin password file: %w", err)
	}
	if err := u.addHash(InitialAdmin, Administrator, hash); err != nil {
		return false, fmt.Errorf("create initial admin: %w", err)
	}
	return true, nil
}

// passwordAlphabet avoids characters that look alike (0/O, 1/l/I) so the
// generated password can be read off a screen and typed.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomString returns n characters drawn uniformly from passwordAlphabet.
func randomString(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	// Rejection sampling keeps the draw uniform: bytes at or above the
	// largest multiple of the alphabet size are thrown away.
	limit := 256 - 256%len(passwordAlphabet)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random password: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}
