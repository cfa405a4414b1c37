package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/governance"
	"plenary/internal/mail"
	"plenary/internal/mailpit"
	"plenary/internal/notify"
	"plenary/internal/outbox"
	"plenary/server"
)

// refusing is an SMTP server as the sender sees it: it refuses for good
// every message to an address in refuse, with the reply given there, puts
// off the messages in later (by kind and address: "password_reset
// mo@example.org"), and takes the rest.
type refusing struct {
	refuse map[string]string
	later  map[string]bool
}

func (r refusing) Send(_ context.Context, ms ...mail.Message) []error {
	errs := make([]error, len(ms))
	for i, m := range ms {
		kind, _, _ := strings.Cut(strings.TrimPrefix(m.MessageID, "<"), ".")
		switch {
		case r.refuse[m.To] != "":
			errs[i] = &mail.Error{Permanent: true, Code: 550, Err: errors.New(r.refuse[m.To])}
		case r.later[kind+" "+m.To]:
			errs[i] = &mail.Error{Code: 451, Err: errors.New("451 4.3.0 try again later")}
		}
	}
	return errs
}

// send works a's outbox once through mailer, as the sender started by
// serve does on each round.
func (a *app) send(t *testing.T, mailer mail.Mailer) {
	t.Helper()
	key, err := a.Gov.UnsubscribeKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := notify.New(notify.Config{Name: "Test Co-op", BaseURL: a.URL, Now: a.Clock.Now, Mailer: mailer},
		slog.New(slog.NewTextHandler(io.Discard, nil)), a.DB, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Work(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// mailRow is one notification as stored.
type mailRow struct {
	ID        int64  `db:"id"`
	Kind      string `db:"kind"`
	Status    string `db:"status"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
	Next      string `db:"next_attempt_at"`
}

func (a *app) mail(t *testing.T, where string, args ...any) mailRow {
	t.Helper()
	var r mailRow
	if err := a.DB.R.Get(&r, `SELECT id, kind, status, attempts, last_error, CAST(next_attempt_at AS TEXT) AS next_attempt_at
		FROM notifications WHERE `+where, args...); err != nil {
		t.Fatalf("notification where %s %v: %v", where, args, err)
	}
	return r
}

// hostileName is a member's name, and hostileReply an SMTP server's
// reply, that a page which did not escape them would run.
const (
	hostileName  = `<script>alert("name")</script>`
	hostileReply = `550 5.1.1 <b onmouseover="alert(1)">no such mailbox</b> <script>alert("reply")</script>`
)

// outboxFixture is a co-op whose outbox holds a message of each outcome:
// sent, failed for good, put off after a temporary failure, held for a
// digest, and queued.
type outboxFixture struct {
	a      *app
	admin  user
	mo     user // gets a digest of voting emails; their reset link is put off
	script user // named hostileName; every message to them is refused
	invID  int64
	// Messages by what became of them.
	failedDecision, failedInvitation, sentDecision, putOff, held, fresh mailRow
}

func newOutboxFixture(t *testing.T, mailConfigured bool) *outboxFixture {
	t.Helper()
	a := newAppWith(t, func(c *server.Config) { c.Mail = mailConfigured })
	ctx := context.Background()
	f := &outboxFixture{a: a}
	f.admin = a.addAdmin(t, "Ada Admin", "ada@example.org")
	f.mo = a.addMember(t, f.admin, "Mo Member", "mo@example.org")
	f.script = a.addMember(t, f.admin, hostileName, "script@example.org")
	inv, token, err := a.Gov.InvitePerson(ctx, f.admin.Member, governance.InvitationInput{Name: "Bea Invited", Email: "bea@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	f.invID = inv.ID
	var queued int
	if err := a.DB.R.Get(&queued, `SELECT count(*) FROM notifications WHERE kind = ? AND event = ?`, outbox.Invitation, fmt.Sprint(inv.ID)); err != nil {
		t.Fatal(err)
	}
	if queued == 0 { // before invitations queued their own email
		if err := a.DB.WithTx(ctx, func(tx *sqlx.Tx) error {
			return a.Gov.QueueInvitation(ctx, tx, inv.ID, "bea@example.org", "Bea Invited", token, inv.ExpiresAt)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Gov.RequestReset(ctx, f.mo.Email, "192.0.2.1", true); err != nil {
		t.Fatal(err)
	}
	if err := a.Gov.SetPreferences(ctx, f.mo.ID, governance.PreferencesInput{VotingOpened: outbox.InDigest, ClosingSoon: outbox.AtOnce,
		Result: outbox.AtOnce, Application: outbox.AtOnce, DigestHour: "8"}); err != nil {
		t.Fatal(err)
	}
	a.putProposal(t, f.admin, motion("Adopt the budget", 7, time.Time{}))

	a.send(t, refusing{refuse: map[string]string{"script@example.org": hostileReply, "bea@example.org": "550 5.1.1 no such user"},
		later: map[string]bool{outbox.PasswordReset + " mo@example.org": true}})
	f.failedDecision = a.mail(t, `kind = ? AND member_id = ?`, outbox.Decision, f.script.ID)
	f.failedInvitation = a.mail(t, `kind = ?`, outbox.Invitation)
	f.sentDecision = a.mail(t, `kind = ? AND member_id = ?`, outbox.Decision, f.mo.ID)
	f.putOff = a.mail(t, `kind = ? AND member_id = ?`, outbox.PasswordReset, f.mo.ID)
	f.held = a.mail(t, `kind = ? AND member_id = ?`, outbox.VotingOpened, f.mo.ID)
	// An application after the round: queued, not yet tried.
	a.addApplicant(t, "Newt Applicant", "newt@example.org")
	f.fresh = a.mail(t, `kind = ? AND status = 'queued' AND attempts = 0`, outbox.Application)
	for _, c := range []struct {
		name string
		row  mailRow
		want string
	}{
		{"the hostile member's decision", f.failedDecision, governance.MailFailed},
		{"the invitation", f.failedInvitation, governance.MailFailed},
		{"Mo's decision", f.sentDecision, governance.MailSent},
		{"Mo's reset link", f.putOff, governance.MailQueued},
		{"Mo's voting email", f.held, governance.MailDigest},
	} {
		if c.row.Status != c.want {
			t.Fatalf("%s is %s after the round, want %s: the fixture is not what the tests expect", c.name, c.row.Status, c.want)
		}
	}
	return f
}

func TestMailPage(t *testing.T) {
	t.Parallel()
	f := newOutboxFixture(t, true)
	a := f.a
	admin := a.as(t, f.admin)

	t.Run("the page counts each status and lists every message newest first", func(t *testing.T) {
		var counts []struct {
			Status string `db:"status"`
			N      int    `db:"n"`
		}
		if err := a.DB.R.Select(&counts, `SELECT status, count(*) AS n FROM notifications GROUP BY status`); err != nil {
			t.Fatal(err)
		}
		r := admin.get(t, "/admin/mail")
		r.wantStatus(t, http.StatusOK)
		names := map[string]string{"queued": "Queued", "digest": "Waiting for a digest", "sent": "Sent", "failed": "Failed", "dropped": "Dropped"}
		got := map[string]int{}
		for _, c := range counts {
			got[c.Status] = c.N
		}
		if got["failed"] < 3 || got["sent"] < 3 || got["queued"] < 2 || got["digest"] != 1 {
			t.Fatalf("the fixture's outbox is %v", got)
		}
		for st, name := range names {
			link := fmt.Sprintf(`<a href="/admin/mail?status=%s">%s</a>: <strong>%d</strong>`, st, name, got[st])
			if !strings.Contains(r.Body, link) {
				t.Errorf("the page does not count %d %s messages as %s", got[st], st, link)
			}
		}
		for _, text := range []string{"Decision on an application", "Invitation", "Password-reset link", "Voting opened", "Waiting for a digest",
			"bea@example.org", "451 4.3.0 try again later", "550 5.1.1 no such user", "next try", "Mo Member"} {
			r.wantText(t, text)
		}
		if !strings.Contains(r.Body, fmt.Sprintf(`<a href="/admin/members/%d">Mo Member</a>, member %d`, f.mo.ID, f.mo.ID)) {
			t.Error("a member's message does not link to the member by name and number")
		}
		// Newest first: the application queued last comes before the
		// decisions of the first round.
		if i, j := strings.Index(r.Body, fmt.Sprintf("<td>%d</td>", f.fresh.ID)), strings.Index(r.Body, fmt.Sprintf("<td>%d</td>", f.sentDecision.ID)); i < 0 || j < 0 || i > j {
			t.Errorf("message %d (newer) is at %d, message %d (older) at %d: want newest first", f.fresh.ID, i, f.sentDecision.ID, j)
		}
		// Times are in the viewer's zone, named, like every page's.
		r.wantText(t, "2 Mar 2026 10:00 UTC")
		if strings.Contains(r.Body, "No SMTP server is configured") {
			t.Error("the page says no SMTP server is configured, though one is")
		}
	})

	t.Run("times follow the viewer's zone", func(t *testing.T) {
		if err := a.Gov.SetTimeZone(context.Background(), f.admin.ID, "Europe/Paris"); err != nil {
			t.Fatal(err)
		}
		defer a.Gov.SetTimeZone(context.Background(), f.admin.ID, "")
		admin.get(t, "/admin/mail").wantText(t, "2 Mar 2026 11:00 CET")
	})

	t.Run("only failed messages on their own offer a resend", func(t *testing.T) {
		r := admin.get(t, "/admin/mail")
		for _, m := range []mailRow{f.failedDecision, f.failedInvitation} {
			if !strings.Contains(r.Body, fmt.Sprintf(`action="/admin/mail/%d/resend"`, m.ID)) {
				t.Errorf("failed message %d has no resend button", m.ID)
			}
		}
		for _, m := range []mailRow{f.sentDecision, f.putOff, f.held, f.fresh} {
			if strings.Contains(r.Body, fmt.Sprintf(`action="/admin/mail/%d/resend"`, m.ID)) {
				t.Errorf("message %d (%s) offers a resend", m.ID, m.Status)
			}
		}
	})

	t.Run("what members and mail servers wrote is shown escaped", func(t *testing.T) {
		r := admin.get(t, "/admin/mail?status=failed")
		r.wantText(t, hostileName)
		r.wantText(t, hostileReply)
		for _, raw := range []string{`<script>alert("name")`, `<script>alert("reply")`, `<b onmouseover`} {
			if strings.Contains(r.Body, raw) {
				t.Errorf("the page carries %s unescaped", raw)
			}
		}
	})

	t.Run("the list filters by status and by kind", func(t *testing.T) {
		r := admin.get(t, "/admin/mail?status=failed")
		if !strings.Contains(r.Body, `<option value="failed" selected>Failed</option>`) {
			t.Error("the status filter does not show the status chosen")
		}
		for _, m := range []mailRow{f.failedDecision, f.failedInvitation} {
			r.wantText(t, fmt.Sprintf("Resend message %d", m.ID))
		}
		for _, m := range []mailRow{f.sentDecision, f.putOff, f.held, f.fresh} {
			if strings.Contains(r.Body, fmt.Sprintf("<td>%d</td>", m.ID)) {
				t.Errorf("the failed messages list message %d, which is %s", m.ID, m.Status)
			}
		}
		r = admin.get(t, "/admin/mail?kind=invitation")
		if !strings.Contains(r.Body, fmt.Sprintf("<td>%d</td>", f.failedInvitation.ID)) || strings.Contains(r.Body, fmt.Sprintf("<td>%d</td>", f.failedDecision.ID)) {
			t.Error("the invitations list is not just the invitation")
		}
		r.wantText(t, "1 message matches")
		r = admin.get(t, "/admin/mail?status=failed&kind=password_reset")
		r.wantText(t, "No messages match.")
		// Values that are none of ours are no filter at all.
		all := admin.get(t, "/admin/mail")
		for _, q := range []string{"status=bogus", "kind=%3Cscript%3E", "status=%27%3B+DROP+TABLE+notifications%3B+--", "kind=digest%00", "page=-1"} {
			r := admin.get(t, "/admin/mail?"+q)
			if r.wantStatus(t, http.StatusOK) && r.Body != all.Body {
				t.Errorf("/admin/mail?%s differs from the unfiltered list", q)
			}
		}
	})

	t.Run("a failed message is queued again, and then sent", func(t *testing.T) {
		for _, m := range []mailRow{f.failedDecision, f.failedInvitation} {
			r := admin.submit(t, "/admin/mail?status=failed", fmt.Sprintf("/admin/mail/%d/resend", m.ID), form("status", "failed"))
			r.wantRedirect(t, "/admin/mail?status=failed")
			admin.get(t, r.Location()).wantText(t, fmt.Sprintf("Message %d is queued to be sent again.", m.ID))
			got := a.mail(t, `id = ?`, m.ID)
			if got.Status != governance.MailQueued || got.Attempts != 0 || got.LastError != "" {
				t.Errorf("after the resend message %d is %+v, want queued, no attempts, no error", m.ID, got)
			}
			var due bool
			if err := a.DB.R.Get(&due, `SELECT next_attempt_at <= ? FROM notifications WHERE id = ?`, a.Clock.Now(), m.ID); err != nil || !due {
				t.Errorf("message %d is not due at once (%v)", m.ID, err)
			}
		}
		// This time the server takes them: they reach the mailbox.
		mp := mailpit.Start(t, mailpit.Options{})
		a.send(t, mail.SMTP{Addr: mp.SMTPAddr, From: "plenary@example.coop", Name: "Test Co-op"})
		for _, to := range []string{"script@example.org", "bea@example.org"} {
			if got := mp.To(to); len(got) != 1 {
				t.Errorf("%s got %d messages after the resend, want 1", to, len(got))
			}
		}
		for _, m := range []mailRow{f.failedDecision, f.failedInvitation} {
			if got := a.mail(t, `id = ?`, m.ID); got.Status != governance.MailSent || got.Attempts != 1 {
				t.Errorf("message %d is %+v after the round, want sent at the first attempt", m.ID, got)
			}
		}
	})

	t.Run("anything but a failed message is refused, and nothing changes", func(t *testing.T) {
		// By now the two failed ones have been sent, and the application
		// that was queued with them: another is queued now.
		a.addApplicant(t, "Quinn Applicant", "quinn@example.org")
		queued := a.mail(t, `kind = ? AND status = 'queued' AND attempts = 0`, outbox.Application)
		for _, c := range []struct {
			name   string
			id     string
			status int
			msg    string
		}{
			{"a sent message", fmt.Sprint(f.sentDecision.ID), 422, fmt.Sprintf("Only a message that failed can be sent again: message %d has been sent.", f.sentDecision.ID)},
			{"a message sent after its resend", fmt.Sprint(f.failedDecision.ID), 422, fmt.Sprintf("Only a message that failed can be sent again: message %d has been sent.", f.failedDecision.ID)},
			{"a queued message", fmt.Sprint(queued.ID), 422, fmt.Sprintf("Only a message that failed can be sent again: message %d is already queued to be sent.", queued.ID)},
			{"a message put off after a temporary failure", fmt.Sprint(f.putOff.ID), 422, fmt.Sprintf("Only a message that failed can be sent again: message %d is already queued to be sent.", f.putOff.ID)},
			{"a message held for a digest", fmt.Sprint(f.held.ID), 422, fmt.Sprintf("Only a message that failed can be sent again: message %d is waiting for the member's daily digest.", f.held.ID)},
			{"a message that does not exist", "999999", 404, "There is nothing here."},
			{"a word for an id", "abc", 404, "There is nothing here."},
			{"a negative id", "-1", 404, "There is nothing here."},
			{"zero", "0", 404, "There is nothing here."},
			{"SQL for an id", "1%3BDROP%20TABLE%20notifications", 404, "There is nothing here."},
			{"an id past int64", "99999999999999999999", 404, "There is nothing here."},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := a.snapshot(t)
				r := admin.submit(t, "/admin/mail", "/admin/mail/"+c.id+"/resend", form())
				r.wantStatus(t, c.status)
				if c.status == 422 {
					r.wantFieldError(t, "", c.msg)
					r.wantText(t, "In the queue") // the page itself, to try again from
				} else {
					r.wantText(t, c.msg)
				}
				a.wantUnchanged(t, before)
			})
		}
	})

	t.Run("a resend without the form's token is refused", func(t *testing.T) {
		if _, err := a.DB.W.Exec(`UPDATE notifications SET status = 'failed', sent_at = NULL, last_error = 'again' WHERE id = ?`, f.failedDecision.ID); err != nil {
			t.Fatal(err)
		}
		before := a.snapshot(t)
		r := admin.post(t, fmt.Sprintf("/admin/mail/%d/resend", f.failedDecision.ID), form())
		r.wantStatus(t, http.StatusForbidden)
		a.wantUnchanged(t, before)
	})
}

func TestMailResendChecksTheMessageCanStillBeUseful(t *testing.T) {
	t.Parallel()
	f := newOutboxFixture(t, true)
	a := f.a
	ctx := context.Background()
	admin := a.as(t, f.admin)
	fail := func(t *testing.T, id int64) {
		t.Helper()
		if _, err := a.DB.W.Exec(`UPDATE notifications SET status = 'failed', last_error = '550 refused' WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(t *testing.T, id int64, msg string) {
		t.Helper()
		before := a.snapshot(t)
		r := admin.submit(t, "/admin/mail", fmt.Sprintf("/admin/mail/%d/resend", id), form())
		if r.wantStatus(t, http.StatusUnprocessableEntity) {
			r.wantFieldError(t, "", msg)
		}
		a.wantUnchanged(t, before)
	}

	t.Run("an invitation revoked since", func(t *testing.T) {
		if err := a.Gov.RevokeInvitation(ctx, f.admin.Member, f.invID); err != nil {
			t.Fatal(err)
		}
		refused(t, f.failedInvitation.ID, fmt.Sprintf("Message %d cannot be sent again: its invitation has been revoked or replaced. Issue a new one.", f.failedInvitation.ID))
	})

	t.Run("a password-reset link that has expired", func(t *testing.T) {
		fail(t, f.putOff.ID)
		a.Clock.Advance(a.Gov.ResetTTL + time.Minute)
		refused(t, f.putOff.ID, fmt.Sprintf("Message %d cannot be sent again: its password-reset link has expired. Issue a new one.", f.putOff.ID))
	})

	t.Run("a message to a member erased since", func(t *testing.T) {
		if err := a.Gov.Erase(ctx, f.admin.Member, f.script.ID, true); err != nil {
			t.Fatal(err)
		}
		refused(t, f.failedDecision.ID, fmt.Sprintf("Message %d cannot be sent again: its member's data has been erased, so there is no address to send it to.", f.failedDecision.ID))
		r := admin.get(t, "/admin/mail")
		r.wantText(t, fmt.Sprintf("Member %d (erased)", f.script.ID))
		if strings.Contains(r.Body, escaped(hostileName)) {
			t.Error("the erased member's name is still on the page")
		}
	})

	t.Run("a digest goes again with its messages; a message inside one does not go alone", func(t *testing.T) {
		// Mo's voting email goes in the digest at their hour; the
		// server refuses it.
		a.Clock.Set(time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC))
		a.send(t, refusing{refuse: map[string]string{"mo@example.org": "550 5.2.2 mailbox full"}})
		digest := a.mail(t, `kind = ? AND member_id = ?`, outbox.Digest, f.mo.ID)
		if digest.Status != governance.MailFailed || a.mail(t, `id = ?`, f.held.ID).Status != governance.MailFailed {
			t.Fatalf("the digest is %s and its message %s, want both failed", digest.Status, a.mail(t, `id = ?`, f.held.ID).Status)
		}
		refused(t, f.held.ID, fmt.Sprintf("Message %d went in daily digest %d: send the digest again instead.", f.held.ID, digest.ID))
		if !strings.Contains(admin.get(t, "/admin/mail").Body, fmt.Sprintf("in digest %d", digest.ID)) {
			t.Error("the page does not say which digest the message went in")
		}
		r := admin.submit(t, "/admin/mail", fmt.Sprintf("/admin/mail/%d/resend", digest.ID), form())
		r.wantRedirect(t, "/admin/mail")
		if got := a.mail(t, `id = ?`, f.held.ID); got.Status != governance.MailDigest {
			t.Errorf("the digest's message is %s after the digest was resent, want digest (waiting for it)", got.Status)
		}
		a.send(t, refusing{})
		for _, id := range []int64{digest.ID, f.held.ID} {
			if got := a.mail(t, `id = ?`, id); got.Status != governance.MailSent {
				t.Errorf("message %d is %s after the digest went, want sent", id, got.Status)
			}
		}
	})
}

func TestMailPageSaysWhenNoSMTPServerIsConfigured(t *testing.T) {
	t.Parallel()
	const notice = "No SMTP server is configured: messages wait in the queue and go once one is set (see the README, Email and notifications)."
	for _, configured := range []bool{false, true} {
		t.Run(fmt.Sprintf("configured: %v", configured), func(t *testing.T) {
			t.Parallel()
			a := newAppWith(t, func(c *server.Config) { c.Mail = configured })
			ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
			r := a.as(t, ad).get(t, "/admin/mail")
			r.wantStatus(t, http.StatusOK)
			if shown := strings.Contains(r.Body, escaped(notice)); shown == configured {
				t.Errorf("with mail configured %v, the notice shown: %v", configured, shown)
			}
			r.wantText(t, "No messages.")
		})
	}
}

func TestMailPagePages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	// 120 messages: three pages of 50, 50 and 20, each a result of its
	// own ballot (the event), every other one failed.
	now := a.Clock.Now()
	for i := 1; i <= 120; i++ {
		status, last := "queued", ""
		if i%2 == 0 {
			status, last = "failed", fmt.Sprintf("550 refused number %d", i)
		}
		if _, err := a.DB.W.Exec(`INSERT INTO notifications (kind, event, member_id, payload, status, last_error, next_attempt_at, message_id, created_at)
			VALUES ('result', ?, ?, ?, ?, ?, ?, ?, ?)`, fmt.Sprint(i), ad.ID, fmt.Sprintf(`{"proposal": %d, "title": "Motion %d"}`, i, i), status, last, now, outbox.MessageID("result", fmt.Sprint(i), ad.ID, "test"), now); err != nil {
			t.Fatal(err)
		}
	}
	c := a.as(t, ad)
	ids := func(r *response) []string {
		var out []string
		for _, part := range strings.Split(r.Body, `<a href="/proposals/`)[1:] {
			out = append(out, part[:strings.Index(part, `"`)])
		}
		return out
	}
	r := c.get(t, "/admin/mail")
	got := ids(r)
	if len(got) != 50 || got[0] != "120" || got[49] != "71" {
		t.Errorf("page 1 lists %d messages, %v…: want 50, from 120 down to 71", len(got), got[:min(3, len(got))])
	}
	r.wantText(t, "Page 1 of 3")
	if !strings.Contains(r.Body, `<a href="/admin/mail?page=2" rel="next">`) {
		t.Error("page 1 has no link to page 2")
	}
	r = c.get(t, "/admin/mail?page=3")
	if got := ids(r); len(got) != 20 || got[0] != "20" || got[19] != "1" {
		t.Errorf("page 3 lists %v, want 20 down to 1", got)
	}
	// A filtered list pages within its filter, and its links keep it.
	r = c.get(t, "/admin/mail?status=failed&kind=result")
	r.wantText(t, "60 messages match")
	r.wantText(t, "550 refused number 120")
	if !strings.Contains(r.Body, `<a href="/admin/mail?kind=result&amp;page=2&amp;status=failed" rel="next">`) {
		t.Errorf("the failed list's next link does not keep the filter:\n%s", excerpt(r.Body))
	}
	// A resend from page 2 of a filtered list comes back to it.
	r = c.get(t, "/admin/mail?status=queued&page=2")
	r.wantText(t, "Page 2 of 2")
	r = c.submit(t, "/admin/mail?status=failed", "/admin/mail/4/resend", form("status", "failed", "kind", "result", "page", "1"))
	r.wantRedirect(t, "/admin/mail?kind=result&status=failed")
}
