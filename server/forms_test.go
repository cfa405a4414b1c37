package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"plenary/governance"
	"plenary/server"
)

// Bad input, the kinds every text field is tried with.
const (
	scriptTag = `<script>alert(1)</script>`
	imgTag    = `"><img src=x onerror=alert(1)>`
	sqlDrop   = `'; DROP TABLE members; --`
	sqlOr     = `1 OR 1=1`
	badUTF8   = "\xff\xfe"
)

// long is over every field's limit, yet leaves the body under MaxBodyBytes.
var long = strings.Repeat("x", 60_000)

// forgedIDs are member or invitation numbers nobody should reach.
var forgedIDs = []string{"999999", "abc", "-1", "0", "1%20OR%201=1", "1e3"}

// formCase is one bad submission of a form.
type formCase struct {
	name   string            // what is wrong, as a sentence
	values url.Values        // the whole form apart from csrf_token
	path   string            // where it is posted, when not the form's own action
	status int               // what comes back
	errors map[string]string // element id → the message shown next to it; "" for the form as a whole
	echo   string            // markup typed in, which must come back escaped and never raw
}

// formSpec is a form and the bad input to try on it.
type formSpec struct {
	action string     // where the form posts
	page   string     // the page that holds the form
	client *client    // who fills it in
	valid  url.Values // a submission that would be accepted
	big    string     // the field stuffed past MaxBodyBytes
	except []string   // tables the submission may change; none if nil
	cases  []formCase
	check  func(t *testing.T) // what else must hold after every case
}

// with returns valid with some fields replaced.
func with(valid url.Values, pairs ...string) url.Values {
	v := clone(valid)
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}

func errs(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// run posts every case and checks the answer, the page and the database.
func (spec formSpec) run(t *testing.T, a *app) {
	t.Helper()
	t.Run(spec.action, func(t *testing.T) {
		token := spec.client.csrf(t, spec.page)
		cases := append(spec.cases, formCase{
			name:   "a body over 64 KiB is refused before it is read",
			status: http.StatusRequestEntityTooLarge,
		})
		for _, fc := range cases {
			t.Run(fc.name, func(t *testing.T) {
				before := a.snapshot(t, spec.except...)
				path := spec.action
				if fc.path != "" {
					path = fc.path
				}
				var res *response
				if fc.status == http.StatusRequestEntityTooLarge {
					body := "csrf_token=" + url.QueryEscape(token) + "&" + spec.big + "=" + strings.Repeat("a", server.MaxBodyBytes)
					res = spec.client.request(t, http.MethodPost, path, body, nil)
					res.wantStatus(t, fc.status)
					res.wantText(t, "What you sent is larger than Plenary accepts.")
				} else {
					values := clone(fc.values)
					values.Set("csrf_token", token)
					res = spec.client.post(t, path, values)
					res.wantStatus(t, fc.status)
				}
				for id, msg := range fc.errors {
					res.wantFieldError(t, id, msg)
				}
				if fc.echo != "" && !strings.Contains(res.Body, escaped(fc.echo)) {
					t.Errorf("%s: what was typed, %q, is not echoed back (escaped) for correction", res, fc.echo)
				}
				for _, raw := range []string{scriptTag, `<img src=x`} {
					if strings.Contains(res.Body, raw) {
						t.Errorf("%s: the page contains raw markup %q", res, raw)
					}
				}
				a.wantUnchanged(t, before)
				if spec.check != nil {
					spec.check(t)
				}
			})
		}
	})
}

// commonDetails are the cases shared by every form that takes a name, an
// email and a password: joining, accepting an invitation, setting up.
func commonDetails(valid url.Values, taken string) []formCase {
	const (
		emailMsg = "Enter an email address like name@example.org."
	)
	return []formCase{
		{name: "an empty form gets a message on every field", values: url.Values{}, status: 422,
			errors: errs("f-name", "Enter your name.", "f-email", "Enter your email address.", "f-password", "Choose a password.")},
		{name: "a name of only spaces is no name", values: with(valid, "name", "   "), status: 422,
			errors: errs("f-name", "Enter your name.")},
		{name: "a name of 60,000 characters is too long", values: with(valid, "name", long), status: 422,
			errors: errs("f-name", "Keep your name under 80 characters.")},
		{name: "an email of 300 characters is too long", values: with(valid, "email", strings.Repeat("a", 288)+"@example.org"), status: 422,
			errors: errs("f-email", "That email address is too long.")},
		{name: "a password of 60,000 characters is too long", values: with(valid, "password", long), status: 422,
			errors: errs("f-password", "Use at most 128 characters.")},
		{name: "an email without an @ is refused", values: with(valid, "email", "not-an-email"), status: 422,
			errors: errs("f-email", emailMsg), echo: "not-an-email"},
		{name: "an email without a domain is refused", values: with(valid, "email", "jo@localhost"), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "an email with a display name is refused", values: with(valid, "email", "Jo <jo@example.org>"), status: 422,
			errors: errs("f-email", emailMsg), echo: "Jo <jo@example.org>"},
		{name: "an email with a header injected is refused", values: with(valid, "email", "jo@example.org\r\nBcc: all@example.org"), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "a script tag in the name comes back escaped", values: with(valid, "name", scriptTag, "email", ""), status: 422,
			errors: errs("f-email", "Enter your email address."), echo: scriptTag},
		{name: "an attribute breakout in the email comes back escaped", values: with(valid, "email", imgTag), status: 422,
			errors: errs("f-email", emailMsg), echo: imgTag},
		{name: "SQL in the email is just a wrong address", values: with(valid, "email", sqlDrop), status: 422,
			errors: errs("f-email", emailMsg), echo: sqlDrop},
		{name: "SQL in the name is kept as typed", values: with(valid, "name", sqlOr, "email", sqlOr), status: 422,
			errors: errs("f-email", emailMsg), echo: sqlOr},
		{name: "invalid UTF-8 in the name is refused", values: with(valid, "name", badUTF8), status: 422,
			errors: errs("f-name", "Your name contains invalid characters.")},
		{name: "invalid UTF-8 in the email is refused", values: with(valid, "email", badUTF8+"@example.org"), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "a control character in the name is refused", values: with(valid, "name", "Jo\x00Joiner"), status: 422,
			errors: errs("f-name", "Your name contains invalid characters.")},
		{name: "an email that already has an account, in capitals, is refused", values: with(valid, "email", strings.ToUpper(taken)), status: 422,
			errors: errs("f-email", "There is already an account with this email. Log in instead.")},
		{name: "a short password is refused", values: with(valid, "password", "short"), status: 422,
			errors: errs("f-password", "Use at least 10 characters.")},
		{name: "a common password is refused", values: with(valid, "password", "Password123"), status: 422,
			errors: errs("f-password", "This password is among the most common ones; choose another.")},
		{name: "a password made from the name is refused", values: with(valid, "name", "Jo Joiner", "password", "jojoiner-2026!"), status: 422,
			errors: errs("f-password", "Don't build your password from your name or email.")},
	}
}

func TestFormsRefuseBadInput(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
	target := a.addMember(t, ad, "Tess Target", "tess@example.org")
	appl := a.addApplicant(t, "Ali Applicant", "ali@example.org")
	erased := a.addMember(t, ad, "Eri Erased", "eri@example.org")
	if err := a.Gov.Erase(ctx, ad.Member, erased.ID, true); err != nil {
		t.Fatal(err)
	}
	_, openToken := a.invite(t, ad, "open")
	revokedID, revokedToken := a.invite(t, ad, "revoked")
	if err := a.Gov.RevokeInvitation(ctx, ad.Member, revokedID); err != nil {
		t.Fatal(err)
	}

	anon := a.client()
	memC := a.client()
	memC.login(t, mem)
	adminC := a.client()
	adminC.login(t, ad)

	memberPath := func(u user, action string) string {
		return "/admin/members/" + strconv.FormatInt(u.ID, 10) + "/" + action
	}
	// forged sends each forged id to an admin action: every one is a 404.
	forged := func(action string, valid url.Values) []formCase {
		var cs []formCase
		for _, id := range forgedIDs {
			cs = append(cs, formCase{name: "the forged member id " + id + " is not found", values: valid,
				path: "/admin/members/" + id + "/" + action, status: 404})
		}
		return cs
	}
	const lastAdmin = "The co-op must keep at least one active admin. Make someone else an admin first."

	// join
	joinValid := form("name", "Jo Joiner", "email", "jo@example.org", "password", password, "statement", "I want to help.")
	joinCases := commonDetails(joinValid, mem.Email)
	joinCases[0].errors["f-statement"] = "Say in a few words why you want to join."
	joinCases = append(joinCases,
		formCase{name: "a statement of 60,000 characters is too long", values: with(joinValid, "statement", long), status: 422,
			errors: errs("f-statement", "Keep it under 1000 characters.")},
		formCase{name: "invalid UTF-8 in the statement is refused", values: with(joinValid, "statement", badUTF8), status: 422,
			errors: errs("f-statement", "This text contains invalid characters.")},
		formCase{name: "markup in the statement comes back escaped", values: with(joinValid, "statement", imgTag+scriptTag, "email", ""), status: 422,
			errors: errs("f-email", "Enter your email address."), echo: imgTag + scriptTag},
	)
	formSpec{action: "/join", page: "/join", client: anon, valid: joinValid, big: "statement", cases: joinCases}.run(t, a)

	// invite/:token
	invValid := form("name", "Ivy Invitee", "email", "ivy@example.org", "password", password)
	invCases := commonDetails(invValid, mem.Email)
	for _, c := range []struct{ name, token string }{
		{"a revoked invitation's link is not valid", revokedToken},
		{"an unknown link is not valid", "bogus"},
		{"SQL as the token is not valid", url.PathEscape(sqlDrop)},
		{"markup as the token is not valid", url.PathEscape(scriptTag)},
	} {
		invCases = append(invCases,
			formCase{name: c.name, values: invValid, path: "/invite/" + c.token, status: 404},
			formCase{name: c.name + ", with bad input too", values: url.Values{}, path: "/invite/" + c.token, status: 404})
	}
	formSpec{action: "/invite/" + openToken, page: "/invite/" + openToken, client: anon, valid: invValid, big: "name", cases: invCases,
		// A wrong link is counted in rate_events: that is the point.
		except: []string{"rate_events"},
		check: func(t *testing.T) {
			if _, err := a.Gov.OpenInvitation(ctx, openToken); err != nil {
				t.Errorf("the invitation is no longer open after bad input: %v", err)
			}
		}}.run(t, a)

	// account/name
	nameValid := form("name", "Mo Renamed")
	formSpec{action: "/account/name", page: "/account", client: memC, valid: nameValid, big: "name", cases: []formCase{
		{name: "an empty name is refused", values: url.Values{}, status: 422, errors: errs("f-name", "Enter your name.")},
		{name: "a name of only spaces is refused", values: form("name", " \t "), status: 422, errors: errs("f-name", "Enter your name.")},
		{name: "a name of 60,000 characters is refused", values: form("name", long), status: 422,
			errors: errs("f-name", "Keep your name under 80 characters.")},
		{name: "a long name of markup comes back escaped", values: form("name", strings.Repeat(scriptTag+imgTag, 2)), status: 422,
			errors: errs("f-name", "Keep your name under 80 characters."), echo: strings.Repeat(scriptTag+imgTag, 2)},
		{name: "a long name of SQL comes back as typed", values: form("name", strings.Repeat(sqlDrop+sqlOr, 3)), status: 422,
			errors: errs("f-name", "Keep your name under 80 characters."), echo: strings.Repeat(sqlDrop+sqlOr, 3)},
		{name: "invalid UTF-8 is refused", values: form("name", badUTF8), status: 422,
			errors: errs("f-name", "Your name contains invalid characters.")},
		{name: "a line break in the name is refused", values: form("name", "Mo\nMember"), status: 422,
			errors: errs("f-name", "Your name contains invalid characters.")},
	}}.run(t, a)

	// account/email
	emailValid := form("email", "mo.new@example.org", "current_password", password)
	const emailMsg = "Enter an email address like name@example.org."
	const notCurrent = "That is not your current password."
	formSpec{action: "/account/email", page: "/account", client: memC, valid: emailValid, big: "email", cases: []formCase{
		{name: "an empty form gets a message on both fields", values: url.Values{}, status: 422,
			errors: errs("f-email", "Enter your email address.", "f-email-current", notCurrent)},
		{name: "a wrong current password is refused", values: with(emailValid, "current_password", "not my password"), status: 422,
			errors: errs("f-email-current", notCurrent), echo: "mo.new@example.org"},
		{name: "a current password of 60,000 characters is refused", values: with(emailValid, "current_password", long), status: 422,
			errors: errs("f-email-current", notCurrent)},
		{name: "an email of 300 characters is refused", values: with(emailValid, "email", strings.Repeat("m", 288)+"@example.org"), status: 422,
			errors: errs("f-email", "That email address is too long.")},
		{name: "a malformed email is refused", values: with(emailValid, "email", "mo@@example.org"), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "markup comes back escaped", values: with(emailValid, "email", scriptTag), status: 422,
			errors: errs("f-email", emailMsg), echo: scriptTag},
		{name: "an attribute breakout comes back escaped", values: with(emailValid, "email", imgTag), status: 422,
			errors: errs("f-email", emailMsg), echo: imgTag},
		{name: "SQL is a malformed email", values: with(emailValid, "email", sqlDrop), status: 422,
			errors: errs("f-email", emailMsg), echo: sqlDrop},
		{name: "SQL that looks like a condition is a malformed email", values: with(emailValid, "email", sqlOr), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "invalid UTF-8 is refused", values: with(emailValid, "email", "mo"+badUTF8+"@example.org"), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "another member's email is not taken over", values: with(emailValid, "email", strings.ToUpper(target.Email)), status: 422,
			errors: errs("f-email", "Another account uses this email.")},
	}}.run(t, a)

	// account/password
	pwValid := form("current_password", password, "password", "a brand new secret 77")
	formSpec{action: "/account/password", page: "/account", client: memC, valid: pwValid, big: "password", cases: []formCase{
		{name: "an empty form gets a message on both fields", values: url.Values{}, status: 422,
			errors: errs("f-password", "Choose a password.", "f-password-current", notCurrent)},
		{name: "a wrong current password is refused", values: with(pwValid, "current_password", "not my password"), status: 422,
			errors: errs("f-password-current", notCurrent)},
		{name: "a new password of 60,000 characters is refused", values: with(pwValid, "password", long), status: 422,
			errors: errs("f-password", "Use at most 128 characters.")},
		{name: "a short password is refused", values: with(pwValid, "password", "short"), status: 422,
			errors: errs("f-password", "Use at least 10 characters.")},
		{name: "a common password is refused", values: with(pwValid, "password", "qwertyuiop"), status: 422,
			errors: errs("f-password", "This password is among the most common ones; choose another.")},
		{name: "a password made from the name is refused", values: with(pwValid, "password", "MoMember-2026"), status: 422,
			errors: errs("f-password", "Don't build your password from your name or email.")},
		{name: "invalid UTF-8 is too short to be a password", values: with(pwValid, "password", badUTF8), status: 422,
			errors: errs("f-password", "Use at least 10 characters.")},
		{name: "markup as the password is never echoed", values: with(pwValid, "password", scriptTag, "current_password", imgTag), status: 422,
			errors: errs("f-password-current", notCurrent)},
		{name: "SQL as the current password does not match", values: with(pwValid, "current_password", "' OR '1'='1"), status: 422,
			errors: errs("f-password-current", notCurrent)},
	}}.run(t, a)

	// admin/members/:id/reject
	const reasonLong = "Keep the reason under 500 characters."
	rejectValid := form("reason", "Not a fit for the co-op.")
	rejectCases := []formCase{
		{name: "an empty reason is refused", values: url.Values{}, status: 422,
			errors: errs("f-reject-reason", "Give a reason: the applicant will see it.")},
		{name: "a reason of only spaces is refused", values: form("reason", "  \n "), status: 422,
			errors: errs("f-reject-reason", "Give a reason: the applicant will see it.")},
		{name: "a reason of 60,000 characters is refused", values: form("reason", long), status: 422,
			errors: errs("f-reject-reason", reasonLong)},
		{name: "a long reason of markup comes back escaped", values: form("reason", strings.Repeat(scriptTag+imgTag, 12)), status: 422,
			errors: errs("f-reject-reason", reasonLong), echo: strings.Repeat(scriptTag+imgTag, 12)},
		{name: "a long reason of SQL comes back as typed", values: form("reason", strings.Repeat(sqlDrop+sqlOr, 16)), status: 422,
			errors: errs("f-reject-reason", reasonLong), echo: strings.Repeat(sqlDrop+sqlOr, 16)},
		{name: "invalid UTF-8 is refused", values: form("reason", badUTF8), status: 422,
			errors: errs("f-reject-reason", "The reason contains invalid characters.")},
		{name: "an active member's id is not an application", values: rejectValid, path: memberPath(mem, "reject"), status: 422,
			errors: errs("", "This person is not waiting for approval.")},
		{name: "the admin's own id is not an application", values: rejectValid, path: memberPath(ad, "reject"), status: 422,
			errors: errs("", "This person is not waiting for approval.")},
	}
	rejectCases = append(rejectCases, forged("reject", rejectValid)...)
	formSpec{action: memberPath(appl, "reject"), page: "/admin/members/" + strconv.FormatInt(appl.ID, 10), client: adminC,
		valid: rejectValid, big: "reason", cases: rejectCases}.run(t, a)

	// admin/members/:id/suspend
	suspendValid := form("reason", "Repeated abuse.")
	suspendCases := []formCase{
		{name: "a reason of 60,000 characters is refused", values: form("reason", long), status: 422,
			errors: errs("f-suspend-reason", reasonLong)},
		{name: "a long reason of markup comes back escaped", values: form("reason", strings.Repeat(scriptTag+imgTag, 12)), status: 422,
			errors: errs("f-suspend-reason", reasonLong), echo: strings.Repeat(scriptTag+imgTag, 12)},
		{name: "a long reason of SQL comes back as typed", values: form("reason", strings.Repeat(sqlDrop+sqlOr, 16)), status: 422,
			errors: errs("f-suspend-reason", reasonLong), echo: strings.Repeat(sqlDrop+sqlOr, 16)},
		{name: "invalid UTF-8 is refused", values: form("reason", badUTF8), status: 422,
			errors: errs("f-suspend-reason", "The reason contains invalid characters.")},
		{name: "an applicant cannot be suspended", values: suspendValid, path: memberPath(appl, "suspend"), status: 422,
			errors: errs("", "Only an active member can be suspended.")},
		{name: "the last admin cannot suspend themselves", values: suspendValid, path: memberPath(ad, "suspend"), status: 422,
			errors: errs("", lastAdmin)},
		{name: "an erased member cannot be suspended", values: suspendValid, path: memberPath(erased, "suspend"), status: 422,
			errors: errs("", "This member's data has been erased; nothing more can change.")},
	}
	suspendCases = append(suspendCases, forged("suspend", suspendValid)...)
	formSpec{action: memberPath(target, "suspend"), page: "/admin/members/" + strconv.FormatInt(target.ID, 10), client: adminC,
		valid: suspendValid, big: "reason", cases: suspendCases}.run(t, a)

	// admin/members/:id/role
	const roleMsg = "Choose member or admin."
	roleValid := form("role", "admin")
	roleCases := []formCase{
		{name: "no role is refused", values: url.Values{}, status: 422, errors: errs("", roleMsg)},
		{name: "an unknown role is refused", values: form("role", "superadmin"), status: 422, errors: errs("", roleMsg)},
		{name: "a role in capitals is refused", values: form("role", "ADMIN"), status: 422, errors: errs("", roleMsg)},
		{name: "markup as the role is refused", values: form("role", scriptTag), status: 422, errors: errs("", roleMsg)},
		{name: "SQL as the role is refused", values: form("role", "admin' OR '1'='1"), status: 422, errors: errs("", roleMsg)},
		{name: "invalid UTF-8 as the role is refused", values: form("role", badUTF8), status: 422, errors: errs("", roleMsg)},
		{name: "a role of 60,000 characters is refused", values: form("role", long), status: 422, errors: errs("", roleMsg)},
		{name: "an unknown role for an applicant is refused with its message", values: form("role", "owner"), path: memberPath(appl, "role"),
			status: 422, errors: errs("", roleMsg)},
		{name: "an applicant's role cannot change", values: roleValid, path: memberPath(appl, "role"), status: 422,
			errors: errs("", "Only an active member's role can change.")},
		{name: "the last admin cannot step down", values: form("role", "member"), path: memberPath(ad, "role"), status: 422,
			errors: errs("", lastAdmin)},
		{name: "giving a member the role they have changes nothing", values: form("role", "member"), status: 422,
			errors: errs("", "Nothing to change.")},
	}
	roleCases = append(roleCases, forged("role", roleValid)...)
	formSpec{action: memberPath(target, "role"), page: "/admin/members/" + strconv.FormatInt(target.ID, 10), client: adminC,
		valid: roleValid, big: "role", cases: roleCases}.run(t, a)

	// admin/members/:id/erase
	const confirmMsg = "Tick the box to confirm: erasure cannot be undone."
	eraseValid := form("confirm", "yes")
	eraseCases := []formCase{
		{name: "without the box ticked nothing is erased", values: url.Values{}, status: 422, errors: errs("f-confirm", confirmMsg)},
		{name: "a confirmation other than yes is refused", values: form("confirm", "on"), status: 422, errors: errs("f-confirm", confirmMsg)},
		{name: "SQL as the confirmation is refused", values: form("confirm", "yes' OR 1=1 --"), status: 422, errors: errs("f-confirm", confirmMsg)},
		{name: "markup as the confirmation is refused", values: form("confirm", scriptTag), status: 422, errors: errs("f-confirm", confirmMsg)},
		{name: "invalid UTF-8 as the confirmation is refused", values: form("confirm", badUTF8), status: 422, errors: errs("f-confirm", confirmMsg)},
		{name: "the last admin cannot erase themselves", values: eraseValid, path: memberPath(ad, "erase"), status: 422,
			errors: errs("", lastAdmin)},
		{name: "an erased member cannot be erased again", values: eraseValid, path: memberPath(erased, "erase"), status: 422,
			errors: errs("", "This member's data has been erased; nothing more can change.")},
	}
	eraseCases = append(eraseCases, forged("erase", eraseValid)...)
	formSpec{action: memberPath(target, "erase"), page: "/admin/members/" + strconv.FormatInt(target.ID, 10), client: adminC,
		valid: eraseValid, big: "confirm", cases: eraseCases}.run(t, a)

	// admin/invitations
	const daysMsg = "Choose between 1 and 90 days."
	const noteLong = "Keep the note under 200 characters."
	const noteBad = "The note contains invalid characters."
	invitationValid := form("note", "For Pat", "days", "7")
	var invitationCases []formCase
	for _, days := range []string{"abc", "-1", "91", "7.5", "0x10", "1e3", sqlOr, "99999999999999999999", badUTF8, long} {
		invitationCases = append(invitationCases, formCase{name: "the number of days " + strconv.Quote(short(days)) + " is refused",
			values: with(invitationValid, "days", days), status: 422, errors: errs("f-days", daysMsg)})
	}
	invitationCases = append(invitationCases,
		formCase{name: "markup as the number of days comes back escaped", values: with(invitationValid, "days", imgTag), status: 422,
			errors: errs("f-days", daysMsg), echo: imgTag},
		formCase{name: "a note of 60,000 characters is refused", values: with(invitationValid, "note", long), status: 422,
			errors: errs("f-note", noteLong)},
		formCase{name: "a long note of markup comes back escaped", values: with(invitationValid, "note", strings.Repeat(scriptTag+imgTag, 5)), status: 422,
			errors: errs("f-note", noteLong), echo: strings.Repeat(scriptTag+imgTag, 5)},
		formCase{name: "a long note of SQL comes back as typed", values: with(invitationValid, "note", strings.Repeat(sqlDrop, 9)), status: 422,
			errors: errs("f-note", noteLong), echo: strings.Repeat(sqlDrop, 9)},
		formCase{name: "invalid UTF-8 in the note is refused", values: with(invitationValid, "note", badUTF8), status: 422,
			errors: errs("f-note", noteBad)},
		formCase{name: "a line break in the note is refused", values: with(invitationValid, "note", "For\nPat"), status: 422,
			errors: errs("f-note", noteBad)},
		formCase{name: "bad days and a bad note both get a message", values: form("note", long, "days", "abc"), status: 422,
			errors: errs("f-note", noteLong, "f-days", daysMsg)},
	)
	formSpec{action: "/admin/invitations", page: "/admin/invitations", client: adminC, valid: invitationValid, big: "note",
		cases: invitationCases}.run(t, a)

	// admin/invitations/:id/revoke
	revokeCases := []formCase{
		{name: "a revoked invitation cannot be revoked again", values: url.Values{}, status: 422,
			errors: errs("", "This invitation has already been used or revoked.")},
	}
	for _, id := range forgedIDs {
		revokeCases = append(revokeCases, formCase{name: "the forged invitation id " + id + " is not found", values: url.Values{},
			path: "/admin/invitations/" + id + "/revoke", status: 404})
	}
	formSpec{action: "/admin/invitations/" + strconv.FormatInt(revokedID, 10) + "/revoke", page: "/admin/invitations", client: adminC,
		big: "note", cases: revokeCases}.run(t, a)

	t.Run("a member forging another member's id on an admin form is refused", func(t *testing.T) {
		token := memC.csrf(t, "/account")
		for _, action := range []string{"approve", "reject", "suspend", "reinstate", "role", "leave", "erase"} {
			for _, victim := range []user{ad, target, appl, mem} {
				before := a.snapshot(t)
				res := memC.post(t, memberPath(victim, action), form("csrf_token", token, "reason", "x", "role", "admin", "confirm", "yes"))
				res.wantStatus(t, http.StatusForbidden)
				a.wantUnchanged(t, before)
			}
		}
	})

	t.Run("ids in an account form are ignored: a member changes only their own name", func(t *testing.T) {
		id := strconv.FormatInt(target.ID, 10)
		res := memC.post(t, "/account/name", form("csrf_token", memC.csrf(t, "/account"), "name", "Mo Renamed",
			"id", id, "member", id, "member_id", id))
		res.wantRedirect(t, "/account")
		if got := a.reload(t, mem).Member.Name; got != "Mo Renamed" {
			t.Errorf("the member's own name is %q, want it changed", got)
		}
		if got := a.reload(t, target).Member.Name; got != "Tess Target" {
			t.Errorf("the other member's name became %q", got)
		}
	})

	t.Run("markup and SQL that are valid input are stored as typed and shown escaped", func(t *testing.T) {
		name := `<b onmouseover=alert(1)>Mo</b> '; DROP TABLE members; --`
		res := memC.post(t, "/account/name", form("csrf_token", memC.csrf(t, "/account"), "name", name))
		res.wantRedirect(t, "/account")
		if got := a.reload(t, mem).Member.Name; got != name {
			t.Errorf("the name is stored as %q, want %q", got, name)
		}
		for _, page := range []string{"/account", "/admin/members", "/admin/members/" + strconv.FormatInt(mem.ID, 10)} {
			res := adminC.get(t, page)
			if page == "/account" {
				res = memC.get(t, page)
			}
			res.wantStatus(t, http.StatusOK)
			res.wantText(t, name)
			if strings.Contains(res.Body, "<b onmouseover") {
				t.Errorf("%s shows the name as raw markup", res)
			}
		}
	})

	t.Run("leaving the number of days empty gives the default", func(t *testing.T) {
		res := adminC.post(t, "/admin/invitations", form("csrf_token", adminC.csrf(t, "/admin/invitations"), "note", "", "days", ""))
		res.wantRedirect(t, "/admin/invitations")
		invs, err := a.Gov.Invitations(ctx)
		if err != nil || len(invs) == 0 {
			t.Fatalf("invitations: %v (%d)", err, len(invs))
		}
		if got, want := invs[0].ExpiresAt.Sub(invs[0].CreatedAt), a.Gov.InvitationTTL; got != want {
			t.Errorf("the new invitation lasts %v, want the default %v", got, want)
		}
	})
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

func TestLoginFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	// The throttle is tested on its own; here every wrong login must get its
	// own answer, not the throttle's.
	a := newApp(t, func(g *governance.Service) { g.MaxFailures = 1000 })
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
	rejected := a.addApplicant(t, "Rae Rejected", "rae@example.org")
	if err := a.Gov.Reject(context.Background(), ad.Member, rejected.ID, "Not a fit."); err != nil {
		t.Fatal(err)
	}
	anon := a.client()

	const noMatch = "That email and password do not match an account that can log in."
	valid := form("email", mem.Email, "password", password)
	formSpec{action: "/login", page: "/login", client: anon, valid: valid, big: "email",
		// A wrong login is counted in login_failures: that is the point.
		except: []string{"login_failures"},
		cases: []formCase{
			{name: "an empty form gets a message on both fields", values: url.Values{}, status: 422,
				errors: errs("f-email", "Enter your email address.", "f-password", "Enter your password.")},
			{name: "an empty password is asked for", values: with(valid, "password", ""), status: 422,
				errors: errs("f-password", "Enter your password."), echo: mem.Email},
			{name: "a wrong password does not log in", values: with(valid, "password", "not the password"), status: 401,
				errors: errs("", noMatch)},
			{name: "an unknown email gets the same answer", values: with(valid, "email", "nobody@example.org"), status: 401,
				errors: errs("", noMatch)},
			{name: "an email of 60,000 characters does not log in", values: with(valid, "email", long), status: 401,
				errors: errs("", noMatch)},
			{name: "a password of 60,000 characters does not log in", values: with(valid, "password", long), status: 401,
				errors: errs("", noMatch)},
			{name: "markup as the email comes back escaped", values: with(valid, "email", scriptTag+imgTag), status: 401,
				errors: errs("", noMatch), echo: scriptTag + imgTag},
			{name: "SQL as the email does not log in", values: with(valid, "email", "' OR 1=1 --"), status: 401,
				errors: errs("", noMatch), echo: "' OR 1=1 --"},
			{name: "SQL as the password does not log in", values: with(valid, "password", "' OR '1'='1"), status: 401,
				errors: errs("", noMatch)},
			{name: "SQL that drops a table does not log in", values: with(valid, "email", sqlDrop, "password", sqlOr), status: 401,
				errors: errs("", noMatch)},
			{name: "invalid UTF-8 does not log in", values: with(valid, "email", badUTF8, "password", badUTF8), status: 401,
				errors: errs("", noMatch)},
			{name: "markup in next comes back escaped", values: with(valid, "password", "", "next", `/"`+imgTag), status: 422,
				errors: errs("f-password", "Enter your password."), echo: `/"` + imgTag},
			{name: "a rejected applicant with the right password is told why", values: with(valid, "email", rejected.Email), status: 403,
				errors: errs("", "Your application to join was not accepted. Reason given: Not a fit.")},
		},
		check: func(t *testing.T) {
			if r := anon.get(t, "/account"); r.Status != http.StatusSeeOther {
				t.Errorf("after a refused login GET /account answers %d: the visitor is logged in", r.Status)
			}
		},
	}.run(t, a)
}

func TestSetupFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	token, err := a.Gov.NewSetupToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	taken := a.addApplicant(t, "Ali Applicant", "ali@example.org")
	anon := a.client()

	valid := form("token", token, "name", "Fay Founder", "email", "fay@example.org", "password", password)
	cases := commonDetails(valid, taken.Email)
	for i := range cases {
		if cases[i].values.Get("token") == "" {
			cases[i].values.Set("token", token)
		}
	}
	for _, c := range []struct{ name, token string }{
		{"no token is not valid", ""},
		{"an unknown token is not valid", "bogus"},
		{"SQL as the token is not valid", sqlDrop},
		{"markup as the token is not valid", scriptTag},
		{"invalid UTF-8 as the token is not valid", badUTF8},
		{"a token of 60,000 characters is not valid", long},
	} {
		cases = append(cases,
			formCase{name: c.name, values: with(valid, "token", c.token), status: 404},
			formCase{name: c.name + ", with bad input too", values: form("token", c.token), status: 404})
	}
	formSpec{action: "/setup", page: "/setup?token=" + url.QueryEscape(token), client: anon, valid: valid, big: "name", cases: cases,
		check: func(t *testing.T) {
			if err := a.Gov.CheckSetupToken(ctx, token); err != nil {
				t.Errorf("the setup link stopped working after bad input: %v", err)
			}
		}}.run(t, a)

	t.Run("the setup form, filled in right, founds the co-op", func(t *testing.T) {
		res := anon.post(t, "/setup", with(valid, "csrf_token", anon.csrf(t, "/setup?token="+url.QueryEscape(token))))
		res.wantRedirect(t, "/admin/members")
		if ok, err := a.Gov.HasAdmin(ctx); err != nil || !ok {
			t.Errorf("after setup the co-op has no admin (%v)", err)
		}
	})
}

func TestPasswordResetFormsRefuseBadInput(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
	erased := a.addMember(t, ad, "Eri Erased", "eri@example.org")
	if err := a.Gov.Erase(ctx, ad.Member, erased.ID, true); err != nil {
		t.Fatal(err)
	}
	token := a.issueReset(t, ad, mem)
	used := a.issueReset(t, ad, ad)
	if _, err := a.Gov.ResetPassword(ctx, used, password, password); err != nil {
		t.Fatal(err)
	}
	anon := a.client()
	adminC := a.client()
	adminC.login(t, ad)

	// forgot
	const emailMsg = "Enter an email address like name@example.org."
	formSpec{action: "/forgot", page: "/forgot", client: anon, valid: form("email", mem.Email), big: "email", cases: []formCase{
		{name: "an empty email is asked for", values: url.Values{}, status: 422, errors: errs("f-email", "Enter your email address.")},
		{name: "an email of only spaces is asked for", values: form("email", "   "), status: 422, errors: errs("f-email", "Enter your email address.")},
		{name: "an email of 300 characters is too long", values: form("email", strings.Repeat("a", 288)+"@example.org"), status: 422,
			errors: errs("f-email", "That email address is too long.")},
		{name: "an email of 60,000 characters is too long", values: form("email", long), status: 422,
			errors: errs("f-email", "That email address is too long.")},
		{name: "a script tag comes back escaped", values: form("email", scriptTag), status: 422,
			errors: errs("f-email", emailMsg), echo: scriptTag},
		{name: "an attribute breakout comes back escaped", values: form("email", imgTag), status: 422,
			errors: errs("f-email", emailMsg), echo: imgTag},
		{name: "SQL is just a wrong address", values: form("email", sqlDrop), status: 422,
			errors: errs("f-email", emailMsg), echo: sqlDrop},
		{name: "SQL that would match every row is just a wrong address", values: form("email", "' OR '1'='1"), status: 422,
			errors: errs("f-email", emailMsg), echo: "' OR '1'='1"},
		{name: "invalid UTF-8 is refused", values: form("email", badUTF8+"@example.org"), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "an email with a header injected is refused", values: form("email", mem.Email+"\r\nBcc: all@example.org"), status: 422,
			errors: errs("f-email", emailMsg)},
		{name: "an email with a display name is refused", values: form("email", "Mo <"+mem.Email+">"), status: 422,
			errors: errs("f-email", emailMsg), echo: "Mo <" + mem.Email + ">"},
	}}.run(t, a)

	// reset/:token
	const fresh = "lantern meadow copper 77"
	valid := form("password", fresh, "password_repeat", fresh)
	cases := []formCase{
		{name: "an empty form asks for a password", values: url.Values{}, status: 422, errors: errs("f-password", "Choose a password.")},
		{name: "a short password is refused", values: form("password", "short", "password_repeat", "short"), status: 422,
			errors: errs("f-password", "Use at least 10 characters.")},
		{name: "a password of 60,000 characters is refused", values: form("password", long, "password_repeat", "x"), status: 422,
			errors: errs("f-password", "Use at most 128 characters.")},
		{name: "a common password is refused", values: form("password", "Password123", "password_repeat", "Password123"), status: 422,
			errors: errs("f-password", "This password is among the most common ones; choose another.")},
		{name: "a password made from the name is refused", values: form("password", "momember-2026", "password_repeat", "momember-2026"), status: 422,
			errors: errs("f-password", "Don't build your password from your name or email.")},
		{name: "a password not typed again is asked for", values: with(valid, "password_repeat", ""), status: 422,
			errors: errs("f-password_repeat", "Type the new password again.")},
		{name: "two different passwords are refused", values: with(valid, "password_repeat", fresh+"!"), status: 422,
			errors: errs("f-password_repeat", "The two passwords are not the same.")},
		{name: "markup as the password is never echoed", values: form("password", scriptTag+imgTag, "password_repeat", imgTag), status: 422,
			errors: errs("f-password_repeat", "The two passwords are not the same.")},
		{name: "SQL as the password changes nothing", values: form("password", sqlDrop, "password_repeat", sqlOr), status: 422,
			errors: errs("f-password_repeat", "The two passwords are not the same.")},
		{name: "invalid UTF-8 as the password is refused", values: form("password", badUTF8, "password_repeat", badUTF8), status: 422,
			errors: errs("f-password", "Use at least 10 characters.")},
		{name: "a used link is gone", values: valid, path: "/reset/" + used, status: 410},
		{name: "a used link is gone, with bad input too", values: url.Values{}, path: "/reset/" + used, status: 410},
	}
	for _, c := range []struct{ name, token string }{
		{"an unknown link is not found", "bogus"},
		{"SQL as the token is not found", url.PathEscape(sqlDrop)},
		{"markup as the token is not found", url.PathEscape(scriptTag)},
		{"invalid UTF-8 as the token is not found", url.PathEscape(badUTF8)},
		{"a token of 5,000 characters is not found", strings.Repeat("A", 5000)},
	} {
		cases = append(cases,
			formCase{name: c.name, values: valid, path: "/reset/" + c.token, status: 404},
			formCase{name: c.name + ", with bad input too", values: url.Values{}, path: "/reset/" + c.token, status: 404})
	}
	formSpec{action: "/reset/" + token, page: "/reset/" + token, client: anon, valid: valid, big: "password", cases: cases,
		check: func(t *testing.T) {
			if _, _, err := a.Gov.OpenReset(ctx, token); err != nil {
				t.Errorf("the reset link stopped working after bad input: %v", err)
			}
		}}.run(t, a)

	// admin/members/:id/reset
	var forged []formCase
	for _, id := range forgedIDs {
		forged = append(forged, formCase{name: "the forged member id " + id + " is not found", values: url.Values{},
			path: "/admin/members/" + id + "/reset", status: 404})
	}
	memberPage := "/admin/members/" + strconv.FormatInt(mem.ID, 10)
	formSpec{action: memberPage + "/reset", page: memberPage, client: adminC, valid: url.Values{}, big: "note", cases: append(forged,
		formCase{name: "an erased member has no password to reset", values: url.Values{},
			path: "/admin/members/" + strconv.FormatInt(erased.ID, 10) + "/reset", status: 422,
			errors: errs("", "This member's data has been erased; there is no account to reset.")},
	)}.run(t, a)
}
