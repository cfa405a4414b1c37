package server_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/library"
	"plenary/server"
)

// The page cache may only ever save work: every test here fails if a
// visitor is shown something that is no longer so, or someone else's page.
func TestPageCache(t *testing.T) {
	ctx := context.Background()

	t.Run("an anonymous page is rendered once and served again", func(t *testing.T) {
		a := newApp(t)
		first := a.client().get(t, "/demands")
		first.wantStatus(t, 200)
		hits := server.CacheHits(a.Srv)
		again := a.client().get(t, "/demands")
		again.wantStatus(t, 200)
		if got := server.CacheHits(a.Srv); got != hits+1 {
			t.Fatalf("cache hits went from %d to %d, want one more", hits, got)
		}
		if again.Body != first.Body {
			t.Error("the cached page differs from the page it was rendered as")
		}
		if csp := again.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("a cached page lost its security headers: CSP %q", csp)
		}
	})

	t.Run("readers arriving while a page renders wait for that render", func(t *testing.T) {
		// When an entry expires or a commit empties the cache under load,
		// everyone arriving within one render used to render the page
		// again, all at once, each slowing the others.
		a := newApp(t)
		a.addAdmin(t, "Ada Admin", "ada@example.org")
		const readers = 40
		hits := server.CacheHits(a.Srv)
		release := server.HoldRenders(a.Srv)
		bodies := make([]string, readers)
		var wg sync.WaitGroup
		for i := range readers {
			wg.Go(func() {
				res := a.client().get(t, "/ledger")
				res.wantStatus(t, 200)
				bodies[i] = res.Body
			})
		}
		// The first render is held: every other reader must come to wait
		// for it rather than render the page too.
		for deadline := time.Now().Add(10 * time.Second); server.CacheWaiting(a.Srv) < readers-1; {
			if time.Now().After(deadline) {
				waiting := server.CacheWaiting(a.Srv)
				release()
				wg.Wait()
				t.Fatalf("%d of %d readers waited for the render in progress, want %d", waiting, readers, readers-1)
			}
			time.Sleep(5 * time.Millisecond)
		}
		release()
		wg.Wait()
		if got := server.CacheHits(a.Srv) - hits; got != readers-1 {
			t.Errorf("%d of %d readers were served the one render, want %d", got, readers, readers-1)
		}
		for i, b := range bodies {
			if b != bodies[0] {
				t.Fatalf("reader %d was shown a different page", i)
			}
		}
	})

	t.Run("a change made through Plenary shows at once", func(t *testing.T) {
		a := newApp(t)
		admin := a.addAdmin(t, "Ada Admin", "ada@example.org")
		before := a.client().get(t, "/ledger").Body
		a.client().get(t, "/ledger") // now cached
		a.addMember(t, admin, "Grace Member", "grace@example.org")
		if after := a.client().get(t, "/ledger").Body; after == before {
			t.Error("the ledger page still shows the old ledger after a member was admitted")
		}
	})

	t.Run("a change made by another process shows at once", func(t *testing.T) {
		a := newApp(t)
		admin := a.addAdmin(t, "Ada Admin", "ada@example.org")
		r, err := a.Lib.SubmitResource(ctx, library.Viewer{ID: admin.ID, Active: true, Admin: true},
			library.ResourceInput{Title: "The original title", URL: "https://example.org/r", Format: "report", Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Lib.SetResourceStatus(ctx, library.Viewer{ID: admin.ID, Active: true, Admin: true}, r.ID, "listed"); err != nil {
			t.Fatal(err)
		}
		page := "/library/" + strconv.FormatInt(r.ID, 10)
		a.client().get(t, page).wantText(t, "The original title")
		hits := server.CacheHits(a.Srv)
		a.client().get(t, page).wantText(t, "The original title")
		if server.CacheHits(a.Srv) != hits+1 {
			t.Fatal("the page did not come from the cache the second time, so this test shows nothing")
		}
		// The command line, say, writing to the served file.
		other, err := db.Open(ctx, a.DB.Path, dbtest.Schema(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if _, err := other.W.ExecContext(ctx, `UPDATE resources SET title = 'A title from elsewhere' WHERE id = ?`, r.ID); err != nil {
			t.Fatal(err)
		}
		// SQLite's data_version sees the other writer's commit at once;
		// PostgreSQL's LISTEN/NOTIFY tells this process a moment later,
		// asynchronously. So the page is asked for until the change shows,
		// for at most notifyLatency. The cache's own backstop cannot end
		// the wait instead: an entry's age is counted on the server's
		// clock, which stands still here (and cacheMaxAge is far longer
		// than the wait anyway), so only the change notice can make the
		// new title show. If it never arrives, the old page is served
		// throughout and the test fails.
		const notifyLatency = 2 * time.Second
		if server.CacheMaxAge < 5*notifyLatency {
			t.Fatalf("the cache's max age (%s) is too close to the wait (%s) for this test to tell the notice from the backstop",
				server.CacheMaxAge, notifyLatency)
		}
		stood := a.Clock.Now()
		deadline := time.Now().Add(notifyLatency)
		var body string
		for {
			body = a.client().get(t, page).Body
			if strings.Contains(body, "A title from elsewhere") || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !a.Clock.Now().Equal(stood) {
			t.Fatal("the server's clock moved while the test waited: the cache's max age could have ended the wait")
		}
		if !strings.Contains(body, "A title from elsewhere") {
			t.Errorf("%s still shows the old title %s after another process changed it:\n%s", page, notifyLatency, excerpt(body))
		}
	})

	t.Run("a ballot that closes is shown closed at once, though nothing was written", func(t *testing.T) {
		a := newApp(t)
		admin := a.addAdmin(t, "Ada Admin", "ada@example.org")
		p := a.putProposal(t, admin, motion("Adopt the budget", 7, time.Time{}))
		// Five seconds before the close: well within a cached page's age.
		a.Clock.Advance(p.ClosesAt.Add(-5 * time.Second).Sub(a.Clock.Now()))
		if body := a.client().get(t, "/proposals").Body; strings.Contains(body, "inquorate") {
			t.Fatal("the ballot shows an outcome before it closed")
		}
		a.client().get(t, "/proposals") // cached
		a.Clock.Advance(6 * time.Second)
		a.client().get(t, "/proposals").wantText(t, "inquorate")
	})

	t.Run("a visitor with a message waiting gets a fresh page", func(t *testing.T) {
		a := newApp(t)
		admin := a.addAdmin(t, "Ada Admin", "ada@example.org")
		a.client().get(t, "/")
		a.client().get(t, "/") // cached
		m := a.as(t, admin)
		m.submit(t, "/account", "/logout", form()).wantRedirect(t, "/")
		m.get(t, "/").wantText(t, "You are logged out.")
		if body := a.client().get(t, "/").Body; strings.Contains(body, "You are logged out.") {
			t.Error("another visitor was shown the message meant for the one who logged out")
		}
	})

	t.Run("pages with a form token are never shared", func(t *testing.T) {
		a := newApp(t)
		one, two := a.client(), a.client()
		if t1, t2 := one.csrf(t, "/login"), two.csrf(t, "/login"); t1 == t2 {
			t.Fatal("two visitors were given the same CSRF token")
		}
	})

	t.Run("members never get the anonymous page, nor visitors each other's cookie", func(t *testing.T) {
		a := newApp(t)
		admin := a.addAdmin(t, "Ada Admin", "ada@example.org")
		// Someone who only reads is given no cookie, rendered or cached.
		for range 2 {
			if r := a.client().get(t, "/demands"); len(r.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("a reader was given cookies: %q", r.Header.Values("Set-Cookie"))
			}
		}
		// A form starts a session of the visitor's own.
		first, second := a.client(), a.client()
		first.get(t, "/login")
		second.get(t, "/login")
		if s1, s2 := first.cookie("plenary_session"), second.cookie("plenary_session"); s1 == "" || s1 == s2 {
			t.Errorf("session cookies %q and %q: each visitor shown a form must get their own", s1, s2)
		}
		m := a.as(t, admin)
		m.get(t, "/demands").wantText(t, "Log out")
	})

	t.Run("a cookie set for one visitor is never replayed to the next", func(t *testing.T) {
		a := newApp(t)
		admin := a.addAdmin(t, "Ada Admin", "ada@example.org")
		member := a.addMember(t, admin, "Grace Member", "grace@example.org")
		stale := a.as(t, member)
		stale.get(t, "/account") // shows, and so clears, the welcome message
		a.suspend(t, admin, member)
		// The suspended member's session is dropped on this request and a
		// fresh one set: the page is anonymous, and may be cached.
		if r := stale.get(t, "/demands"); len(r.Header.Values("Set-Cookie")) == 0 {
			t.Fatal("a dropped session was not replaced")
		}
		hits := server.CacheHits(a.Srv)
		r := a.client().get(t, "/demands")
		if server.CacheHits(a.Srv) != hits+1 {
			t.Fatal("the second reader's page did not come from the cache, so this test shows nothing")
		}
		if got := r.Header.Values("Set-Cookie"); len(got) > 0 {
			t.Errorf("the next reader was handed another visitor's cookie: %q", got)
		}
	})

	t.Run("a form posted without a session is refused", func(t *testing.T) {
		a := newApp(t)
		a.addAdmin(t, "Ada Admin", "ada@example.org")
		before := a.snapshot(t)
		// No session and an empty token: the two empty strings must not match.
		r := a.client().post(t, "/login", form("email", "ada@example.org", "password", password, "csrf_token", ""))
		r.wantStatus(t, 403)
		a.wantUnchanged(t, before)
	})
}
