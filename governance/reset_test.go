package governance_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/governance"
)

const newPassword = "lantern meadow copper 77"

func TestIssueReset(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)

	t.Run("an admin issues a link that expires after the reset TTL, and the ledger names both by number", func(t *testing.T) {
		r, token, err := e.s.IssueReset(e.ctx, admin, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 43 || r.MemberID != m.ID || r.CreatedBy == nil || *r.CreatedBy != admin.ID {
			t.Errorf("reset %+v, token %q: want one for member %d by %d with a 256-bit token", r, token, m.ID, admin.ID)
		}
		if got := r.ExpiresAt.Sub(r.CreatedAt); got != 24*time.Hour {
			t.Errorf("the link works for %v, want 24h", got)
		}
		entry := e.lastEntry(t)
		checkEntry(t, entry, governance.EventResetIssued, m.ID, admin.ID)
		if want := fmt.Sprintf("A password-reset link for member %d was issued by member %d", m.ID, admin.ID); entry.Summary() != want {
			t.Errorf("summary %q, want %q", entry.Summary(), want)
		}
		if n := e.count(t, `SELECT count(*) FROM password_resets WHERE token_hash = ?`, token); n != 0 {
			t.Errorf("the token itself is stored; only its hash may be")
		}
		e.checkAnonymous(t, details(1))
	})

	t.Run("a member who is not an admin cannot issue one, and nothing changes", func(t *testing.T) {
		other := e.member(t, 2, governance.StatusActive, admin)
		before := e.snapshot(t)
		resets := e.count(t, `SELECT count(*) FROM password_resets`)
		if _, _, err := e.s.IssueReset(e.ctx, other, m.ID); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
		if e.snapshot(t) != before || e.count(t, `SELECT count(*) FROM password_resets`) != resets {
			t.Error("a refused reset changed the database")
		}
	})

	for _, status := range []string{governance.StatusLeft, governance.StatusRejected, erased} {
		t.Run(fmt.Sprintf("a %s member cannot get one", status), func(t *testing.T) {
			i := map[string]int{governance.StatusLeft: 3, governance.StatusRejected: 4, erased: 5}[status]
			gone := e.member(t, i, status, admin)
			before := e.snapshot(t)
			_, _, err := e.s.IssueReset(e.ctx, admin, gone.ID)
			if _, ok := isValidation(err, ""); !ok {
				t.Errorf("err = %v, want a ValidationError", err)
			}
			if e.snapshot(t) != before {
				t.Error("a refused reset changed the database")
			}
		})
	}

	t.Run("an unknown member is not found", func(t *testing.T) {
		if _, _, err := e.s.IssueReset(e.ctx, admin, 999999); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestResetPassword(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	issue := func(t *testing.T, m governance.Member) string {
		t.Helper()
		_, token, err := e.s.IssueReset(e.ctx, admin, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}

	t.Run("the link sets a new password once, ends every session and goes on the ledger", func(t *testing.T) {
		m := e.member(t, 1, governance.StatusActive, admin)
		token := issue(t, m)
		if _, _, err := e.s.OpenReset(e.ctx, token); err != nil {
			t.Fatalf("open the fresh link: %v", err)
		}
		got, err := e.s.ResetPassword(e.ctx, token, newPassword, newPassword)
		if err != nil {
			t.Fatal(err)
		}
		after := e.get(t, m.ID)
		if after.SessionVersion != m.SessionVersion+1 || got.SessionVersion != after.SessionVersion {
			t.Errorf("session version %d → %d (returned %d), want it moved on by one", m.SessionVersion, after.SessionVersion, got.SessionVersion)
		}
		if _, err := e.s.SessionMember(e.ctx, m.ID, m.SessionVersion); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("a session from before the reset still counts: %v", err)
		}
		if _, err := e.s.Login(e.ctx, m.EmailAddress(), newPassword, "192.0.2.1"); err != nil {
			t.Errorf("log in with the new password: %v", err)
		}
		if _, err := e.s.Login(e.ctx, m.EmailAddress(), password, "192.0.2.1"); !errors.Is(err, governance.ErrBadCredentials) {
			t.Errorf("log in with the old password: err = %v, want ErrBadCredentials", err)
		}
		entry := e.lastEntry(t)
		checkEntry(t, entry, governance.EventPasswordReset, m.ID, 0)
		if want := fmt.Sprintf("Member %d reset their password", m.ID); entry.Summary() != want {
			t.Errorf("summary %q, want %q", entry.Summary(), want)
		}
		e.checkAnonymous(t, details(1))

		t.Run("and a second use is refused", func(t *testing.T) {
			before := e.snapshot(t)
			if _, err := e.s.ResetPassword(e.ctx, token, "another fine password", "another fine password"); !errors.Is(err, governance.ErrLinkGone) {
				t.Errorf("err = %v, want ErrLinkGone", err)
			}
			if _, _, err := e.s.OpenReset(e.ctx, token); !errors.Is(err, governance.ErrLinkGone) {
				t.Errorf("open a used link: err = %v, want ErrLinkGone", err)
			}
			if e.snapshot(t) != before {
				t.Error("a used link changed the database")
			}
		})
	})

	t.Run("the link expires after a day", func(t *testing.T) {
		m := e.member(t, 2, governance.StatusActive, admin)
		token := issue(t, m)
		e.clock.Advance(24*time.Hour - time.Second)
		if _, _, err := e.s.OpenReset(e.ctx, token); err != nil {
			t.Fatalf("a second before it expires: %v", err)
		}
		e.clock.Advance(time.Second)
		if _, err := e.s.ResetPassword(e.ctx, token, newPassword, newPassword); !errors.Is(err, governance.ErrLinkGone) {
			t.Errorf("err = %v, want ErrLinkGone", err)
		}
		if e.get(t, m.ID).SessionVersion != m.SessionVersion {
			t.Error("an expired link ended the member's sessions")
		}
	})

	t.Run("issuing a new link revokes the older one", func(t *testing.T) {
		m := e.member(t, 3, governance.StatusActive, admin)
		old := issue(t, m)
		fresh := issue(t, m)
		if _, err := e.s.ResetPassword(e.ctx, old, newPassword, newPassword); !errors.Is(err, governance.ErrLinkGone) {
			t.Errorf("the older link: err = %v, want ErrLinkGone", err)
		}
		if _, err := e.s.ResetPassword(e.ctx, fresh, newPassword, newPassword); err != nil {
			t.Errorf("the newer link: %v", err)
		}
	})

	t.Run("an unknown token is not found", func(t *testing.T) {
		for _, token := range []string{"", "bogus", strings.Repeat("x", 10000), "'; DROP TABLE members; --", "\xff\xfe"} {
			if _, err := e.s.ResetPassword(e.ctx, token, newPassword, newPassword); !errors.Is(err, governance.ErrNotFound) {
				t.Errorf("token %.20q: err = %v, want ErrNotFound", token, err)
			}
		}
	})

	t.Run("a member who left after the link was issued cannot use it", func(t *testing.T) {
		m := e.member(t, 4, governance.StatusActive, admin)
		token := issue(t, m)
		if err := e.s.MarkLeft(e.ctx, admin, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.ResetPassword(e.ctx, token, newPassword, newPassword); !errors.Is(err, governance.ErrLinkGone) {
			t.Errorf("err = %v, want ErrLinkGone", err)
		}
	})

	t.Run("the new password follows the usual rules and must be typed twice alike", func(t *testing.T) {
		m := e.member(t, 5, governance.StatusApplicant, admin)
		token := issue(t, m)
		before := e.snapshot(t)
		for _, c := range []struct{ password, repeat, field, want string }{
			{"", "", "password", "Choose a password."},
			{"short", "short", "password", "at least 10"},
			{strings.Repeat("x", 129), strings.Repeat("x", 129), "password", "at most 128"},
			{"password123", "password123", "password", "most common"},
			{"maryseacole!", "maryseacole!", "password", "name or email"},
			{newPassword, "", "password_repeat", "again"},
			{newPassword, newPassword + " ", "password_repeat", "not the same"},
		} {
			_, err := e.s.ResetPassword(e.ctx, token, c.password, c.repeat)
			wantValidation(t, err, c.field, c.want)
		}
		if e.snapshot(t) != before {
			t.Error("refused passwords changed the database")
		}
		if _, err := e.s.ResetPassword(e.ctx, token, newPassword, newPassword); err != nil {
			t.Errorf("the link still works after the mistakes: %v", err)
		}
	})

	t.Run("of two requests racing with one link, one sets the password", func(t *testing.T) {
		m := e.member(t, 6, governance.StatusActive, admin)
		token := issue(t, m)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := fmt.Sprintf("racing password %d!", i)
				_, errs[i] = e.s.ResetPassword(e.ctx, token, p, p)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, governance.ErrLinkGone):
				t.Errorf("err = %v, want nil or ErrLinkGone", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d requests set the password, want 1", ok)
		}
		if n := e.count(t, `SELECT count(*) FROM ledger WHERE kind = ? AND `+e.d.JSONNumber("body", "member")+` = ?`, governance.EventPasswordReset, m.ID); n != 1 {
			t.Errorf("%d ledger entries for the reset, want 1", n)
		}
	})
}

func TestRequestReset(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)
	left := e.member(t, 2, governance.StatusLeft, admin)
	e.s.ResetEmailLimit = governance.Limit{Max: 3, Window: time.Hour}
	e.s.ResetAddressLimit = governance.Limit{Max: 100, Window: time.Hour}

	t.Run("a known email is recorded for the admins, without a link or a ledger entry", func(t *testing.T) {
		ledger := len(e.entries(t))
		notice, err := e.s.RequestReset(e.ctx, "  "+strings.ToUpper(m.EmailAddress())+" ", "192.0.2.1", false)
		if err != nil {
			t.Fatal(err)
		}
		if notice != (governance.ResetNotice{}) {
			t.Errorf("notice %+v, want none without mail", notice)
		}
		st, err := e.s.ResetStatus(e.ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.RequestedAt == nil || !st.RequestedAt.Equal(e.clock.Now()) || st.Open != nil {
			t.Errorf("status %+v, want requested now and no link", st)
		}
		reqs, err := e.s.ResetRequests(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) != 1 || reqs[0].MemberID != m.ID || reqs[0].Name != m.Name || reqs[0].LinkExpires != nil {
			t.Errorf("requests %+v, want member %d's alone", reqs, m.ID)
		}
		if n := len(e.entries(t)); n != ledger {
			t.Errorf("the request added %d ledger entries: it would tell the public the account exists", n-ledger)
		}
	})

	t.Run("with mail, a known email gets a working link that replaces the older one", func(t *testing.T) {
		_, adminToken, err := e.s.IssueReset(e.ctx, admin, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		notice, err := e.s.RequestReset(e.ctx, m.EmailAddress(), "192.0.2.1", true)
		if err != nil {
			t.Fatal(err)
		}
		if notice.Member.ID != m.ID || notice.Token == "" {
			t.Fatalf("notice %+v, want a link for member %d", notice, m.ID)
		}
		if _, _, err := e.s.OpenReset(e.ctx, adminToken); !errors.Is(err, governance.ErrLinkGone) {
			t.Errorf("the admin's older link: err = %v, want ErrLinkGone", err)
		}
		reqs, _ := e.s.ResetRequests(e.ctx)
		if len(reqs) != 1 || reqs[0].LinkExpires == nil {
			t.Errorf("requests %+v, want one with a working link", reqs)
		}
		if _, err := e.s.ResetPassword(e.ctx, notice.Token, newPassword, newPassword); err != nil {
			t.Fatal(err)
		}
		if reqs, _ := e.s.ResetRequests(e.ctx); len(reqs) != 0 {
			t.Errorf("after the reset the admins still see %+v", reqs)
		}
	})

	t.Run("an unknown email, and a member who has left, get the same empty notice and nothing is recorded", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		for _, email := range []string{"nobody@example.org", left.EmailAddress()} {
			notice, err := e.s.RequestReset(e.ctx, email, "192.0.2.1", true)
			if err != nil || notice != (governance.ResetNotice{}) {
				t.Errorf("%s: notice %+v, err %v; want none and no error", email, notice, err)
			}
		}
		if reqs, _ := e.s.ResetRequests(e.ctx); len(reqs) != 0 {
			t.Errorf("requests %+v, want none", reqs)
		}
		if n := e.count(t, `SELECT count(*) FROM password_resets WHERE member_id = ?`, left.ID); n != 0 {
			t.Errorf("a link was made for a member who has left")
		}
	})

	t.Run("a malformed email is a validation error", func(t *testing.T) {
		for _, email := range []string{"", "not-an-email", strings.Repeat("a", 300) + "@example.org", "\xff@example.org", "a@b.org\r\nBcc: x@y.org"} {
			_, err := e.s.RequestReset(e.ctx, email, "192.0.2.1", true)
			if _, ok := isValidation(err, "email"); !ok {
				t.Errorf("%.30q: err = %v, want a ValidationError for email", email, err)
			}
		}
	})

	t.Run("requests are limited per email, known or not, and the limit says when it lifts", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		for _, email := range []string{m.EmailAddress(), "nobody@example.org"} {
			start := e.clock.Now()
			for i := range 3 {
				if _, err := e.s.RequestReset(e.ctx, email, fmt.Sprintf("198.51.100.%d", i), false); err != nil {
					t.Fatalf("%s request %d: %v", email, i+1, err)
				}
				e.clock.Advance(time.Minute)
			}
			_, err := e.s.RequestReset(e.ctx, email, "198.51.100.99", false)
			var limited *governance.LimitError
			if !errors.As(err, &limited) || !errors.Is(err, governance.ErrThrottled) {
				t.Fatalf("%s: the fourth request: err = %v, want a LimitError", email, err)
			}
			if want := start.Add(time.Hour); !limited.RetryAt.Equal(want) {
				t.Errorf("%s: retry at %v, want %v", email, limited.RetryAt, want)
			}
			e.clock.Advance(time.Hour)
			if _, err := e.s.RequestReset(e.ctx, email, "198.51.100.99", false); err != nil {
				t.Errorf("%s: after the window: %v", email, err)
			}
		}
	})

	t.Run("requests are limited per address", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		e.s.ResetAddressLimit = governance.Limit{Max: 2, Window: time.Hour}
		for i := range 2 {
			if _, err := e.s.RequestReset(e.ctx, fmt.Sprintf("guess%d@example.org", i), "203.0.113.5", false); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.s.RequestReset(e.ctx, m.EmailAddress(), "203.0.113.5", false); !errors.Is(err, governance.ErrThrottled) {
			t.Errorf("err = %v, want ErrThrottled", err)
		}
		if _, err := e.s.RequestReset(e.ctx, m.EmailAddress(), "203.0.113.6", false); err != nil {
			t.Errorf("from another address: %v", err)
		}
	})

	t.Run("requests sent at once are limited as if one by one", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		e.s.ResetAddressLimit = governance.Limit{Max: 100, Window: time.Hour}
		const requests = 12
		taken, limited := atOnce(t, requests, nil, func(i int) error {
			_, err := e.s.RequestReset(e.ctx, "flood@example.org", fmt.Sprintf("198.18.1.%d", i+1), false)
			return err
		})
		if taken != 3 || limited != requests-3 {
			t.Errorf("%d requests taken and %d limited, want 3 and %d", taken, limited, requests-3)
		}
	})
}

func TestRateLimitsOnJoiningAndInvitations(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	e.s.JoinLimit = governance.Limit{Max: 5, Window: time.Hour}
	e.s.InvitationLimit = governance.Limit{Max: 10, Window: 15 * time.Minute}

	t.Run("five applications an hour from one address; forms sent back for correction do not count", func(t *testing.T) {
		const address = "192.0.2.10"
		start := e.clock.Now()
		for i := range 5 {
			bad := details(10 + i)
			bad.Password = "short"
			if _, err := e.s.ApplyFrom(e.ctx, address, bad); err == nil {
				t.Fatal("a short password was accepted")
			}
			if _, err := e.s.ApplyFrom(e.ctx, address, details(10+i)); err != nil {
				t.Fatalf("application %d: %v", i+1, err)
			}
			e.clock.Advance(time.Minute)
		}
		before := e.snapshot(t)
		_, err := e.s.ApplyFrom(e.ctx, address, details(20))
		var limited *governance.LimitError
		if !errors.As(err, &limited) || !limited.RetryAt.Equal(start.Add(time.Hour)) {
			t.Fatalf("the sixth: err = %v, want a LimitError lifting at %v", err, start.Add(time.Hour))
		}
		if e.snapshot(t) != before {
			t.Error("a refused application changed the database")
		}
		if _, err := e.s.ApplyFrom(e.ctx, "192.0.2.11", details(20)); err != nil {
			t.Errorf("from another address: %v", err)
		}
		e.clock.Advance(time.Hour)
		if _, err := e.s.ApplyFrom(e.ctx, address, details(21)); err != nil {
			t.Errorf("an hour later: %v", err)
		}
	})

	t.Run("ten wrong invitation links from one address lock it, even with a real link", func(t *testing.T) {
		const address = "192.0.2.20"
		_, token, err := e.s.Invite(e.ctx, admin, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, err := e.s.AcceptInvitationFrom(e.ctx, address, fmt.Sprintf("guess-%d", i), details(30)); !errors.Is(err, governance.ErrNotFound) {
				t.Fatalf("guess %d: err = %v, want ErrNotFound", i, err)
			}
		}
		if _, err := e.s.AcceptInvitationFrom(e.ctx, address, token, details(30)); !errors.Is(err, governance.ErrThrottled) {
			t.Fatalf("the real link from that address: err = %v, want ErrThrottled", err)
		}
		e.clock.Advance(15 * time.Minute)
		if _, err := e.s.AcceptInvitationFrom(e.ctx, address, token, details(30)); err != nil {
			t.Errorf("after the window: %v", err)
		}
	})

	t.Run("guesses sent at once get no more than ten links looked at", func(t *testing.T) {
		const address, guesses = "192.0.2.22", 30
		looked, limited := atOnce(t, guesses, governance.ErrNotFound, func(i int) error {
			_, err := e.s.AcceptInvitationFrom(e.ctx, address, fmt.Sprintf("at-once-%d", i), details(31))
			return err
		})
		if looked != 10 || limited != guesses-10 {
			t.Errorf("%d guesses looked at and %d limited, want 10 and %d", looked, limited, guesses-10)
		}
	})

	t.Run("spent links are a late guest, not a guess, and do not count", func(t *testing.T) {
		const address = "192.0.2.25"
		used, token, err := e.s.Invite(e.ctx, admin, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.RevokeInvitation(e.ctx, admin, used.ID); err != nil {
			t.Fatal(err)
		}
		for range 20 {
			if _, err := e.s.AcceptInvitationFrom(e.ctx, address, token, details(32)); !errors.Is(err, governance.ErrNotFound) {
				t.Fatalf("a revoked link: err = %v, want ErrNotFound", err)
			}
		}
		if n := e.count(t, `SELECT count(*) FROM rate_events WHERE key = ?`, address); n != 0 {
			t.Errorf("%d wrong links counted, want none", n)
		}
	})

	t.Run("a person correcting the form on a real link is never locked out", func(t *testing.T) {
		const address = "192.0.2.30"
		_, token, err := e.s.Invite(e.ctx, admin, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		bad := details(31)
		bad.Password = "short"
		for range 20 {
			if _, err := e.s.AcceptInvitationFrom(e.ctx, address, token, bad); errors.Is(err, governance.ErrThrottled) {
				t.Fatal("correcting the form tripped the limit")
			}
		}
		if _, err := e.s.AcceptInvitationFrom(e.ctx, address, token, details(31)); err != nil {
			t.Errorf("the corrected form: %v", err)
		}
	})
}
