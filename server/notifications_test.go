package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"plenary/governance"
	"plenary/internal/outbox"
)

// token is the unsubscribe token an email to m about kind carries.
func (a *app) token(t *testing.T, m user, kind string) string {
	t.Helper()
	key, err := a.Gov.UnsubscribeKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return outbox.NewSigner(key).Token(m.ID, kind)
}

// modes reads m's choices as stored.
func (a *app) modes(t *testing.T, m user) map[string]string {
	t.Helper()
	var rows []struct {
		Kind string `db:"kind"`
		Mode string `db:"mode"`
		Hour int    `db:"digest_hour"`
	}
	if err := a.DB.R.Select(&rows, `SELECT kind, mode, digest_hour FROM notification_prefs WHERE member_id = ?`, m.ID); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Kind] = r.Mode
		out["hour"] = strconv.Itoa(r.Hour)
	}
	return out
}

func TestAccountEmailChoices(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
	c := a.client()
	c.login(t, mem)

	page := c.get(t, "/account")
	page.wantText(t, "Email notifications")
	for _, w := range []string{`name="voting_opened" value="at_once" checked`, `name="closing_soon"`, `name="result"`, `name="digest_hour"`,
		`<option value="8" selected>08:00</option>`} {
		if !strings.Contains(page.Body, w) {
			t.Errorf("the account page lacks %s", w)
		}
	}
	if strings.Contains(page.Body, `name="application"`) {
		t.Error("a member who is no admin is offered the admins' notices")
	}
	admin := a.client()
	admin.login(t, ad)
	if !strings.Contains(admin.get(t, "/account").Body, `name="application"`) {
		t.Error("the admin is not offered the notices of applications")
	}

	valid := form("voting_opened", "digest", "closing_soon", "never", "result", "at_once", "digest_hour", "18")
	r := c.submit(t, "/account", "/account/notifications", valid)
	r.wantRedirect(t, "/account")
	c.get(t, "/account").wantText(t, "Your email choices are saved.")
	got := a.modes(t, mem)
	if got["voting_opened"] != "digest" || got["closing_soon"] != "never" || got["result"] != "at_once" || got["hour"] != "18" {
		t.Errorf("stored %v", got)
	}
	page = c.get(t, "/account")
	if !strings.Contains(page.Body, `name="closing_soon" value="never" checked`) || !strings.Contains(page.Body, `<option value="18" selected>`) {
		t.Error("the page does not show the choices made")
	}

	for _, bad := range []struct {
		name, field, value, message string
	}{
		{"an empty choice", "voting_opened", "", "Choose at once, in the daily digest, or never."},
		{"a mode that is none", "result", "sometimes", "Choose at once, in the daily digest, or never."},
		{"markup for a mode", "closing_soon", `<script>alert(1)</script>`, "Choose at once, in the daily digest, or never."},
		{"an hour past 23", "digest_hour", "24", "Choose an hour from 0 to 23."},
		{"a negative hour", "digest_hour", "-1", "Choose an hour from 0 to 23."},
		{"an hour that is no number", "digest_hour", "eight", "Choose an hour from 0 to 23."},
		{"an enormous hour", "digest_hour", strings.Repeat("9", 5000), "Choose an hour from 0 to 23."},
		{"SQL for an hour", "digest_hour", "8; DELETE FROM notification_prefs", "Choose an hour from 0 to 23."},
		{"invalid UTF-8", "voting_opened", "\xff\xfe", "Choose at once, in the daily digest, or never."},
	} {
		t.Run(bad.name, func(t *testing.T) {
			before := a.snapshot(t)
			f := clone(valid)
			f.Set(bad.field, bad.value)
			r := c.submit(t, "/account", "/account/notifications", f)
			r.wantStatus(t, http.StatusUnprocessableEntity)
			if !strings.Contains(r.Body, `id="f-`+bad.field+`-error">`+htmlEscape(bad.message)) {
				t.Errorf("no message %q beside %s:\n%s", bad.message, bad.field, excerpt(r.Body))
			}
			a.wantUnchanged(t, before)
		})
	}
}

func htmlEscape(s string) string { return strings.NewReplacer("'", "&#39;", `"`, "&#34;").Replace(s) }

func TestOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
	al := a.addMember(t, ad, "Al Other", "al@example.org")
	token := a.token(t, mo, outbox.VotingOpened)
	anon := a.client()

	t.Run("the link asks to confirm, logged out, and changes nothing yet", func(t *testing.T) {
		before := a.snapshot(t)
		r := anon.get(t, "/unsubscribe/"+token)
		r.wantStatus(t, http.StatusOK)
		r.wantText(t, "Stop these emails?")
		r.wantText(t, "voting has opened on a proposal")
		if !strings.Contains(r.Body, `<form method="post" action="/unsubscribe/`+token+`">`) {
			t.Errorf("no one-click form:\n%s", excerpt(r.Body))
		}
		a.wantUnchanged(t, before)
	})

	t.Run("a mail client's POST from elsewhere, with no session, stops that kind for that member only", func(t *testing.T) {
		r := anon.request(t, http.MethodPost, "/unsubscribe/"+token, "List-Unsubscribe=One-Click", http.Header{
			"Origin": {"https://mail.example.net"}, "Sec-Fetch-Site": {"cross-site"}})
		r.wantStatus(t, http.StatusOK)
		r.wantText(t, "Emails stopped")
		if got := a.modes(t, mo); got["voting_opened"] != "never" || got["result"] != "" {
			t.Errorf("Mo's choices %v, want voting_opened never and nothing else", got)
		}
		if got := a.modes(t, al); len(got) != 0 {
			t.Errorf("Al's choices changed: %v", got)
		}
		// Again: still done, nothing more changes.
		before := a.snapshot(t)
		anon.request(t, http.MethodPost, "/unsubscribe/"+token, "", nil).wantStatus(t, http.StatusOK)
		a.wantUnchanged(t, before)
	})

	t.Run("another member's token affects that member alone", func(t *testing.T) {
		r := anon.request(t, http.MethodPost, "/unsubscribe/"+a.token(t, al, outbox.Result), "", nil)
		r.wantStatus(t, http.StatusOK)
		if got := a.modes(t, al); got["result"] != "never" {
			t.Errorf("Al's choices %v", got)
		}
		if got := a.modes(t, mo); got["result"] != "" {
			t.Errorf("Mo's result choice changed by Al's link: %v", got)
		}
	})

	t.Run("a digest's link stops everything the member gets in the digest", func(t *testing.T) {
		c := a.client()
		c.login(t, al)
		c.submit(t, "/account", "/account/notifications", form("voting_opened", "digest", "closing_soon", "digest", "result", "never",
			"digest_hour", "7")).wantRedirect(t, "/account")
		anon.request(t, http.MethodPost, "/unsubscribe/"+a.token(t, al, outbox.Digest), "", nil).wantStatus(t, http.StatusOK)
		if got := a.modes(t, al); got["voting_opened"] != "never" || got["closing_soon"] != "never" || got["hour"] != "7" {
			t.Errorf("Al's choices %v, want every digest kind never, the hour kept", got)
		}
	})

	mac := token[strings.LastIndex(token, ".")+1:]
	other := a.token(t, al, outbox.VotingOpened)
	for _, bad := range []struct{ name, token string }{
		{"made up", "7.voting_opened.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"cut short", token[:len(token)-1]},
		{"cut in half", token[:len(token)/2]},
		{"its member changed", strconv.FormatInt(al.ID, 10) + ".voting_opened." + mac},
		{"its kind changed", strconv.FormatInt(mo.ID, 10) + ".result." + mac},
		{"another's signature", strconv.FormatInt(mo.ID, 10) + ".voting_opened." + other[strings.LastIndex(other, ".")+1:]},
		{"a leading zero", "0" + token},
		{"a plus sign", "+" + token},
		{"an account kind", strconv.FormatInt(mo.ID, 10) + ".password_reset." + mac},
		{"padding added", token + "="},
		{"a dot more", token + "."},
		{"no dots", strings.ReplaceAll(token, ".", "")},
		{"markup", "<script>alert(1)</script>"},
		{"SQL", "1' OR '1'='1"},
		{"very long", strings.Repeat("A", 5000)},
		{"invalid UTF-8", "%FF%FE"},
		{"a member that does not exist", "999999.voting_opened." + mac},
	} {
		t.Run("a forged or broken link is refused: "+bad.name, func(t *testing.T) {
			before := a.snapshot(t)
			path := "/unsubscribe/" + url.PathEscape(bad.token)
			if bad.name == "invalid UTF-8" {
				path = "/unsubscribe/" + bad.token
			}
			anon.get(t, path).wantStatus(t, http.StatusNotFound)
			r := anon.request(t, http.MethodPost, path, "List-Unsubscribe=One-Click", http.Header{"Origin": {"https://mail.example.net"}})
			r.wantStatus(t, http.StatusNotFound)
			a.wantUnchanged(t, before)
		})
	}

	t.Run("only that route skips the checks: the account form from elsewhere is refused", func(t *testing.T) {
		c := a.client()
		c.login(t, mo)
		tok := c.csrf(t, "/account")
		before := a.snapshot(t)
		r := c.request(t, http.MethodPost, "/account/notifications", form("csrf_token", tok, "voting_opened", "at_once", "closing_soon", "at_once",
			"result", "at_once", "digest_hour", "8").Encode(), http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
		r.wantStatus(t, http.StatusForbidden)
		r = c.post(t, "/account/notifications", form("voting_opened", "at_once", "closing_soon", "at_once", "result", "at_once", "digest_hour", "8"))
		r.wantStatus(t, http.StatusForbidden)
		a.wantUnchanged(t, before)
	})
}

// A member's queued messages follow a change of mind: held for a digest
// they now want at once, they are sent now.
func TestChoicesMoveHeldMessages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
	c := a.client()
	c.login(t, mo)
	c.submit(t, "/account", "/account/notifications", form("voting_opened", "digest", "closing_soon", "at_once", "result", "at_once",
		"digest_hour", "8")).wantRedirect(t, "/account")
	if _, err := a.Gov.Propose(context.Background(), ad.Member, governance.ProposalInput{Kind: governance.KindMotion, Title: "A motion",
		Opens: "now", Days: "7"}); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		var s string
		if err := a.DB.R.Get(&s, `SELECT status FROM notifications WHERE member_id = ? AND kind = 'voting_opened'`, mo.ID); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := status(); s != "digest" {
		t.Fatalf("held: %s", s)
	}
	c.submit(t, "/account", "/account/notifications", form("voting_opened", "at_once", "closing_soon", "at_once", "result", "at_once",
		"digest_hour", "8")).wantRedirect(t, "/account")
	if s := status(); s != "queued" {
		t.Errorf("after choosing at once: %s, want queued", s)
	}
}
