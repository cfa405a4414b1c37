package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"plenary/governance"
)

func TestLibraryJourney(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	if loaded, err := s.Lib.LoadStarter(ctx); err != nil || !loaded {
		t.Fatalf("LoadStarter = %v, %v", loaded, err)
	}
	reader := newBrowser(t)

	t.Run("a reader searches, narrows by two facets and opens a resource", func(t *testing.T) {
		navigate(t, reader, s.URL+"/")
		mustContain(t, reader, "main", "New in the library")
		visit(t, reader, "home-with-starter-library")
		navigate(t, reader, s.URL+"/library")
		visit(t, reader, "library")
		fill(t, reader, "#q", "platform co-operatives")
		submit(t, reader, "form.search button[type=submit]")
		all := resultCount(t, reader)
		if all < 3 {
			t.Fatalf("searching the starter library for platform co-operatives found %d", all)
		}
		visit(t, reader, "library-search")
		submit(t, reader, `.facets a[href*="format=report"]`)
		reports := resultCount(t, reader)
		submit(t, reader, `.facets a[href*="region=UK"]`)
		ukReports := resultCount(t, reader)
		if !(0 < ukReports && ukReports <= reports && reports < all) {
			t.Errorf("results: %d, then %d reports, then %d UK reports; each facet must narrow", all, reports, ukReports)
		}
		u := currentURL(t, reader)
		for _, want := range []string{"q=platform", "format=report", "region=UK"} {
			if !strings.Contains(u, want) {
				t.Errorf("the URL %s lost %s", u, want)
			}
		}
		mustContain(t, reader, ".facets", "Clear all filters")
		visit(t, reader, "library-two-facets")
		submit(t, reader, ".results article.resource h3 a")
		mustContain(t, reader, "main", "Details")
		mustContain(t, reader, "main", "Open the resource")
		meta := run(t, reader, "reading citation meta", chromedp.Evaluate[string](`document.querySelector('meta[name=citation_title]').content`))
		if meta != text(t, reader, "h1") {
			t.Errorf("citation_title %q does not match the heading", meta)
		}
		ld := run(t, reader, "reading JSON-LD", chromedp.Evaluate[string](`JSON.parse(document.querySelector('script[type="application/ld+json"]').textContent)["@context"]`))
		if ld != "https://schema.org" {
			t.Errorf("JSON-LD @context = %q", ld)
		}
		visit(t, reader, "resource")
		navigate(t, reader, s.URL+"/demands")
		mustContain(t, reader, "main", "proposed")
		visit(t, reader, "demands")
		submit(t, reader, "article.demand h3 a")
		mustContain(t, reader, "main", "Supporting resources")
		visit(t, reader, "demand")
	})

	t.Run("on a phone the results come first and the filters fold", func(t *testing.T) {
		phone := newIsolatedTab(t, reader)
		do(t, phone, "emulating a phone", chromedp.EmulateViewport(390, 844))
		navigate(t, phone, s.URL+"/library?format=report")
		top := run(t, phone, "finding the first result",
			chromedp.Evaluate[float64](`document.querySelector('.results article.resource').getBoundingClientRect().top`))
		if top > 844 {
			t.Errorf("the first result starts %.0fpx down a 844px screen", top)
		}
		facetShown := `[...document.querySelectorAll('ul.facet a')].some(a => a.checkVisibility())`
		if run(t, phone, "looking for facets", chromedp.Evaluate[bool](facetShown)) {
			t.Error("facets are shown before the filters are opened")
		}
		mustContain(t, phone, "details.filters summary", "1 in use")
		mustContain(t, phone, "ul.chips", "Format: report")
		if width := run(t, phone, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
			t.Errorf("the library is %dpx wide on a 390px phone", width)
		}
		visit(t, phone, "library-phone")
		do(t, phone, "opening the filters", chromedp.Click(`details.filters > summary`))
		if !run(t, phone, "looking for facets", chromedp.Evaluate[bool](facetShown)) {
			t.Error("opening the filters shows no facet")
		}
		visit(t, phone, "library-phone-filters")
		submit(t, phone, `details.filters a[href*="region=UK"]`)
		mustContain(t, phone, "ul.chips", "Region: UK")
		submit(t, phone, `ul.chips a[href*="region=UK"]:not([href*="format="])`)
		if u := currentURL(t, phone); !strings.Contains(u, "region=UK") || strings.Contains(u, "format=") {
			t.Errorf("removing the format chip led to %s", u)
		}
	})

	t.Run("a member submits a resource and an admin lists it", func(t *testing.T) {
		admin, err := s.Gov.AddMember(ctx, governance.Details{Name: "Ada Secretary", Email: "ada@riverside.coop", Password: "correct horse battery staple"}, governance.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Gov.AddMember(ctx, governance.Details{Name: "Bea Member", Email: "bea@example.org", Password: "a lighthouse keeper's long walk"}, governance.RoleMember); err != nil {
			t.Fatal(err)
		}
		_ = admin
		member := newIsolatedTab(t, reader)
		logIn(t, member, s.URL, "bea@example.org", "a lighthouse keeper's long walk")
		navigate(t, member, s.URL+"/library/new")
		visit(t, member, "add-resource")
		fill(t, member, "#f-title", "Data co-operatives: a practical guide")
		fill(t, member, "#f-url", "javascript:alert(1)")
		submit(t, member, "main button[type=submit]")
		mustContain(t, member, "#f-url-error", "https://")
		visit(t, member, "add-resource-with-errors")
		fill(t, member, "#f-url", "https://example.org/data-coops-guide")
		fill(t, member, "#f-authors", "Ana Ferreira\nLi Wei")
		fill(t, member, "#f-year", "2024")
		fill(t, member, "#f-topics", "data governance, platform co-ops")
		fill(t, member, "#f-summary", "How members can pool their data in a co-op and **govern it together**.")
		submit(t, member, "main button[type=submit]")
		mustContain(t, member, ".flash.ok", "waiting for an admin")
		mustContain(t, member, "main", "pending")
		visit(t, member, "resource-pending")

		adminTab := newIsolatedTab(t, reader)
		logIn(t, adminTab, s.URL, "ada@riverside.coop", "correct horse battery staple")
		navigate(t, adminTab, s.URL+"/admin/library")
		mustContain(t, adminTab, "main", "Data co-operatives: a practical guide")
		visit(t, adminTab, "admin-queue")
		submit(t, adminTab, `.queue-item button[value=listed]`)
		mustContain(t, adminTab, ".flash.ok", "is now listed")
		visit(t, adminTab, "admin-queue-after-listing")

		navigate(t, reader, s.URL+"/library?q=data+co-operatives")
		mustContain(t, reader, ".results", "Data co-operatives: a practical guide")
	})
}

// resultCount reads the number in the results heading.
func resultCount(t *testing.T, ctx context.Context) int {
	t.Helper()
	h := text(t, ctx, "#results-h")
	var n int
	for _, r := range h {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}

func logIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	navigate(t, ctx, base+"/login")
	fill(t, ctx, "#f-email", email)
	fill(t, ctx, "#f-password", password)
	submit(t, ctx, "main button[type=submit]")
	if strings.Contains(currentURL(t, ctx), "/login") {
		t.Fatalf("logging in as %s failed: %s", email, text(t, ctx, "main"))
	}
}
