package server_test

import (
	"regexp"
	"strings"
	"testing"
)

// Issue 16: links drawn as buttons (Join, Apply to join) stay links for
// screen readers: no link on the public pages calls itself a button.
func TestLinksDrawnAsButtonsStayLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	home := c.get(t, "/")
	for _, want := range []string{`<a href="/join" class="button">Join</a>`, `<a href="/join" class="button">Apply to join</a>`} {
		if !strings.Contains(home.Body, want) {
			t.Errorf("the home page lacks %s", want)
		}
	}
	linkAsButton := regexp.MustCompile(`<a [^>]*role="button"`)
	for _, path := range []string{"/", "/library", "/demands", "/proposals", "/ledger", "/login"} {
		if m := linkAsButton.FindString(c.get(t, path).Body); m != "" {
			t.Errorf("%s: a link announces itself as a button: %s", path, m)
		}
	}
}
