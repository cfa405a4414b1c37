package server_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestLibraryResultsComeBeforeFoldedFilters: issue 16. On a phone the
// library put a screen and a half of filter boxes before the first result.
// The search box still comes first; then the facets folded under "Filters"
// (shown on narrow screens, while wide ones keep the sidebar), the filters
// in use as chips that remove themselves, and the results.
func TestLibraryResultsComeBeforeFoldedFilters(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	page := w.client().get(t, "/library?topic=policy&language=en&from=2000&to=2029")
	page.wantStatus(t, 200)
	body := page.Body

	fold := regexp.MustCompile(`(?s)<details class="filters">\s*<summary>Filters(.*?)</summary>(.*?)</details>`).FindStringSubmatch(body)
	if fold == nil {
		t.Fatalf("no folded filters (a closed <details class=\"filters\"> whose summary is Filters):\n%s", excerpt(body))
	}
	at := func(s string) int { return strings.Index(body, s) }

	t.Run("the search box comes first, then the folded filters, the filters in use and the results", func(t *testing.T) {
		order := []string{`id="q"`, `<details class="filters">`, `<ul class="chips"`, `id="results-h"`, `<article class="resource">`}
		for i := 1; i < len(order); i++ {
			if a, b := at(order[i-1]), at(order[i]); a < 0 || b < 0 || a > b {
				t.Errorf("%s (at %d) does not come before %s (at %d)", order[i-1], a, order[i], b)
			}
		}
		if !strings.Contains(fold[1], "3 in use") {
			t.Errorf("the folded filters' summary does not say how many are in use: %q", fold[1])
		}
	})

	t.Run("the fold holds every facet the sidebar holds", func(t *testing.T) {
		aside := regexp.MustCompile(`(?s)<aside class="facets"[^>]*>(.*?)</aside>`).FindStringSubmatch(body)
		if aside == nil {
			t.Fatal("no facets sidebar for wide screens")
		}
		links := regexp.MustCompile(`<a href="(/library\?[^"]*)"`)
		side, folded := links.FindAllStringSubmatch(aside[1], -1), links.FindAllStringSubmatch(fold[2], -1)
		if len(side) < 5 || len(side) != len(folded) {
			t.Fatalf("the sidebar has %d links, the fold %d", len(side), len(folded))
		}
		for i := range side {
			if side[i][1] != folded[i][1] {
				t.Errorf("link %d: the sidebar's %s, the fold's %s", i, side[i][1], folded[i][1])
			}
		}
		for _, want := range []string{`name="from"`, `name="to"`} {
			if !strings.Contains(fold[2], want) {
				t.Errorf("the fold lacks the year field %s", want)
			}
		}
	})

	t.Run("no id is drawn twice", func(t *testing.T) {
		seen := map[string]bool{}
		for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("id %q is on the page twice", m[1])
			}
			seen[m[1]] = true
		}
		for _, id := range []string{"fold-from", "side-from"} {
			if !regexp.MustCompile(`<label for="` + id + `"`).MatchString(body) {
				t.Errorf("no label for %s", id)
			}
		}
	})

	t.Run("each filter in use is a chip that removes it alone", func(t *testing.T) {
		chips := regexp.MustCompile(`(?s)<ul class="chips"[^>]*>(.*?)</ul>`).FindStringSubmatch(body)
		if chips == nil {
			t.Fatal("no chips for the filters in use")
		}
		chip := regexp.MustCompile(`<a href="([^"]*)">([^<]*)<span class="visually-hidden"> \(remove this filter\)</span>`)
		got := map[string]url.Values{}
		for _, m := range chip.FindAllStringSubmatch(chips[1], -1) {
			u, err := url.Parse(html.UnescapeString(m[1]))
			if err != nil {
				t.Fatal(err)
			}
			got[html.UnescapeString(m[2])] = u.Query()
		}
		want := map[string]func(url.Values) bool{
			"Topic: policy": func(v url.Values) bool {
				return v.Get("topic") == "" && v.Get("language") == "en" && v.Get("from") == "2000"
			},
			"Language: English": func(v url.Values) bool {
				return v.Get("language") == "" && v.Get("topic") == "policy" && v.Get("to") == "2029"
			},
			"Published 2000–2029": func(v url.Values) bool { return v.Get("from") == "" && v.Get("to") == "" && v.Get("topic") == "policy" },
		}
		if len(got) != len(want) {
			t.Errorf("chips %v, want %d", got, len(want))
		}
		for label, ok := range want {
			if v, found := got[label]; !found || !ok(v) {
				t.Errorf("chip %q links to %v", label, v)
			}
		}
		if !strings.Contains(chips[1], `class="clear">Clear all</a>`) {
			t.Error("no way to clear all the filters among the chips")
		}
	})

	t.Run("with no filter in use there are no chips", func(t *testing.T) {
		plain := w.client().get(t, "/library")
		if strings.Contains(plain.Body, `<ul class="chips"`) || strings.Contains(plain.Body, "in use") {
			t.Error("chips or a count of filters in use with none in use")
		}
	})
}
