package server_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/library"
)

// payload is one hostile value. Every parameter gets the core values;
// numbers and ids get the number values, everything else the text values,
// and path parameters the traversals too. The sample is the short list
// the other roles send, and the main role sends to password fields.
type payload struct {
	name, value string
	class       string // core, text, number or path
	sample      bool
}

var hostile = []payload{
	{"SQL that is always true", `' OR 1=1 --`, "core", true},
	{"SQL that closes a string and drops a table", sqlDrop, "core", false},
	{"a script element", scriptTag, "core", true},
	{"an attribute breakout", imgTag, "core", false},
	{"100 KB", strings.Repeat("x", 100<<10), "core", true},
	{"invalid UTF-8", badUTF8, "core", true},
	{"a NUL byte", "a\x00b", "core", true},
	{"a header injection", "x\r\nSet-Cookie: evil=1", "core", false},
	{"nothing", "", "core", false},
	{"minus one", "-1", "core", false},
	{"a number past int64", "9999999999999999999999", "core", false},

	{"SQL that drops a table", `1; DROP TABLE members`, "text", false},
	{"SQL that unions in the password hashes", `1' UNION SELECT email, password_hash FROM members --`, "text", false},
	{"SQL in double quotes", `" OR ""="`, "text", false},
	{"an FTS5 NEAR group", `NEAR(a b)`, "text", false},
	{"an FTS5 column filter with a prefix", `title:x*`, "text", false},
	{"a lone double quote", `"`, "text", false},
	{"an FTS5 caret", `^`, "text", false},
	{"bare FTS5 operators", `AND OR NOT`, "text", false},
	{"an FTS5 column filter with nothing after it", `col:`, "text", false},
	{"an FTS5 column set", `{title summary}: x`, "text", false},
	{"a lone star", `*`, "text", false},
	{"an unbalanced bracket", `(`, "text", false},
	{"a javascript: link", `javascript:alert(1)`, "text", false},
	{"a breakout from a JSON script block", `</script><script>alert(1)</script>`, "text", false},
	{"an SVG onload", `<svg onload=alert(1)>`, "text", false},
	{"template actions", `{{.}}{{template "layout.html"}}`, "text", false},
	{"an overlong UTF-8 slash", "a\xc0\xafb", "text", false},
	{"a UTF-16 surrogate in UTF-8", "\xed\xa0\x80", "text", false},
	{"only a NUL byte", "\x00", "text", false},
	{"a right-to-left override", "\u202egnp.exe", "text", false},
	{"a line separator", "a\u2028b", "text", false},

	{"zero", "0", "number", false},
	{"an exponent", "1e9", "number", false},
	{"the largest int64", "9223372036854775807", "number", false},
	{"one past the largest int64", "9223372036854775808", "number", false},
	{"the smallest int64", "-9223372036854775808", "number", false},
	{"one past int32", "2147483648", "number", false},
	{"a fraction", "1.5", "number", false},
	{"hexadecimal", "0x10", "number", false},
	{"a number after a space", " 1", "number", false},
	{"NaN", "NaN", "number", false},

	{"a path traversal", "../../../go.mod", "path", false},
	{"an encoded path traversal", "..%2f..%2fgo.mod", "path", false},
}

// numeric are the parameters that hold a number or an id.
var numeric = []string{"id", "page", "per_page", "from", "to", "box_page", "days", "hours", "minutes", "quorum_pct",
	"min_minutes", "year", "demand_id", "resource_id", "demand", "resource", "resources", "pid", "principal", "member", "holder",
	"proposal", "proxy_cap"}

// payloadsFor is the list for one parameter.
func payloadsFor(name string, inPath bool) []payload {
	var out []payload
	for _, p := range hostile {
		switch {
		case p.class == "core",
			p.class == "number" && slices.Contains(numeric, name),
			p.class == "text" && !slices.Contains(numeric, name),
			p.class == "path" && inPath:
			out = append(out, p)
		}
	}
	return out
}

// capped are the payloads for a field with a length limit: one character
// over it, in ASCII and in two-byte characters, and exactly at it in
// two-byte characters, where a limit counted in bytes on one side and in
// characters on the other would disagree.
func capped(limit int) []payload {
	return []payload{
		{fmt.Sprintf("%d ASCII characters, one over the limit", limit+1), strings.Repeat("a", limit+1), "cap", true},
		{fmt.Sprintf("%d two-byte characters, one over the limit", limit+1), multibyte(limit + 1), "cap", true},
		{fmt.Sprintf("%d two-byte characters, at the limit", limit), multibyte(limit), "cap", true},
	}
}

// multibyte is n two-byte characters, varied so that no password rule
// refuses it for being monotonous.
func multibyte(n int) string {
	const cycle = "éàüöñç"
	rs := []rune(cycle)
	var b strings.Builder
	for i := range n {
		b.WriteRune(rs[i%len(rs)])
	}
	return b.String()
}

// leakMarks are fragments of error text that must never reach a visitor.
var leakMarks = []string{"sqlite", "sql logic", "syntax error", "panic", "goroutine", "runtime error", "fts5",
	"no such column", "no such table", "no such function", "constraint failed", "unrecognized token",
	"malformed match", "database is locked", ".go:"}

// rawMarks are hostile markup that must never come back unescaped in an
// HTML, JSON or XML body (a download aside).
var rawMarks = []string{"<script>alert(1)", "<img src=x", "<svg onload"}

// scriptURL is an attribute a browser follows, holding a javascript: URL.
var scriptURL = regexp.MustCompile(`(?i)(href|src|action|formaction)\s*=\s*["']?\s*javascript:`)

// injRoute is how to attack one route.
type injRoute struct {
	query []string // the query parameters its handler reads
	form  []string // the form fields its handler reads (csrf_token aside)
	// main is the role whose requests get deepest (an admin unless said
	// otherwise); it sends every payload and the others send the sample.
	// Password fields get the sample from the main role only: they are only
	// ever hashed, and each costs argon2id.
	main role
	// only: an anonymous visitor alone asks (public forms that log someone
	// in, which would replace a member's session).
	only bool
	// ids gives the path parameters for role r: things r may use.
	ids func(r role) map[string]string
	// foreign gives :id values of things r may not touch.
	foreign func(r role) []string
	base    url.Values // valid values for the fields not under attack; {n} becomes a number unique to the request
	// spoil is set on all but the sample payloads: a field left wrong, so
	// that forms whose success costs argon2id are refused.
	spoil   url.Values
	mutates bool               // a 303 answers a change the request was meant to make
	stored  map[string]string  // field → table.column that keeps an accepted value as typed
	except  []string           // tables a refused request may still change
	caps    map[string]int     // field → its length limit
	renew   func(t *testing.T) // after a 303: put back what the next request needs
	after   func(t *testing.T) // once the route is done
	// window is a rate limit's: a request answered 429 is sent again once
	// it has passed, so that the attacks reach past the limit.
	window time.Duration
}

func (e injRoute) mainRole() role {
	switch {
	case e.only:
		return anonymous
	case e.main == anonymous:
		return admin
	}
	return e.main
}

var searchParams = []string{"q", "topic", "format", "language", "region", "from", "to", "sort", "page", "per_page"}

var resourceCaps = map[string]int{"title": library.MaxTitleLen, "url": library.MaxURLLen, "authors": library.MaxAuthorLen,
	"publisher": library.MaxPublisherLen, "region": library.MaxRegionLen, "topics": library.MaxTopicLen,
	"licence": library.MaxLicenceLen, "summary": library.MaxSummaryLen}

var resourceStored = map[string]string{"title": "resources.title", "publisher": "resources.publisher",
	"region": "resources.region", "licence": "resources.licence", "summary": "resources.summary"}

var detailsCaps = map[string]int{"name": governance.MaxNameLen, "email": governance.MaxEmailLen,
	"password": governance.MaxPasswordLen, "statement": governance.MaxStatementLen}

// injTable says, for every route, what it reads and how to reach deep into
// it. A route missing from it, or a parameter a handler reads that it does
// not list, fails TestHandlersReadOnlyTheParametersTheInjectionTableLists.
func injTable(f *routeFixture, x *injector) map[string]injRoute {
	ctx := context.Background()
	ad := f.users[admin]
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	one := func(n int64) func(role) map[string]string {
		return func(role) map[string]string { return map[string]string{"id": id(n)} }
	}
	// own is the thing each active role may change: the member's or the admin's.
	own := func(member, byAdmin int64) func(role) map[string]string {
		return func(r role) map[string]string {
			if r == admin {
				return map[string]string{"id": id(byAdmin)}
			}
			return map[string]string{"id": id(member)}
		}
	}
	notPublic := func(ids ...int64) func(role) []string {
		return func(r role) []string {
			var out []string
			if r == anonymous || r == applicant {
				for _, n := range ids {
					out = append(out, id(n))
				}
			}
			return out
		}
	}
	notMine := func(ids ...int64) func(role) []string {
		return func(r role) []string {
			if r == admin {
				return nil
			}
			var out []string
			for _, n := range ids {
				out = append(out, id(n))
			}
			return out
		}
	}
	member := func(u user) func(role) map[string]string { return one(u.ID) }
	limits := f.app.Gov // its rate limits, for their windows
	resetAnon := func(*testing.T) { x.resetAnonymous() }
	memberForm := []string{"reason", "role"} // every membership decision echoes both on a refusal
	return map[string]injRoute{
		// Public.
		"GET /healthz":                    {},
		"GET /static/*filepath":           {ids: func(role) map[string]string { return map[string]string{"filepath": "plenary.css"} }},
		"HEAD /static/*filepath":          {ids: func(role) map[string]string { return map[string]string{"filepath": "plenary.css"} }},
		"GET /":                           {},
		"GET /ledger":                     {query: []string{"page"}},
		"GET /library":                    {query: searchParams, caps: map[string]int{"q": library.MaxQueryLen}},
		"GET /library/feed.atom":          {},
		"GET /library/export.json":        {query: searchParams},
		"GET /library/export.csv":         {query: searchParams},
		"GET /library/export.csl.json":    {query: searchParams},
		"GET /library/:id":                {ids: one(f.listedResource), foreign: notPublic(f.memberResource)},
		"GET /demands":                    {query: []string{"audience", "status", "page"}},
		"GET /demands/:id":                {ids: one(f.memberDemand)},
		"GET /proposals":                  {query: []string{"page"}},
		"GET /proposals/:id":              {ids: one(f.closedProposal), query: []string{"box_page", "receipt"}, foreign: notPublic(f.openProposal, f.discussion)},
		"GET /feed.atom":                  {},
		"GET /proposals/:id/calendar.ics": {ids: one(f.closedProposal), foreign: notPublic(f.openProposal, f.discussion)},
		"GET /calendar/:token":            {ids: func(role) map[string]string { return map[string]string{"token": f.calendarToken + ".ics"} }},
		"GET /api/v1/proposals":           {query: []string{"page"}},
		"GET /api/v1/proposals/:id":       {ids: one(f.closedProposal), query: []string{"box_page"}, foreign: notPublic(f.openProposal)},
		"GET /api/v1/ledger":              {query: []string{"page"}},
		"GET /api/v1/resources":           {query: searchParams},
		"GET /api/v1/resources/:id":       {ids: one(f.listedResource), foreign: func(role) []string { return []string{id(f.memberResource)} }},
		"GET /api/v1/demands":             {query: []string{"audience", "status", "page"}},
		"GET /api/v1/demands/:id":         {ids: one(f.memberDemand)},
		"GET /officers":                   {}, // and the two below: issue 14's settled choices
		"GET /api/v1/officers":            {},
		"GET /api/v1/priorities":          {},
		"GET /join":                       {},
		"POST /join": {form: []string{"name", "email", "password", "statement"}, only: true,
			base:  form("name", "Jo Joiner", "email", "jo{n}@example.org", "password", password, "statement", "I want to help."),
			spoil: form("email", ""), mutates: true, caps: detailsCaps, renew: resetAnon, window: limits.JoinLimit.Window,
			stored: map[string]string{"name": "members.name", "statement": "members.statement"}},
		"GET /login": {query: []string{"next"}},
		// The password is refused for its length before anything is hashed
		// or counted, so only the attacks on the password itself cost
		// argon2id and count as failures.
		"POST /login": {form: []string{"email", "password", "next"}, only: true,
			base:   form("email", f.users[activeMember].Email, "password", strings.Repeat("p", governance.MaxPasswordLen+1), "next", "/account"),
			except: []string{"login_failures"}, window: limits.FailureWindow,
			caps: map[string]int{"email": governance.MaxEmailLen, "password": governance.MaxPasswordLen},
			// The failures paused logins from this address; let the window pass.
			after: func(*testing.T) { f.app.Clock.Advance(limits.FailureWindow + time.Minute) }},
		"POST /logout": {only: true},
		"GET /forgot":  {},
		// Every address that could be an account's is answered alike, with
		// a 303; the attacks are none of them.
		"POST /forgot": {form: []string{"email"}, only: true, base: form("email", "nobody{n}@example.org"), mutates: true,
			caps: map[string]int{"email": governance.MaxEmailLen}, window: limits.ResetAddressLimit.Window},
		"GET /reset/:token": {ids: func(role) map[string]string { return map[string]string{"token": f.resetToken} }},
		// The two passwords never match, so the link stays open.
		"POST /reset/:token": {form: []string{"password", "password_repeat"},
			ids:  func(role) map[string]string { return map[string]string{"token": f.resetToken} },
			base: form("password", "a whole new password", "password_repeat", "another new password"),
			caps: map[string]int{"password": governance.MaxPasswordLen, "password_repeat": governance.MaxPasswordLen}},
		// A hostile token is not one of ours: 404, nothing changed. The
		// sample is the real link, which may set the choice it stops.
		"GET /unsubscribe/:token": {ids: func(role) map[string]string { return map[string]string{"token": f.unsubscribe} }},
		"POST /unsubscribe/:token": {ids: func(role) map[string]string { return map[string]string{"token": f.unsubscribe} },
			except: []string{"notification_prefs"}},
		"GET /setup": {query: []string{"token"}},
		"POST /setup": {form: []string{"token", "name", "email", "password", "statement"}, only: true,
			base: form("token", "bogus", "name", "Fay Founder", "email", "fay@example.org", "password", password), caps: detailsCaps},
		// Links that do not work are counted per address, and past a limit
		// every link is refused for a while.
		"GET /invite/:token": {ids: func(role) map[string]string { return map[string]string{"token": x.inviteToken} },
			except: []string{"rate_events"}, window: limits.InvitationLimit.Window},
		"POST /invite/:token": {form: []string{"name", "email", "password", "statement"}, only: true,
			ids:  func(role) map[string]string { return map[string]string{"token": x.inviteToken} },
			base: form("name", "Ivy Invitee", "email", "ivy{n}@example.org", "password", password), spoil: form("email", ""),
			mutates: true, caps: detailsCaps, stored: map[string]string{"name": "members.name"},
			except: []string{"rate_events"}, window: limits.InvitationLimit.Window,
			renew: func(t *testing.T) {
				x.resetAnonymous()
				_, x.inviteToken = f.app.invite(t, ad, "renewed")
			}},

		// Members.
		"GET /account":           {},
		"POST /account/calendar": {mutates: true},
		"POST /account/zone":     {form: []string{"time_zone"}, base: form("time_zone", "America/Argentina/Buenos_Aires"), mutates: true},
		"POST /account/name": {form: []string{"name"}, base: form("name", "Ada Admin"), mutates: true,
			caps: map[string]int{"name": governance.MaxNameLen}, stored: map[string]string{"name": "members.name"}},
		// A current password over the limit is refused before it is
		// hashed: these forms never succeed, and cost argon2id only when the
		// current password itself is attacked.
		"POST /account/email": {form: []string{"email", "current_password"},
			base: form("email", "new{n}@example.org", "current_password", strings.Repeat("p", governance.MaxPasswordLen+1)),
			caps: map[string]int{"email": governance.MaxEmailLen, "current_password": governance.MaxPasswordLen}},
		"POST /account/password": {form: []string{"current_password", "password"},
			base: form("current_password", strings.Repeat("p", governance.MaxPasswordLen+1), "password", "a brand new secret 77"),
			caps: map[string]int{"current_password": governance.MaxPasswordLen, "password": governance.MaxPasswordLen}},
		"POST /account/notifications": {form: []string{"voting_opened", "closing_soon", "result", "application", "digest_hour"},
			base:    form("voting_opened", "at_once", "closing_soon", "digest", "result", "never", "application", "at_once", "digest_hour", "9"),
			mutates: true},
		// A choice ballot's fields (choice_ballot, rank_i, approve) reach
		// this yes/no ballot too, refused whole; TestChoiceBallotsResistHostileInput
		// sends every payload at a ranked and an approval ballot.
		"POST /proposals/:id/vote": {form: []string{"choice", "receipt", "choice_ballot", "rank_0", "approve"}, query: []string{"box_page", "receipt"},
			ids: one(f.openProposal), base: form("choice", governance.ChoiceYes), mutates: true,
			foreign: func(r role) []string { return []string{id(f.discussion), id(f.closedProposal)} }},

		// Active members.
		"GET /library/new": {},
		"POST /library/new": {form: resourceFieldNames,
			base:    form("title", "Report {n}", "url", "https://example.org/report/{n}", "format", "report", "language", "en"),
			mutates: true, caps: resourceCaps, stored: resourceStored},
		"GET /library/:id/edit": {ids: own(f.memberResource, f.listedResource), foreign: notMine(f.listedResource)},
		"POST /library/:id/edit": {form: resourceFieldNames, ids: own(f.memberResource, f.listedResource),
			foreign: notMine(f.listedResource),
			base:    form("title", "Edited {n}", "url", "https://example.org/edited", "format", "report", "language", "en"),
			mutates: true, caps: resourceCaps, stored: resourceStored},
		"GET /proposals/new": {query: []string{"demand", "resource", "kind", "q", "resource_id"}},
		// The choice form's rows (label[N], member_id[N], statement[N]) have
		// names no table can list: TestChoiceFormTakesHostileInput sends them.
		"POST /proposals/new": {form: append(slices.Clip(proposalFieldNames), "method", "seats", "max_approvals", "office", "more"),
			base: form("kind", governance.KindMotion, "title", "Motion {n}", "body", "Because.", "opens", "later",
				"opens_at", f.app.Clock.Now().Add(72*time.Hour).Format("2006-01-02T15:04"), "days", "7", "hours", "0", "minutes", "0"),
			mutates: true, stored: map[string]string{"title": "proposals.title", "body": "proposals.body"},
			caps: map[string]int{"title": governance.MaxProposalTitleLen, "body": governance.MaxProposalBodyLen,
				"new_title": library.MaxDemandTitleLen, "new_body": library.MaxDemandBodyLen}},
		// The fixture endorses nothing, so every amendment is refused (the
		// resource is not endorsed) or its fields are: amend_test.go sends
		// hostile amendments of endorsed items.
		"GET /proposals/amend": {query: []string{"demand", "resource"}},
		"POST /proposals/amend": {form: amendFieldNames,
			base: form("kind", governance.KindAmendResource, "resource_id", id(f.listedResource), "title", "Amend {n}",
				"opens", "now", "days", "3", "hours", "0", "minutes", "0", "to_title", "Corrected {n}",
				"to_url", "https://example.org/corrected", "to_format", "report", "to_language", "en"),
			caps: map[string]int{"title": governance.MaxProposalTitleLen, "body": governance.MaxProposalBodyLen,
				"to_title": library.MaxTitleLen, "to_summary": library.MaxSummaryLen}},
		// Comments go to the proposal in discussion, so that the open one,
		// which the vote and withdraw attacks draw again and again, stays short.
		"POST /proposals/:id/comments": {form: []string{"body"}, query: []string{"box_page", "receipt"},
			ids: one(f.discussion), base: form("body", "I agree."), mutates: true,
			foreign: func(role) []string { return []string{id(f.closedProposal)} },
			caps:    map[string]int{"body": governance.MaxCommentLen}, stored: map[string]string{"body": "comments.body"}},
		// The active member wrote the open proposal; once voting is open it
		// cannot be withdrawn, so the page is drawn again with the refusal.
		"POST /proposals/:id/withdraw": {query: []string{"box_page", "receipt"}, main: activeMember, ids: one(f.openProposal),
			foreign: notMine(f.discussion)},
		"GET /demands/new": {query: []string{"resource"}},
		"POST /demands/new": {form: demandFieldNames,
			base:    form("title", "Demand {n}", "body", "Fund platform co-ops.", "audience", library.Audiences[0]),
			mutates: true, stored: map[string]string{"title": "demands.title", "body": "demands.body"},
			caps: map[string]int{"title": library.MaxDemandTitleLen, "body": library.MaxDemandBodyLen}},
		"GET /demands/:id/edit": {ids: own(f.memberDemand, f.adminDemand), foreign: notMine(f.adminDemand)},
		"POST /demands/:id/edit": {form: demandFieldNames, ids: own(f.memberDemand, f.adminDemand),
			foreign: notMine(f.adminDemand),
			base:    form("title", "Demand edited {n}", "body", "Fund platform co-ops.", "audience", library.Audiences[0]),
			mutates: true, stored: map[string]string{"title": "demands.title", "body": "demands.body"},
			caps: map[string]int{"title": library.MaxDemandTitleLen, "body": library.MaxDemandBodyLen}},

		// Admins. Each decision goes to a member it is refused for, so the
		// page is drawn again with what was typed, except a suspension, which
		// is undone after each success.
		"GET /admin/members":              {query: []string{"q", "status", "page"}},
		"GET /admin/members/:id":          {ids: member(f.users[activeMember])},
		"POST /admin/members/:id/approve": {form: memberForm, ids: member(f.users[activeMember])},
		"POST /admin/members/:id/reject": {form: memberForm, ids: member(f.users[activeMember]), base: form("reason", "Not a fit."),
			caps: map[string]int{"reason": governance.MaxReasonLen}},
		"POST /admin/members/:id/suspend": {form: memberForm, ids: member(f.bystander), base: form("reason", "Spam."), mutates: true,
			caps: map[string]int{"reason": governance.MaxReasonLen}, stored: map[string]string{"reason": "members.status_reason"},
			renew: func(t *testing.T) {
				if err := f.app.Gov.Reinstate(ctx, ad.Member, f.bystander.ID); err != nil {
					t.Fatalf("reinstate the suspended bystander: %v", err)
				}
			}},
		"POST /admin/members/:id/reinstate": {form: memberForm, ids: member(f.users[activeMember])},
		"POST /admin/members/:id/reset":     {ids: member(f.gone)}, // a member who has left: refused
		"POST /admin/members/:id/role":      {form: memberForm, ids: member(f.users[activeMember]), base: form("role", governance.RoleMember)},
		"POST /admin/members/:id/leave":     {form: memberForm, ids: member(ad)}, // the last admin
		"POST /admin/members/:id/erase":     {form: append(memberForm, "confirm"), ids: member(f.bystander), base: form("confirm", "no")},
		"GET /admin/invitations":            {},
		"POST /admin/invitations": {form: []string{"name", "email", "role", "note", "days"}, mutates: true,
			base:   form("name", "Pat {n}", "email", "pat{n}@example.org", "role", "member", "note", "For Pat", "days", "7"),
			caps:   map[string]int{"note": governance.MaxNoteLen, "name": governance.MaxNameLen, "email": governance.MaxEmailLen},
			stored: map[string]string{"note": "invitations.note", "name": "invitations.name"}},
		"POST /admin/invitations/:id/revoke": {ids: one(f.revokeID)}, // already revoked
		"GET /admin/rules":                   {},
		"GET /admin/settings":                {},
		"GET /admin/mail":                    {query: []string{"status", "kind", "page"}},
		// A queued message: refused, with the list drawn again.
		"POST /admin/mail/:id/resend":     {form: []string{"status", "kind", "page"}, ids: one(f.queuedMail)},
		"GET /admin/members/register.csv": {},
		"GET /admin/members/import":       {},
		"GET /admin/invitations/bulk":     {},
		// Confirmed, so that a roster the attacks leave right is acted on.
		"POST /admin/members/import": {form: []string{"csv", "days", "confirm"}, mutates: true,
			base: form("csv", "name,email\nIvo {n},ivo{n}@example.org\n", "confirm", "yes")},
		"POST /admin/invitations/bulk": {form: []string{"csv", "days", "confirm"}, mutates: true,
			base: form("csv", "name,email,role\nBea {n},bea{n}@example.org,member\n", "days", "7", "confirm", "yes")},
		"POST /admin/settings": {form: []string{"time_zone"}, base: form("time_zone", "Europe/Paris"), mutates: true},
		// The rules of a kind no other request here proposes under.
		"POST /admin/rules": {form: []string{"kind", "quorum_pct", "threshold", "min_minutes", "secret", "reminder_hours", "methods", "approval_pct",
			"proxy_cap", "early_close", "quorum_on"},
			base: form("kind", governance.KindWithdraw, "quorum_pct", "25", "threshold", governance.ThresholdMajority,
				"min_minutes", "4320", "secret", "true", "reminder_hours", "24"), mutates: true},
		"POST /admin/proposals/:id/cancel": {form: []string{"reason"}, query: []string{"box_page", "receipt"},
			ids: func(role) map[string]string { return map[string]string{"id": id(x.cancelTarget)} }, base: form("reason", "Out of order."),
			mutates: true, caps: map[string]int{"reason": governance.MaxReasonLen}, stored: map[string]string{"reason": "proposals.cancel_reason"},
			renew: func(t *testing.T) { x.cancelTarget = x.newDiscussion(t) }},
		"GET /admin/library": {query: []string{"status", "page"}},

		// Issue 15: proxies, recusals and general meetings. Each success
		// uses up its target (an appointment, an agenda item, a ballot, a
		// meeting); renew makes the next.
		"GET /proxies": {},
		"POST /proxies": {form: []string{"holder", "proposal"}, mutates: true,
			base: form("holder", id(f.principal.ID), "proposal", id(f.discussion))},
		"POST /proxies/:id/revoke": {main: activeMember, mutates: true,
			ids: func(role) map[string]string { return map[string]string{"id": id(x.revocable)} },
			foreign: func(r role) []string {
				if r == activeMember {
					return nil
				}
				return []string{id(x.revocable)}
			},
			renew: func(t *testing.T) { x.revocable = x.newAppointment(t) }},
		"GET /proposals/:id/proxies": {ids: one(f.proxyBallot), foreign: notPublic(f.proxyBallot)},
		// Only the holder reaches the principal's ballot: to the others it
		// is not there.
		"POST /proposals/:id/proxies/:principal": {form: []string{"choice", "choice_ballot", "rank_0", "approve"}, main: activeMember,
			ids: func(role) map[string]string {
				return map[string]string{"id": id(f.proxyBallot), "principal": id(f.principal.ID)}
			},
			foreign: func(r role) []string {
				if r == activeMember {
					return nil
				}
				return []string{id(f.proxyBallot)}
			},
			base: form("choice", governance.ChoiceYes), mutates: true},
		"POST /proposals/:id/recuse": {form: []string{"reason"}, query: []string{"box_page", "receipt"},
			ids:  func(role) map[string]string { return map[string]string{"id": id(x.recuseTarget)} },
			base: form("reason", "A conflict {n}"), mutates: true, caps: map[string]int{"reason": 500},
			stored: map[string]string{"reason": "recusals.reason"},
			renew:  func(t *testing.T) { x.recuseTarget = x.newLiveBallot(t) }},
		"GET /meetings":     {},
		"GET /meetings/new": {},
		"POST /meetings/new": {form: []string{"title", "starts_at", "place", "link"}, mutates: true,
			base: form("title", "Meeting {n}", "starts_at", f.app.Clock.Now().Add(2*time.Hour).Format("2006-01-02T15:04"), "place", "The hall"),
			caps: map[string]int{"title": 200, "place": 300}, stored: map[string]string{"title": "meetings.title", "place": "meetings.place"}},
		"GET /meetings/:id":            {ids: one(f.meeting)},
		"GET /meetings/:id/screen":     {ids: one(f.liveMeeting), query: []string{"still"}},
		"GET /meetings/:id/minutes":    {ids: one(f.closedMeeting), foreign: notPublic(f.meeting)},
		"GET /meetings/:id/minutes.md": {ids: one(f.closedMeeting), foreign: notPublic(f.liveMeeting)},
		"POST /meetings/:id/checkin":   {form: []string{"code"}, ids: one(f.meeting), base: form("code", f.meetingCode), mutates: true},
		"POST /meetings/:id/present":   {form: []string{"member"}, ids: one(f.meeting), base: form("member", id(f.principal.ID)), mutates: true},
		"POST /meetings/:id/items": {form: []string{"proposal"}, ids: one(f.meeting), mutates: true,
			base:  form("proposal", id(f.agendable)),
			renew: func(t *testing.T) { x.agendable = x.newDiscussion(t) }},
		"POST /meetings/:id/items/:pid/open": {mutates: true,
			ids: func(role) map[string]string { return map[string]string{"id": id(f.liveMeeting), "pid": id(x.liveItem)} },
			renew: func(t *testing.T) {
				x.liveItem = x.newDiscussion(t)
				if err := f.app.Gov.AddItem(ctx, ad.Member, f.liveMeeting, x.liveItem); err != nil {
					t.Fatal(err)
				}
			}},
		"POST /meetings/:id/items/:pid/close": {mutates: true,
			ids:   func(role) map[string]string { return map[string]string{"id": id(f.liveMeeting), "pid": id(x.closable)} },
			renew: func(t *testing.T) { x.closable = x.newLiveBallot(t) }},
		"POST /meetings/:id/close": {mutates: true,
			ids:   func(role) map[string]string { return map[string]string{"id": id(x.toClose)} },
			renew: func(t *testing.T) { x.toClose = x.newMeeting(t) }},
		"POST /admin/library/:id/status": {form: []string{"status", "back"}, ids: one(f.queued),
			base: form("status", library.StatusHidden, "back", "/admin/library?status=hidden"), mutates: true},
	}
}

var (
	resourceFieldNames = []string{"title", "url", "authors", "publisher", "year", "format", "language", "region", "topics",
		"licence", "summary", "doi", "isbn"}
	proposalFieldNames = []string{"kind", "title", "body", "demand_id", "resource_id", "new_title", "new_body", "new_audience",
		"opens", "opens_at", "days", "hours", "minutes"}
	demandFieldNames = []string{"title", "body", "audience", "resources"}
	amendFieldNames  = []string{"kind", "resource_id", "demand_id", "title", "body", "opens", "opens_at", "days", "hours", "minutes",
		"to_title", "to_url", "to_authors", "to_publisher", "to_year", "to_format", "to_language", "to_region", "to_topics",
		"to_licence", "to_summary", "to_doi", "to_isbn", "to_body", "to_audience", "to_resources"}
)

// injector sends the attacks and keeps what they need between requests.
type injector struct {
	f      *routeFixture
	anon   *client
	tokens map[*client]string
	n      int
	// version and snap are the database as the last request left it.
	version int64
	snap    snapshot
	// targets that successful requests use up
	inviteToken  string
	cancelTarget int64
	// issue 15's (meetings_test.go)
	revocable, recuseTarget, agendable, liveItem, closable, toClose int64
	// pages is where accepted hostile input can now be seen.
	pages map[string]bool
	// sent counts the requests, and places each route and parameter
	// attacked.
	sent   int
	places map[string]bool
}

func newInjector(t *testing.T, f *routeFixture) *injector {
	t.Helper()
	x := &injector{f: f, anon: f.app.client(), tokens: map[*client]string{}, pages: map[string]bool{}, places: map[string]bool{}}
	x.inviteToken = f.openToken
	x.cancelTarget = f.toCancel
	x.revocable, x.recuseTarget, x.agendable, x.liveItem, x.closable, x.toClose = f.revocable, f.proxyBallot, f.agendable, f.liveItem,
		f.closable, f.toClose
	if err := f.app.Gov.RevokeInvitation(context.Background(), f.users[admin].Member, f.revokeID); err != nil {
		t.Fatal(err)
	}
	x.rebase(t)
	return x
}

func (x *injector) resetAnonymous() {
	delete(x.tokens, x.anon)
	x.anon = x.f.app.client()
}

func (x *injector) newDiscussion(t *testing.T) int64 {
	t.Helper()
	a := x.f.app
	p, err := a.Gov.Propose(context.Background(), x.f.users[admin].Member, governance.ProposalInput{Kind: governance.KindMotion,
		Title: "Another motion to cancel", Opens: "later", OpensAt: a.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04"), Days: "7"})
	if err != nil {
		t.Fatalf("propose a motion to cancel: %v", err)
	}
	return p.ID
}

// rebase takes the database as it is now as the state to compare with:
// with a fingerprint of its tables apart from except, if there are any.
func (x *injector) rebase(t *testing.T, except ...string) {
	t.Helper()
	v, err := x.f.app.DB.DataVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x.version, x.snap = v, nil
	if len(except) > 0 {
		x.snap = x.f.app.snapshot(t, except...)
	}
}

// changed says what the last request changed in the database, and takes
// the database as it is now as the state to compare with. SQLite's
// data_version moves with every commit, which is all it takes to know
// that a request changed nothing: a request that commits anything has
// changed the database. Only where some tables may change (except) are the
// tables compared, against the fingerprint rebase took.
func (x *injector) changed(t *testing.T, except []string) []string {
	t.Helper()
	v, err := x.f.app.DB.DataVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v == x.version {
		return nil
	}
	x.version = v
	if len(except) == 0 || x.snap == nil {
		x.snap = nil
		return []string{"(a commit)"}
	}
	now := x.f.app.snapshot(t, except...)
	var out []string
	for table, before := range x.snap {
		if now[table] != before {
			out = append(out, table)
		}
	}
	for table := range now {
		if _, ok := x.snap[table]; !ok {
			out = append(out, table)
		}
	}
	slices.Sort(out)
	x.snap = now
	return out
}

func (x *injector) client(r role) *client {
	if r == anonymous {
		return x.anon
	}
	return x.f.clients[r]
}

func (x *injector) token(t *testing.T, c *client) string {
	t.Helper()
	if tok, ok := x.tokens[c]; ok {
		return tok
	}
	tok := c.csrf(t, "/login")
	x.tokens[c] = tok
	return tok
}

// attack is one request: a route, a role, and the one place a hostile value
// goes.
type attack struct {
	route, method, pattern string
	e                      injRoute
	r                      role
	where                  string // "path id", "query q", "form title", or "" for none
	p                      payload
	foreign                bool // the path holds the id of something r may not touch
}

func (a attack) String() string {
	s := fmt.Sprintf("%s as %s", a.route, roleNames[a.r])
	if a.where != "" {
		s += fmt.Sprintf(", %s in %s", a.p.name, a.where)
	}
	return s
}

func (x *injector) send(t *testing.T, a attack) *response {
	t.Helper()
	x.n++
	x.sent++
	x.places[a.route+" "+a.where] = true
	n := strconv.Itoa(x.n)
	kind, name, _ := strings.Cut(a.where, " ")

	ids := map[string]string{}
	if a.e.ids != nil {
		ids = a.e.ids(a.r)
	}
	if kind == "path" {
		ids[name] = a.p.value
	}
	var segs []string
	for _, seg := range strings.Split(a.pattern, "/") {
		if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
			v, ok := ids[seg[1:]]
			if !ok {
				t.Fatalf("%s: no value for %s", a.route, seg)
			}
			seg = url.PathEscape(v)
		}
		segs = append(segs, seg)
	}
	target := strings.Join(segs, "/")
	switch {
	case kind == "query":
		target += "?" + url.Values{name: {a.p.value}}.Encode()
	case kind == "junk":
		junk := url.Values{}
		for i, p := range hostile {
			if p.sample {
				junk.Set("x"+strconv.Itoa(i), p.value)
			}
		}
		target += "?" + junk.Encode()
	case kind == "many":
		target += "?" + url.Values{name: slices.Repeat([]string{a.p.value, "x"}, 40)}.Encode()
	}

	c := x.client(a.r)
	if a.method != http.MethodPost {
		return c.request(t, a.method, target, "", nil)
	}
	values := url.Values{}
	for k, vs := range a.e.base {
		for _, v := range vs {
			values.Add(k, strings.ReplaceAll(v, "{n}", n))
		}
	}
	if !a.p.sample && kind != "" {
		for k, vs := range a.e.spoil {
			if k != name {
				values[k] = vs
			}
		}
	}
	if kind == "form" {
		values.Set(name, a.p.value)
	}
	values.Set("csrf_token", x.token(t, c))
	return c.post(t, target, values)
}

// check looks at one answer: no error text, no raw markup, no redirect off
// the site, and the database changed only by a request meant to change it
// that succeeded, keeping what was typed.
func (x *injector) check(t *testing.T, a attack, res *response) {
	t.Helper()
	lower := strings.ToLower(res.Body)
	for _, mark := range leakMarks {
		if strings.Contains(lower, mark) {
			t.Errorf("%s: answered %d with error text %q in the body:\n%s", a, res.Status, mark, excerpt(res.Body))
		}
	}
	ct := res.Header.Get("Content-Type")
	download := strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment")
	if download && (strings.Contains(ct, "html") || res.Header.Get("X-Content-Type-Options") != "nosniff") {
		t.Errorf("%s: a download of type %q (nosniff %q) a browser might show as a page", a, ct, res.Header.Get("X-Content-Type-Options"))
	}
	// A download (an export file) holds what was stored as it is, for
	// other programs to read; it is never shown as a page.
	if !download && (strings.Contains(ct, "html") || strings.Contains(ct, "json") || strings.Contains(ct, "xml")) {
		for _, mark := range rawMarks {
			if strings.Contains(res.Body, mark) {
				t.Errorf("%s: the %s body holds raw markup %q", a, ct, mark)
			}
		}
		for i := 0; ; {
			j := strings.Index(lower[i:], "javascript:")
			if j < 0 {
				break
			}
			i += j + 1
			if m := scriptURL.FindString(lower[max(0, i-40) : i+10]); m != "" {
				t.Errorf("%s: the body links to script: %q", a, m)
			}
		}
	}
	for _, k := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(k, "evil") {
			t.Errorf("%s: a header was injected: Set-Cookie %q", a, k)
		}
	}
	loc := res.Location()
	if loc != "" && !isLocal(loc) {
		t.Errorf("%s: redirects off the site, to %q", a, loc)
	}

	success := res.Status == http.StatusSeeOther && !strings.HasPrefix(loc, "/login")
	if a.foreign && (success || res.Status < 300) {
		t.Errorf("%s: answered %d (%s) for something %s may not touch", a, res.Status, loc, roleNames[a.r])
	}
	changed := x.changed(t, a.e.except)
	if len(changed) > 0 && !(a.e.mutates && success) {
		t.Errorf("%s: answered %d and changed the database: %v", a, res.Status, changed)
	}
	if !(a.e.mutates && success) {
		return
	}
	if strings.HasPrefix(loc, "/library/") || strings.HasPrefix(loc, "/demands/") || strings.HasPrefix(loc, "/proposals/") {
		p, _, _ := strings.Cut(loc, "#")
		x.pages[p] = true
	}
	kind, name, _ := strings.Cut(a.where, " ")
	if col, ok := a.e.stored[name]; ok && kind == "form" {
		table, column, _ := strings.Cut(col, ".")
		var n int
		// As typed, or trimmed, or with a browser's CRLF line breaks as LF.
		v := a.p.value
		lf := strings.ReplaceAll(strings.TrimSpace(v), "\r\n", "\n")
		err := x.f.app.DB.R.Get(&n, `SELECT count(*) FROM "`+table+`" WHERE "`+column+`" IN (?, ?, ?)`, v, strings.TrimSpace(v), lf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s: accepted (%s), but %s holds no row with the text as typed", a, loc, col)
		}
	}
	if a.e.renew != nil {
		a.e.renew(t)
		x.rebase(t, a.e.except...)
	}
}

// isLocal reports whether a redirect stays on this site.
func isLocal(loc string) bool {
	if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") || strings.ContainsAny(loc, "\r\n\t\\") {
		return false
	}
	u, err := url.Parse(loc)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// pathParams are the :name and *name parts of a route pattern.
func pathParams(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
			out = append(out, seg[1:])
		}
	}
	return out
}

func isPassword(field string) bool { return strings.Contains(field, "password") }

// TestHostileInputThroughEveryParameterOfEveryRoute sends hostile values
// through every path parameter, query parameter and form field of every
// registered route. Reading routes and writing routes run side by side,
// each on a co-op of its own.
func TestHostileInputThroughEveryParameterOfEveryRoute(t *testing.T) {
	t.Parallel()
	for _, shard := range []struct {
		name    string
		methods []string
	}{{"reading", []string{http.MethodGet, http.MethodHead}}, {"writing", []string{http.MethodPost}}} {
		t.Run(shard.name, func(t *testing.T) {
			t.Parallel()
			f := newRouteFixture(t)
			x := newInjector(t, f)
			start := time.Now()
			routes := slices.DeleteFunc(f.app.Srv.Routes(), func(route string) bool {
				method, _, _ := strings.Cut(route, " ")
				return !slices.Contains(shard.methods, method)
			})
			slices.Sort(routes)
			x.attackRoutes(t, injTable(f, x), scanHandlers(t), routes)
			if shard.name == "writing" {
				x.revisit(t)
			}
			t.Logf("%d routes, %d places (parameters, or none), %d requests in %v", len(routes), len(x.places), x.sent,
				time.Since(start).Round(time.Millisecond))
		})
	}
}

// attackRoutes sends every route its attacks, as each role.
func (x *injector) attackRoutes(t *testing.T, table map[string]injRoute, scan handlerScan, routes []string) {
	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		e, ok := table[route]
		if !ok {
			// Not in the table yet (TestHandlersReadOnlyTheParametersTheInjectionTableLists
			// says so): attack what the source says it reads, as an admin.
			if r, ok := scan.routes[route]; ok {
				e.query, e.form = slices.Sorted(maps.Keys(r.query)), slices.Sorted(maps.Keys(r.form))
			}
		}
		t.Run(route, func(t *testing.T) {
			main := e.mainRole()
			roles := []role{main}
			if !e.only {
				for _, r := range []role{anonymous, applicant, activeMember, admin} {
					if r != main {
						roles = append(roles, r)
					}
				}
			}
			x.rebase(t, e.except...)
			for _, r := range roles {
				list := x.attacks(route, e, r == main)
				for i := range list {
					list[i].r = r
				}
				if len(list) == 0 {
					list = append(list, attack{route: route, method: method, pattern: pattern, e: e, r: r, where: "junk parameters",
						p: payload{name: "the sample", sample: true}})
				}
				if e.foreign != nil && slices.Contains(pathParams(pattern), "id") {
					for _, v := range e.foreign(r) {
						list = append(list, attack{route: route, method: method, pattern: pattern, e: e, r: r, where: "path id",
							p: payload{name: "the id of something not theirs, " + v, value: v, sample: true}, foreign: true})
					}
				}
				for i, a := range list {
					res := x.send(t, a)
					if res.Status == http.StatusTooManyRequests && e.window > 0 {
						x.check(t, a, res)
						x.f.app.Clock.Advance(e.window + time.Minute)
						res = x.send(t, a)
					}
					x.check(t, a, res)
					// Another role that does not get past the door (sent to log
					// in, or refused) has nothing more to show.
					if i == 0 && r != main && !a.foreign &&
						(res.Status == http.StatusForbidden || strings.HasPrefix(res.Location(), "/login")) {
						list = slices.DeleteFunc(list[1:], func(a attack) bool { return !a.foreign })
						for _, a := range list {
							x.check(t, a, x.send(t, a))
						}
						break
					}
				}
			}
			if e.after != nil {
				e.after(t)
			}
		})
	}
}

// attacks lists the requests for one route: every payload for each
// parameter from the main role, the sample from the others.
func (x *injector) attacks(route string, e injRoute, main bool) []attack {
	method, pattern, _ := strings.Cut(route, " ")
	var list []attack
	add := func(where string, ps []payload, secret bool) {
		for _, p := range ps {
			if (!main || secret) && !p.sample {
				continue
			}
			if secret && !main {
				continue
			}
			list = append(list, attack{route: route, method: method, pattern: pattern, e: e, where: where, p: p})
		}
	}
	for _, name := range pathParams(pattern) {
		add("path "+name, payloadsFor(name, true), false)
	}
	for _, name := range e.query {
		add("query "+name, payloadsFor(name, false), false)
		if limit, ok := e.caps[name]; ok && main && method == http.MethodGet {
			add("query "+name, capped(limit), false)
		}
		if main {
			add("many "+name, []payload{{"80 values", scriptTag, "core", true}}, false)
		}
	}
	if method == http.MethodPost {
		for _, name := range e.form {
			add("form "+name, payloadsFor(name, false), isPassword(name))
			if limit, ok := e.caps[name]; ok && main {
				add("form "+name, capped(limit), isPassword(name))
			}
		}
	}
	return list
}

// revisit reads again, as each role, the pages that now show what the
// attacks stored: nothing in them may be raw markup or error text.
func (x *injector) revisit(t *testing.T) {
	t.Run("pages showing what was accepted escape it", func(t *testing.T) {
		f := x.f
		for _, p := range []string{"/", "/library", "/demands", "/proposals", "/ledger", "/account", "/admin/members",
			"/admin/library", "/admin/library?status=hidden", "/admin/invitations", "/library/feed.atom", "/feed.atom",
			"/api/v1/resources", "/api/v1/demands", "/api/v1/ledger", "/library/export.json", "/library/export.csl.json",
			"/admin/members/" + strconv.FormatInt(f.bystander.ID, 10), "/proposals/" + strconv.FormatInt(f.discussion, 10)} {
			for _, r := range []role{anonymous, activeMember, admin} {
				x.check(t, attack{route: "GET " + p, r: r}, x.client(r).get(t, p))
			}
		}
		// Each page made by an accepted attack, as the admin, who sees them all.
		for _, p := range slices.Sorted(maps.Keys(x.pages)) {
			x.check(t, attack{route: "GET " + p, r: admin}, x.client(admin).get(t, p))
		}
		if len(x.pages) < 10 {
			t.Errorf("only %d pages hold accepted hostile input; the attacks should have made more", len(x.pages))
		}
	})
}

// handlerReads is what the handlers of one route read from the request,
// found in the source.
type handlerReads struct {
	query, form, path map[string]bool
}

type handlerScan struct {
	routes   map[string]*handlerReads
	problems []string
}

// TestHandlersReadOnlyTheParametersTheInjectionTableLists keeps the
// injection table honest: it reads server/*.go, follows each route from
// routes.go through every function its handlers reach, and collects the
// names given to c.Query, c.PostForm, c.Param and their kin.
func TestHandlersReadOnlyTheParametersTheInjectionTableLists(t *testing.T) {
	t.Parallel()
	scan := scanHandlers(t)
	for _, p := range scan.problems {
		t.Error(p)
	}
	f := &routeFixture{app: &app{Clock: newClock(), Gov: governance.New(nil, time.Now)}}
	table := injTable(f, &injector{})
	a := newApp(t)
	registered := a.Srv.Routes()
	for _, route := range registered {
		method, pattern, _ := strings.Cut(route, " ")
		e, inTable := table[route]
		r, scanned := scan.routes[route]
		if !scanned {
			if strings.HasPrefix(pattern, "/static/") {
				continue // gin's file server, which reads only *filepath
			}
			t.Errorf("%s is registered, but the scan of routes.go did not find it: teach scanHandlers how it is registered", route)
			continue
		}
		if !inTable {
			t.Errorf("%s reads query %v, form %v and path %v, and has no entry in injTable: add one so hostile input reaches it",
				route, slices.Sorted(maps.Keys(r.query)), slices.Sorted(maps.Keys(r.form)), slices.Sorted(maps.Keys(r.path)))
			continue
		}
		for _, x := range []struct {
			what   string
			listed []string
			read   map[string]bool
		}{{"query parameter", e.query, r.query}, {"form field", e.form, r.form}} {
			for name := range x.read {
				if !slices.Contains(x.listed, name) {
					t.Errorf("%s reads the %s %q, which injTable does not list: add it so hostile input reaches it", route, x.what, name)
				}
			}
			for _, name := range x.listed {
				if !x.read[name] {
					t.Errorf("injTable lists the %s %q for %s, which its handlers never read", x.what, name, route)
				}
			}
		}
		if len(e.form) > 0 && method != http.MethodPost {
			t.Errorf("injTable lists form fields for %s, which is not a POST", route)
		}
		for name := range r.path {
			if !slices.Contains(pathParams(pattern), name) {
				t.Errorf("%s reads the path parameter %q, which its pattern does not have", route, name)
			}
		}
		for _, name := range pathParams(pattern) {
			if !r.path[name] {
				t.Errorf("%s has the path parameter %q, which its handlers never read", route, name)
			}
		}
	}
	for route := range table {
		if !slices.Contains(registered, route) {
			t.Errorf("injTable lists %q, which is not a registered route", route)
		}
	}
	if len(scan.routes) < 50 {
		t.Errorf("the scan found only %d routes", len(scan.routes))
	}
}

// Accessors of *gin.Context, by what they read.
var (
	queryAccessors = []string{"Query", "DefaultQuery", "QueryArray", "GetQuery", "GetQueryArray", "QueryMap", "GetQueryMap"}
	formAccessors  = []string{"PostForm", "DefaultPostForm", "PostFormArray", "GetPostForm", "GetPostFormArray", "PostFormMap", "GetPostFormMap"}
	bothAccessors  = []string{"FormValue", "PostFormValue"}
	bindAccessors  = regexp.MustCompile(`^(Should)?Bind`)
)

// forwarder is a function that reads the parameter named by one of its
// own arguments: postedForm(c, names...) or a local year(name) closure.
type forwarder struct {
	index    int
	variadic bool
	kinds    []string
}

// scanner walks the server package's source.
type scanner struct {
	fset     *token.FileSet
	funcs    map[string]*ast.FuncDecl   // package functions
	methods  map[string][]*ast.FuncDecl // methods, by name
	lists    map[string][]string        // package-level []string variables of literals
	params   map[*ast.Field]fieldOwner  // every parameter, and the function it belongs to
	forwards map[ast.Node]forwarder     // FuncDecl or FuncLit
	problems []string
}

type fieldOwner struct {
	fn       ast.Node
	index    int
	variadic bool
}

// funcReads is what one function reads itself and which functions it refers to.
type funcReads struct {
	reads map[string]map[string]bool // kind → names
	calls []*ast.FuncDecl
}

func scanHandlers(t *testing.T) handlerScan {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	s := &scanner{fset: token.NewFileSet(), funcs: map[string]*ast.FuncDecl{}, methods: map[string][]*ast.FuncDecl{},
		lists: map[string][]string{}, params: map[*ast.Field]fieldOwner{}, forwards: map[ast.Node]forwarder{}}
	var parsed []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(s.fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, file)
	}
	var routesFn *ast.FuncDecl
	for _, file := range parsed {
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					s.methods[d.Name.Name] = append(s.methods[d.Name.Name], d)
					if d.Name.Name == "routes" {
						routesFn = d
					}
				} else {
					s.funcs[d.Name.Name] = d
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					vs, ok := spec.(*ast.ValueSpec)
					if !ok {
						continue
					}
					for i, v := range vs.Values {
						if lit, ok := v.(*ast.CompositeLit); ok && i < len(vs.Names) {
							if strs, ok := stringLits(lit.Elts); ok {
								s.lists[vs.Names[i].Name] = strs
							}
						}
					}
				}
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			var ft *ast.FuncType
			switch fn := n.(type) {
			case *ast.FuncDecl:
				ft = fn.Type
			case *ast.FuncLit:
				ft = fn.Type
			default:
				return true
			}
			i := 0
			for _, field := range ft.Params.List {
				_, variadic := field.Type.(*ast.Ellipsis)
				s.params[field] = fieldOwner{fn: n, index: i, variadic: variadic}
				i += max(1, len(field.Names))
			}
			return true
		})
	}
	if routesFn == nil {
		t.Fatal("no routes method in server/*.go")
	}
	// First find the forwarders, including those that pass their names on
	// to another (accountFailed(…, fields...) to postedForm), then what each
	// function reads.
	for n := -1; n != len(s.forwards); {
		n = len(s.forwards)
		for _, file := range parsed {
			ast.Inspect(file, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					s.findForwarder(call)
				}
				return true
			})
		}
	}
	reads := map[*ast.FuncDecl]*funcReads{}
	for _, file := range parsed {
		for _, decl := range file.Decls {
			if d, ok := decl.(*ast.FuncDecl); ok && d.Body != nil && d != routesFn {
				reads[d] = s.readsOf(d.Body)
			}
		}
	}

	out := handlerScan{routes: map[string]*handlerReads{}}
	type group struct {
		prefix string
		mws    []ast.Expr
	}
	groups := map[string]group{}
	for _, stmt := range routesFn.Body.List {
		switch st := stmt.(type) {
		case *ast.AssignStmt:
			if len(st.Lhs) != 1 || len(st.Rhs) != 1 {
				continue
			}
			name := st.Lhs[0].(*ast.Ident).Name
			if call, ok := st.Rhs[0].(*ast.CallExpr); ok {
				sel, _ := call.Fun.(*ast.SelectorExpr)
				if sel == nil || sel.Sel.Name != "Group" {
					continue
				}
				parent := groups[sel.X.(*ast.Ident).Name]
				rel, _ := strconv.Unquote(call.Args[0].(*ast.BasicLit).Value)
				groups[name] = group{prefix: joinPaths(parent.prefix, rel), mws: append(slices.Clone(parent.mws), call.Args[1:]...)}
			} else {
				groups[name] = group{} // the engine
			}
		case *ast.ExprStmt:
			call, ok := st.X.(*ast.CallExpr)
			if !ok {
				continue
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				continue
			}
			recv, ok := sel.X.(*ast.Ident)
			if !ok {
				continue
			}
			g := groups[recv.Name]
			switch method := sel.Sel.Name; method {
			case "Use":
				g.mws = append(g.mws, call.Args...)
				groups[recv.Name] = g
			case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
				rel, _ := strconv.Unquote(call.Args[0].(*ast.BasicLit).Value)
				route := method + " " + joinPaths(g.prefix, rel)
				hr := &handlerReads{query: map[string]bool{}, form: map[string]bool{}, path: map[string]bool{}}
				// What the route's middleware and handlers read, and every
				// function they reach.
				root := &funcReads{reads: map[string]map[string]bool{}}
				for _, expr := range append(slices.Clone(g.mws), call.Args[1:]...) {
					r := s.readsOf(expr)
					merge(root, r)
				}
				seen := map[*ast.FuncDecl]bool{}
				queue := slices.Clone(root.calls)
				collect := func(r *funcReads) {
					for kind, names := range r.reads {
						for n := range names {
							if n == "csrf_token" { // checked by the middleware on every POST, and tested on its own
								continue
							}
							map[string]map[string]bool{"query": hr.query, "form": hr.form, "path": hr.path}[kind][n] = true
						}
					}
				}
				collect(root)
				for len(queue) > 0 {
					d := queue[0]
					queue = queue[1:]
					if seen[d] {
						continue
					}
					seen[d] = true
					if r := reads[d]; r != nil {
						collect(r)
						queue = append(queue, r.calls...)
					}
				}
				out.routes[route] = hr
			}
		}
	}
	out.problems = s.problems
	return out
}

func merge(into, r *funcReads) {
	for kind, names := range r.reads {
		if into.reads[kind] == nil {
			into.reads[kind] = map[string]bool{}
		}
		for n := range names {
			into.reads[kind][n] = true
		}
	}
	into.calls = append(into.calls, r.calls...)
}

// joinPaths joins a group's prefix and a route's path as gin does.
func joinPaths(abs, rel string) string {
	if rel == "" {
		return abs
	}
	p := path.Join("/"+abs, rel)
	if strings.HasSuffix(rel, "/") && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func stringLits(exprs []ast.Expr) ([]string, bool) {
	var out []string
	for _, e := range exprs {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, false
		}
		s, _ := strconv.Unquote(lit.Value)
		out = append(out, s)
	}
	return out, true
}

// accessorKinds says what a call named name reads: query, form, path, or
// nothing.
func accessorKinds(name string) []string {
	switch {
	case slices.Contains(queryAccessors, name):
		return []string{"query"}
	case slices.Contains(formAccessors, name):
		return []string{"form"}
	case slices.Contains(bothAccessors, name):
		return []string{"query", "form"}
	case name == "Param" || name == "ByName":
		return []string{"path"}
	}
	return nil
}

// accessor reports what call reads, and the expression naming the
// parameter: c.Query("q"), c.Request.PostForm.Get("csrf_token"),
// c.Request.URL.Query().Get("x").
func accessor(call *ast.CallExpr) (kinds []string, arg ast.Expr) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || len(call.Args) == 0 {
		return nil, nil
	}
	if sel.Sel.Name == "Get" {
		switch inner := sel.X.(type) {
		case *ast.SelectorExpr: // x.PostForm.Get, x.Form.Get
			switch inner.Sel.Name {
			case "PostForm":
				return []string{"form"}, call.Args[0]
			case "Form":
				return []string{"query", "form"}, call.Args[0]
			}
		case *ast.CallExpr: // x.URL.Query().Get
			if s, ok := inner.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "Query" && len(inner.Args) == 0 {
				return []string{"query"}, call.Args[0]
			}
		}
		return nil, nil
	}
	if k := accessorKinds(sel.Sel.Name); k != nil {
		return k, call.Args[0]
	}
	return nil, nil
}

// forwardedParam finds the argument of its own function that id names,
// directly or as the variable ranging over it: c.PostForm(n) inside
// postedForm(c, names...), or c.Query(name) inside year(name).
func (s *scanner) forwardedParam(id *ast.Ident) (fieldOwner, bool) {
	if id.Obj == nil {
		return fieldOwner{}, false
	}
	var field *ast.Field
	ranged := false
	switch d := id.Obj.Decl.(type) {
	case *ast.Field:
		field = d
	case *ast.AssignStmt: // for _, n := range names
		if len(d.Rhs) == 1 {
			if u, ok := d.Rhs[0].(*ast.UnaryExpr); ok && u.Op == token.RANGE {
				if x, ok := u.X.(*ast.Ident); ok && x.Obj != nil {
					field, _ = x.Obj.Decl.(*ast.Field)
					ranged = true
				}
			}
		}
	}
	owner, ok := s.params[field]
	owner.variadic = owner.variadic || ranged
	return owner, ok
}

// findForwarder records the function around call as a forwarder when call
// reads a parameter named by one of that function's arguments.
func (s *scanner) findForwarder(call *ast.CallExpr) {
	record := func(arg ast.Expr, kinds []string) {
		if id, ok := arg.(*ast.Ident); ok {
			if owner, ok := s.forwardedParam(id); ok {
				s.forwards[owner.fn] = forwarder{index: owner.index, variadic: owner.variadic, kinds: kinds}
			}
		}
	}
	if kinds, arg := accessor(call); kinds != nil {
		record(arg, kinds)
	}
	for _, fn := range s.callee(call) {
		if fw, ok := s.forwards[fn]; ok {
			for _, arg := range forwardedArgs(call, fw) {
				record(arg, fw.kinds)
			}
		}
	}
}

// forwardedArgs are the arguments of call that name parameters for fw.
func forwardedArgs(call *ast.CallExpr, fw forwarder) []ast.Expr {
	var out []ast.Expr
	for i, arg := range call.Args {
		if i == fw.index || (i > fw.index && fw.variadic) {
			out = append(out, arg)
		}
	}
	return out
}

// callee is the function a call calls, if it is one of the package's.
func (s *scanner) callee(call *ast.CallExpr) []ast.Node {
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		if fn.Obj != nil {
			if as, ok := fn.Obj.Decl.(*ast.AssignStmt); ok { // year := func(name string) int {...}
				for i, lhs := range as.Lhs {
					if l, ok := lhs.(*ast.Ident); ok && l.Name == fn.Name && i < len(as.Rhs) {
						if lit, ok := as.Rhs[i].(*ast.FuncLit); ok {
							return []ast.Node{lit}
						}
					}
				}
			}
		}
		if d, ok := s.funcs[fn.Name]; ok {
			return []ast.Node{d}
		}
	case *ast.SelectorExpr:
		var out []ast.Node
		for _, d := range s.methods[fn.Sel.Name] {
			out = append(out, d)
		}
		return out
	}
	return nil
}

// readsOf collects what the code under n reads and which package functions
// it refers to.
func (s *scanner) readsOf(n ast.Node) *funcReads {
	r := &funcReads{reads: map[string]map[string]bool{}}
	add := func(kinds []string, name string) {
		for _, k := range kinds {
			if r.reads[k] == nil {
				r.reads[k] = map[string]bool{}
			}
			r.reads[k][name] = true
		}
	}
	where := func(n ast.Node) string { return s.fset.Position(n.Pos()).String() }
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if kinds, arg := accessor(n); kinds != nil {
				switch a := arg.(type) {
				case *ast.BasicLit:
					name, _ := strconv.Unquote(a.Value)
					add(kinds, name)
				case *ast.Ident:
					// A forwarder's own read: its callers say the names.
					if _, ok := s.forwardedParam(a); !ok {
						s.problems = append(s.problems, where(n)+": a request parameter is read under a name the scan cannot follow")
					}
				default:
					s.problems = append(s.problems, where(n)+": a request parameter is read under a name the scan cannot follow")
				}
			}
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && bindAccessors.MatchString(sel.Sel.Name) && len(s.methods[sel.Sel.Name]) == 0 {
				s.problems = append(s.problems, where(n)+": "+sel.Sel.Name+" binds request parameters the scan cannot list; read them by name")
			}
			for _, fn := range s.callee(n) {
				fw, ok := s.forwards[fn]
				if !ok {
					continue
				}
				for _, arg := range forwardedArgs(n, fw) {
					switch a := arg.(type) {
					case *ast.BasicLit:
						name, _ := strconv.Unquote(a.Value)
						add(fw.kinds, name)
					case *ast.Ident:
						if list, ok := s.lists[a.Name]; ok && n.Ellipsis.IsValid() {
							for _, name := range list {
								add(fw.kinds, name)
							}
						} else if _, ok := s.forwardedParam(a); !ok {
							s.problems = append(s.problems, where(n)+": parameter names passed in "+a.Name+", which the scan cannot follow")
						}
					default:
						s.problems = append(s.problems, where(n)+": parameter names passed in an expression the scan cannot follow")
					}
				}
			}
		case *ast.RangeStmt:
			// A family of fields read by ranging over the posted keys and
			// cutting a prefix (a choice ballot's rank_0, rank_1, …) is
			// listed by its first: strings.CutPrefix(key, "rank_") reads
			// "rank_0".
			if sel, ok := n.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "PostForm" {
				key, _ := n.Key.(*ast.Ident)
				found := false
				ast.Inspect(n.Body, func(m ast.Node) bool {
					call, ok := m.(*ast.CallExpr)
					if !ok || len(call.Args) != 2 {
						return true
					}
					if f, isSel := call.Fun.(*ast.SelectorExpr); !isSel || (f.Sel.Name != "CutPrefix" && f.Sel.Name != "HasPrefix") {
						return true
					}
					id, isID := call.Args[0].(*ast.Ident)
					lit, isLit := call.Args[1].(*ast.BasicLit)
					if key != nil && isID && isLit && id.Name == key.Name {
						prefix, _ := strconv.Unquote(lit.Value)
						add([]string{"form"}, prefix+"0")
						found = true
					}
					return true
				})
				if !found {
					s.problems = append(s.problems, where(n)+": ranges over the posted fields without a prefix the scan can follow")
				}
			}
		case *ast.SelectorExpr:
			for _, d := range s.methods[n.Sel.Name] {
				r.calls = append(r.calls, d)
			}
		case *ast.Ident:
			if d, ok := s.funcs[n.Name]; ok {
				r.calls = append(r.calls, d)
			}
		}
		return true
	})
	return r
}

// TestAPasswordAtItsLimitLogsInInAnyScript: the limit on a password is in
// characters when it is chosen, so it must be in characters when it is
// checked, or a passphrase in Greek or Cyrillic that was accepted would
// never log in.
func TestAPasswordAtItsLimitLogsInInAnyScript(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	pw := multibyte(governance.MaxPasswordLen) // two bytes a character
	jo := user{Email: "jo@example.org", Password: pw}
	res := a.client().submit(t, "/join", "/join", form("name", "Jo Joiner", "email", jo.Email, "password", pw, "statement", "I want to help."))
	res.wantRedirect(t, "/account")

	c := a.client()
	c.login(t, jo)
	res = c.submit(t, "/account", "/account/email", form("email", "jo.new@example.org", "current_password", pw))
	res.wantRedirect(t, "/account")
}
