package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/threatlockdown/tld/internal/auth"
	"github.com/threatlockdown/tld/internal/config"
)

const usersUsage = `tld users — manage who may use the dashboard and the REST API

Usage:
  tld users list   [-c FILE] [--data DIR]
  tld users add    [-c FILE] [--data DIR] [--role read-only|administrator] NAME
  tld users passwd [-c FILE] [--data DIR] NAME
  tld users delete [-c FILE] [--data DIR] NAME
  tld users hash

The users file is the configuration's <dashboard><users_file>, or DATA/users.
Passwords are read from the terminal without echo, or as one line from
standard input when it is not a terminal. "hash" prints a bcrypt hash for a
<user> element of ossec.conf. A running tld picks up changes on restart;
changes made through the API apply at once.
`

func usersCommand(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(io.Err, usersUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	if sub == "hash" {
		pw, err := readPassword(io, "Password: ")
		if err != nil {
			fmt.Fprintf(io.Err, "tld users hash: %v\n", err)
			return 1
		}
		h, err := auth.HashPassword(pw)
		if err != nil {
			fmt.Fprintf(io.Err, "tld users hash: %v\n", err)
			return 1
		}
		fmt.Fprintln(io.Out, h)
		return 0
	}
	fs := newFlagSet("users "+sub, "users "+sub+" [-c FILE] [--data DIR] ...", io)
	cfgPath := fs.String("c", "", "ossec.conf whose <dashboard> names the users file (optional)")
	dataDir := fs.String("data", "./var", "data directory of `tld run`")
	role := fs.String("role", string(auth.ReadOnly), "role of a new user: read-only or administrator")
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	cfg := &config.Config{}
	if *cfgPath != "" {
		c, _, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintf(io.Err, "tld users: %v\n", err)
			return 1
		}
		cfg = c
	}
	users, err := readUsers(cfg, *dataDir)
	if err != nil {
		fmt.Fprintf(io.Err, "tld users: %v\n", err)
		return 1
	}
	name := fs.Arg(0)
	if sub != "list" && (fs.NArg() != 1 || name == "") {
		fmt.Fprintf(io.Err, "tld users %s: give one user name\n", sub)
		return 2
	}
	switch sub {
	case "list":
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tWHERE")
		for _, u := range users.List() {
			where := users.Path()
			if u.Configured {
				where = "configuration"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role, where)
		}
		tw.Flush()
		return 0
	case "add":
		r, err := auth.ParseRole(*role)
		if err == nil {
			err = auth.ValidateName(name)
		}
		var pw string
		if err == nil {
			pw, err = readPassword(io, "Password for "+name+": ")
		}
		if err == nil {
			err = users.Add(name, r, pw)
		}
		if err != nil {
			fmt.Fprintf(io.Err, "tld users add: %v\n", err)
			return 1
		}
		fmt.Fprintf(io.Out, "Added %s (%s) to %s.\n", name, r, users.Path())
	case "passwd":
		pw, err := readPassword(io, "New password for "+name+": ")
		if err == nil {
			err = users.SetPassword(name, pw)
		}
		if err != nil {
			fmt.Fprintf(io.Err, "tld users passwd: %v\n", err)
			return 1
		}
		if name == auth.InitialAdmin {
			// The generated password no longer works: do not leave it
			// lying around as if it did.
			_ = os.Remove(filepath.Join(*dataDir, initialPasswordFile))
		}
		fmt.Fprintf(io.Out, "Changed the password of %s in %s.\n", name, users.Path())
	case "delete":
		if err := users.Remove(name); err != nil {
			fmt.Fprintf(io.Err, "tld users delete: %v\n", err)
			return 1
		}
		fmt.Fprintf(io.Out, "Deleted %s from %s.\n", name, users.Path())
	default:
		fmt.Fprintf(io.Err, "tld users: unknown subcommand %q\n\n%s", sub, usersUsage)
		return 2
	}
	return 0
}

// readPassword reads a password without echo from a terminal, or one line
// from a pipe.
func readPassword(io IO, prompt string) (string, error) {
	if f, ok := io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(io.Err, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(io.Err)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	if io.In == nil {
		return "", errors.New("no password given on standard input")
	}
	line, err := bufio.NewReader(io.In).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
