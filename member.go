package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"plenary/governance"
)

func addMember(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("member add -email E -name N [-role admin] [-db FILE]",
		"Add an active member directly. The password comes from PLENARY_PASSWORD or is asked for.", stderr, &cfg)
	email := fs.String("email", "", "the member's email (required)")
	name := fs.String("name", "", "the member's name (required)")
	role := fs.String("role", "member", "member or admin")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		fs.Usage()
		return errUsage
	}
	password := os.Getenv("PLENARY_PASSWORD")
	if password == "" {
		var err error
		if password, err = readPassword(stdin, stderr); err != nil {
			return err
		}
	}
	d, err := openDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	m, err := governance.New(d, time.Now).AddMember(ctx, governance.Details{Name: *name, Email: *email, Password: password}, *role)
	var v governance.ValidationError
	if errors.As(err, &v) {
		for field, msg := range v {
			fmt.Fprintf(stderr, "%s: %s\n", field, msg)
		}
		return errors.New("member not added")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Added member %d (%s, %s).\n", m.ID, m.Role, m.EmailAddress())
	return nil
}

// readPassword asks on the terminal without echo, or reads a line when the
// input is not a terminal.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	fmt.Fprint(stderr, "Password: ")
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
