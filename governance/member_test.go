package governance_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

func TestApply(t *testing.T) {
	valid := governance.Details{
		Name:      "Ada Lovelace",
		Email:     "ada.lovelace@example.org",
		Password:  password,
		Statement: "I run a worker co-op in Leeds.",
	}
	tests := []struct {
		name   string
		change func(*governance.Details)
		field  string
		want   string
	}{
		{"an empty name is refused", func(d *governance.Details) { d.Name = "  " }, "name", "Enter your name."},
		{"a name over 80 characters is refused", func(d *governance.Details) { d.Name = strings.Repeat("é", 81) }, "name", "Keep your name under 80 characters."},
		{"a name with invalid UTF-8 is refused", func(d *governance.Details) { d.Name = "Ada \xff Lovelace" }, "name", "Your name contains invalid characters."},
		{"a name with a control character is refused", func(d *governance.Details) { d.Name = "Ada\x00Lovelace" }, "name", "Your name contains invalid characters."},
		{"a name with a line break inside is refused", func(d *governance.Details) { d.Name = "Ada\nLovelace" }, "name", "Your name contains invalid characters."},
		{"an empty email is refused", func(d *governance.Details) { d.Email = "" }, "email", "Enter your email address."},
		{"an email over 254 characters is refused", func(d *governance.Details) { d.Email = strings.Repeat("a", 250) + "@example.org" }, "email", "That email address is too long."},
		{"an email without a domain is refused", func(d *governance.Details) { d.Email = "ada@" }, "email", "Enter an email address like name@example.org."},
		{"an email without an at sign is refused", func(d *governance.Details) { d.Email = "ada.example.org" }, "email", "Enter an email address like name@example.org."},
		{"an email whose domain has no dot is refused", func(d *governance.Details) { d.Email = "ada@localhost" }, "email", "Enter an email address like name@example.org."},
		{"an email with a display name is refused", func(d *governance.Details) { d.Email = "Ada <ada@example.org>" }, "email", "Enter an email address like name@example.org."},
		{"an empty password is refused", func(d *governance.Details) { d.Password = "" }, "password", "Choose a password."},
		{"a password under 10 characters is refused", func(d *governance.Details) { d.Password = "tr0ub4dor" }, "password", "Use at least 10 characters."},
		{"a password over 128 characters is refused", func(d *governance.Details) { d.Password = strings.Repeat("xy3", 43) }, "password", "Use at most 128 characters."},
		{"a common password is refused", func(d *governance.Details) { d.Password = "password123" }, "password", "among the most common"},
		{"a common password in capitals is refused", func(d *governance.Details) { d.Password = "QwertyUiop1" }, "password", "among the most common"},
		{"a password of one repeated character is refused", func(d *governance.Details) { d.Password = "zzzzzzzzzzzz" }, "password", "among the most common"},
		{"a password containing the email's local part is refused", func(d *governance.Details) {
			d.Email = "lovelace@example.org"
			d.Password = "my-Lovelace-1843"
		}, "password", "Don't build your password from your name or email."},
		{"a password containing the name is refused", func(d *governance.Details) { d.Password = "adalovelace!!1815" }, "password", "Don't build your password from your name or email."},
		{"an empty statement is refused", func(d *governance.Details) { d.Statement = "\n " }, "statement", "Say in a few words why you want to join."},
		{"a statement over 1000 characters is refused", func(d *governance.Details) { d.Statement = strings.Repeat("a", 1001) }, "statement", "Keep it under 1000 characters."},
		{"a statement with invalid UTF-8 is refused", func(d *governance.Details) { d.Statement = "I \xc3 co-ops" }, "statement", "This text contains invalid characters."},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid
			tt.change(&d)
			_, err := e.s.Apply(e.ctx, d)
			wantValidation(t, err, tt.field, tt.want)
			var v governance.ValidationError
			errors.As(err, &v)
			if len(v) != 1 {
				t.Errorf("messages = %v, want only one for %q", v, tt.field)
			}
			if n := e.count(t, `SELECT count(*) FROM members`); n != 0 {
				t.Errorf("members = %d after a refused application, want 0", n)
			}
		})
	}

	t.Run("every field left empty gets its own message", func(t *testing.T) {
		_, err := e.s.Apply(e.ctx, governance.Details{})
		for _, field := range []string{"name", "email", "password", "statement"} {
			if _, ok := isValidation(err, field); !ok {
				t.Errorf("no message for %q in %v", field, err)
			}
		}
	})

	t.Run("a valid application makes an applicant with the details tidied", func(t *testing.T) {
		d := valid
		d.Name = "  Ada Lovelace "
		d.Email = " Ada.Lovelace@Example.ORG "
		m, err := e.s.Apply(e.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		got := e.get(t, m.ID)
		if got.Name != "Ada Lovelace" || got.EmailAddress() != "ada.lovelace@example.org" {
			t.Errorf("stored name %q, email %q; want them trimmed and the email lower-cased", got.Name, got.EmailAddress())
		}
		if got.Status != governance.StatusApplicant || got.Role != governance.RoleMember {
			t.Errorf("status %q role %q, want applicant member", got.Status, got.Role)
		}
		if got.Statement != valid.Statement {
			t.Errorf("statement = %q, want %q", got.Statement, valid.Statement)
		}
		if got.JoinedAt != nil {
			t.Errorf("joined_at = %v for an applicant, want none", got.JoinedAt)
		}
		if got.PasswordHash == nil || strings.Contains(*got.PasswordHash, password) {
			t.Errorf("password stored as %v, want a hash", got.PasswordHash)
		}
		if n := e.count(t, `SELECT count(*) FROM ledger`); n != 0 {
			t.Errorf("ledger entries = %d after an application, want none until an admin decides", n)
		}
	})

	// Issue 16: a passphrase that shares a word with the name or address is
	// no weaker for it; one that is mostly the name or address is.
	t.Run("passphrases sharing a word with the name or email are taken, ones mostly made of them are not", func(t *testing.T) {
		for _, tt := range []struct {
			name, email, password string
			ok                    bool
		}{
			{"Admin", "admin@example.org", "admin pass phrase 42", true},
			{"Ada Lovelace", "ada@riverside.coop", "ada rides the long canal path", true},
			{"Ada Lovelace", "ada@riverside.coop", "Riverside-Ada-2026", false},
			{"Ada Lovelace", "ada.lovelace@example.org", "lovelace.ada.99", false},
			{"Ada Lovelace", "al@example.org", "ExampleExample!", false},
		} {
			d := valid
			d.Name, d.Email, d.Password = tt.name, tt.email, tt.password
			_, err := e.s.Apply(e.ctx, d)
			_, refused := isValidation(err, "password")
			if refused == tt.ok {
				t.Errorf("%q for %s <%s>: %v; want taken %t", tt.password, tt.name, tt.email, err, tt.ok)
			}
		}
	})

	t.Run("a second application with the same email in other case is refused", func(t *testing.T) {
		d := valid
		d.Name = "Someone Else"
		d.Email = "ADA.LOVELACE@example.org"
		before := e.snapshot(t)
		_, err := e.s.Apply(e.ctx, d)
		wantValidation(t, err, "email", "There is already an account with this email.")
		if n := e.count(t, `SELECT count(*) FROM members WHERE lower(email) = 'ada.lovelace@example.org'`); n != 1 {
			t.Errorf("members with the email = %d, want 1", n)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	active := e.member(t, 1, governance.StatusActive, admin)
	applicant := e.member(t, 2, governance.StatusApplicant, admin)

	t.Run("the right password logs an active member in", func(t *testing.T) {
		m, err := e.s.Login(e.ctx, active.EmailAddress(), password, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != active.ID {
			t.Errorf("logged in as %d, want %d", m.ID, active.ID)
		}
	})

	t.Run("the email is matched whatever its case and spacing", func(t *testing.T) {
		m, err := e.s.Login(e.ctx, "  "+strings.ToUpper(active.EmailAddress())+" ", password, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != active.ID {
			t.Errorf("logged in as %d, want %d", m.ID, active.ID)
		}
	})

	t.Run("an applicant can log in to follow their application", func(t *testing.T) {
		m, err := e.s.Login(e.ctx, applicant.EmailAddress(), password, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != governance.StatusApplicant {
			t.Errorf("status = %q, want applicant", m.Status)
		}
	})

	t.Run("a wrong password is not recognised", func(t *testing.T) {
		_, err := e.s.Login(e.ctx, active.EmailAddress(), "correct horse battery stable", "192.0.2.2")
		if !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("err = %v, want ErrBadCredentials", err)
		}
	})

	t.Run("an unknown email gets the same answer as a wrong password", func(t *testing.T) {
		_, err := e.s.Login(e.ctx, "nobody@example.org", password, "192.0.2.3")
		if !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("err = %v, want ErrBadCredentials", err)
		}
	})

	t.Run("an overlong password is not recognised", func(t *testing.T) {
		_, err := e.s.Login(e.ctx, active.EmailAddress(), strings.Repeat("x", 10000), "192.0.2.4")
		if !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("err = %v, want ErrBadCredentials", err)
		}
	})

	t.Run("a suspended member can log in to vote, but takes no other part", func(t *testing.T) {
		// A suspended member may still hold a vote in a ballot whose roll was
		// frozen before the suspension, so they log in; they are not active,
		// and proposing or commenting is refused.
		m := e.member(t, 5, governance.StatusSuspended, admin)
		got, err := e.s.Login(e.ctx, m.EmailAddress(), password, "192.0.2.5")
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		if got.ID != m.ID || got.Status != governance.StatusSuspended || got.IsActive() {
			t.Errorf("logged in as %d status %q active %t, want %d suspended and not active", got.ID, got.Status, got.IsActive(), m.ID)
		}
		motion := governance.ProposalInput{Kind: governance.KindMotion, Title: "Meet on Thursdays", Opens: "now", Days: "7"}
		if _, err := e.s.Propose(e.ctx, got, motion); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("a suspended member proposes: err = %v, want ErrForbidden", err)
		}
		p, err := e.s.Propose(e.ctx, admin, motion)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.AddComment(e.ctx, got, p.ID, "I object."); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("a suspended member comments: err = %v, want ErrForbidden", err)
		}
		if n := e.count(t, `SELECT count(*) FROM comments`); n != 0 {
			t.Errorf("%d comments stored, want 0", n)
		}
	})

	t.Run("a suspended member with a wrong password learns nothing of their status", func(t *testing.T) {
		_, err := e.s.Login(e.ctx, details(5).Email, "not the password at all", "192.0.2.6")
		if !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("err = %v, want ErrBadCredentials", err)
		}
	})

	notAllowed := []struct {
		status string
		reason string
	}{
		{governance.StatusRejected, "We only admit people who work in the sector."},
		{governance.StatusLeft, ""},
	}
	for i, tt := range notAllowed {
		t.Run("a "+tt.status+" member with the right password is told why they cannot log in", func(t *testing.T) {
			m := e.member(t, 3+i, tt.status, admin)
			_, err := e.s.Login(e.ctx, m.EmailAddress(), password, "192.0.2.5")
			var na *governance.NotAllowedError
			if !errors.As(err, &na) {
				t.Fatalf("err = %v, want a *NotAllowedError", err)
			}
			if na.Status != tt.status || na.Reason != tt.reason {
				t.Errorf("NotAllowedError = %+v, want status %q reason %q", na, tt.status, tt.reason)
			}
			if tt.reason != "" && !strings.Contains(na.Error(), tt.reason) {
				t.Errorf("message %q does not give the reason %q", na.Error(), tt.reason)
			}
		})
		t.Run("a "+tt.status+" member with a wrong password learns nothing of their status", func(t *testing.T) {
			_, err := e.s.Login(e.ctx, details(3+i).Email, "not the password at all", "192.0.2.6")
			if !errors.Is(err, governance.ErrBadCredentials) {
				t.Errorf("err = %v, want ErrBadCredentials", err)
			}
		})
	}

	t.Run("an erased member cannot log in", func(t *testing.T) {
		m := e.member(t, 6, governance.StatusActive, admin)
		if err := e.s.Erase(e.ctx, admin, m.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err := e.s.Login(e.ctx, details(6).Email, password, "192.0.2.7")
		if !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("err = %v, want ErrBadCredentials", err)
		}
	})
}

func TestLoginThrottling(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)
	other := e.member(t, 2, governance.StatusActive, admin)
	email := m.EmailAddress()
	fail := func(t *testing.T, email, address string) {
		t.Helper()
		if _, err := e.s.Login(e.ctx, email, "not the password at all", address); !errors.Is(err, governance.ErrBadCredentials) {
			t.Fatalf("failed login err = %v, want ErrBadCredentials", err)
		}
	}
	login := func(email, address string) error {
		_, err := e.s.Login(e.ctx, email, password, address)
		return err
	}

	t.Run("four failures still let the right password in, and success clears them", func(t *testing.T) {
		for i := range 4 {
			fail(t, email, fmt.Sprintf("198.51.100.%d", i+1))
		}
		if err := login(email, "198.51.100.9"); err != nil {
			t.Fatalf("after four failures: %v", err)
		}
		for i := range 4 {
			fail(t, email, fmt.Sprintf("198.51.100.%d", i+1))
		}
		if err := login(email, "198.51.100.9"); err != nil {
			t.Errorf("after four more failures following a success: %v", err)
		}
		e.clock.Advance(time.Hour)
	})

	t.Run("five failures on an account from different addresses lock it even against the right password", func(t *testing.T) {
		for i := range 5 {
			fail(t, email, fmt.Sprintf("203.0.113.%d", i+1))
		}
		if err := login(email, "203.0.113.9"); !errors.Is(err, governance.ErrThrottled) {
			t.Fatalf("err = %v, want ErrThrottled", err)
		}
		if err := login(other.EmailAddress(), "203.0.113.9"); err != nil {
			t.Errorf("another account from a fresh address: %v, want it let in", err)
		}

		t.Run("and the window passing lets the member in again", func(t *testing.T) {
			e.clock.Advance(15*time.Minute + time.Second)
			if err := login(email, "203.0.113.9"); err != nil {
				t.Errorf("after the window: %v", err)
			}
		})
	})

	t.Run("only failures inside the window count", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		for range 3 {
			fail(t, email, "203.0.113.10")
		}
		e.clock.Advance(10 * time.Minute)
		// A fresh address each time: only the account's count matters here.
		fail(t, email, "203.0.113.11")
		fail(t, email, "203.0.113.12")
		if err := login(email, "203.0.113.13"); !errors.Is(err, governance.ErrThrottled) {
			t.Fatalf("five failures within ten minutes: err = %v, want ErrThrottled", err)
		}
		// The first three are now older than fifteen minutes.
		e.clock.Advance(5*time.Minute + time.Second)
		if err := login(email, "203.0.113.13"); err != nil {
			t.Errorf("with two failures left in the window: %v", err)
		}
	})

	t.Run("five failures from one address across accounts lock that address", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		const address = "192.0.2.66"
		for i := range 5 {
			fail(t, fmt.Sprintf("guess%d@example.org", i), address)
		}
		if err := login(m.EmailAddress(), address); !errors.Is(err, governance.ErrThrottled) {
			t.Fatalf("a real account from that address: err = %v, want ErrThrottled", err)
		}
		if err := login(other.EmailAddress(), address); !errors.Is(err, governance.ErrThrottled) {
			t.Fatalf("another real account from that address: err = %v, want ErrThrottled", err)
		}
		if err := login(m.EmailAddress(), "192.0.2.67"); err != nil {
			t.Errorf("the same account from another address: %v, want it let in", err)
		}

		t.Run("and the window passing unlocks the address", func(t *testing.T) {
			e.clock.Advance(15*time.Minute + time.Second)
			if err := login(other.EmailAddress(), address); err != nil {
				t.Errorf("after the window: %v", err)
			}
		})
	})

	t.Run("guesses sent at once get no more than five passwords checked", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		// Each from an address of its own, so only the account's count
		// can stop them; all start before any has been answered.
		const guesses = 24
		checked, throttled := atOnce(t, guesses, governance.ErrBadCredentials, func(i int) error {
			_, err := e.s.Login(e.ctx, email, fmt.Sprintf("guess number %d", i), fmt.Sprintf("198.18.0.%d", i+1))
			return err
		})
		if checked != 5 || throttled != guesses-5 {
			t.Errorf("%d guesses checked and %d throttled, want 5 and %d", checked, throttled, guesses-5)
		}
	})
}

func TestSessionMember(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)

	t.Run("the current session version is accepted", func(t *testing.T) {
		got, err := e.s.SessionMember(e.ctx, m.ID, m.SessionVersion)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != m.ID {
			t.Errorf("member %d, want %d", got.ID, m.ID)
		}
	})

	t.Run("an unknown member is not found", func(t *testing.T) {
		if _, err := e.s.SessionMember(e.ctx, 9999, 1); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("a session from before a suspension is dropped, and a new one is good", func(t *testing.T) {
		old := m.SessionVersion
		if err := e.s.Suspend(e.ctx, admin, m.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.SessionMember(e.ctx, m.ID, old); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("old version: err = %v, want ErrNotFound", err)
		}
		// A session begun after the suspension (a suspended member logs in
		// to vote) is good, and says the member is not active.
		now := e.get(t, m.ID).SessionVersion
		got, err := e.s.SessionMember(e.ctx, m.ID, now)
		if err != nil {
			t.Fatalf("current version of a suspended member: %v", err)
		}
		if got.Status != governance.StatusSuspended || got.IsActive() {
			t.Errorf("session member status %q active %t, want suspended and not active", got.Status, got.IsActive())
		}
	})

	t.Run("a session from before reinstatement stays dropped", func(t *testing.T) {
		if err := e.s.Reinstate(e.ctx, admin, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.SessionMember(e.ctx, m.ID, m.SessionVersion); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("version from before the suspension: err = %v, want ErrNotFound", err)
		}
		cur := e.get(t, m.ID).SessionVersion
		if _, err := e.s.SessionMember(e.ctx, m.ID, cur); err != nil {
			t.Errorf("current version after reinstatement: %v", err)
		}
	})
}

func TestChangeEmail(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)
	other := e.member(t, 2, governance.StatusActive, admin)

	refused := []struct {
		name            string
		currentPassword string
		email           string
		field, want     string
	}{
		{"a wrong current password is refused", "not my password", "new.address@example.org", "current_password", "That is not your current password."},
		{"an empty current password is refused", "", "new.address@example.org", "current_password", "That is not your current password."},
		{"a malformed email is refused", password, "new.address@", "email", "Enter an email address like name@example.org."},
		{"another member's email in other case is refused", password, strings.ToUpper(other.EmailAddress()), "email", "Another account uses this email."},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			err := e.s.ChangeEmail(e.ctx, m.ID, tt.currentPassword, tt.email)
			wantValidation(t, err, tt.field, tt.want)
			if after := e.snapshot(t); after != before {
				t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("the right current password changes the email, and login follows it", func(t *testing.T) {
		if err := e.s.ChangeEmail(e.ctx, m.ID, password, " New.Address@Example.org "); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, m.ID).EmailAddress(); got != "new.address@example.org" {
			t.Errorf("email = %q, want new.address@example.org", got)
		}
		if _, err := e.s.Login(e.ctx, "new.address@example.org", password, "192.0.2.1"); err != nil {
			t.Errorf("login with the new email: %v", err)
		}
		if _, err := e.s.Login(e.ctx, m.EmailAddress(), password, "192.0.2.1"); !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("login with the old email: err = %v, want ErrBadCredentials", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)
	const newPassword = "plural mutual ledger aspidistra"

	refused := []struct {
		name            string
		currentPassword string
		password        string
		field, want     string
	}{
		{"a wrong current password is refused", "not my password", newPassword, "current_password", "That is not your current password."},
		{"a common new password is refused", password, "password123", "password", "among the most common"},
		{"a new password built from the email is refused", password, "Ada-" + strings.Split(m.EmailAddress(), "@")[0], "password", "Don't build your password"},
		{"a short new password is refused", password, "short", "password", "Use at least 10 characters."},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			_, err := e.s.ChangePassword(e.ctx, m.ID, tt.currentPassword, tt.password)
			wantValidation(t, err, tt.field, tt.want)
			if after := e.snapshot(t); after != before {
				t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("the right current password sets the new one and logs other sessions out", func(t *testing.T) {
		version, err := e.s.ChangePassword(e.ctx, m.ID, password, newPassword)
		if err != nil {
			t.Fatal(err)
		}
		if version != m.SessionVersion+1 {
			t.Errorf("new session version = %d, want %d", version, m.SessionVersion+1)
		}
		if _, err := e.s.SessionMember(e.ctx, m.ID, m.SessionVersion); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("old session: err = %v, want ErrNotFound", err)
		}
		if _, err := e.s.SessionMember(e.ctx, m.ID, version); err != nil {
			t.Errorf("the session that made the change: %v", err)
		}
		if _, err := e.s.Login(e.ctx, m.EmailAddress(), newPassword, "192.0.2.1"); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
		if _, err := e.s.Login(e.ctx, m.EmailAddress(), password, "192.0.2.2"); !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("login with the old password: err = %v, want ErrBadCredentials", err)
		}
	})
}
