package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// HEAD is answered wherever GET is, with GET's status and headers and no
// body: uptime monitors and link checkers send it. Every route without
// path parameters is asked, by the public and by an admin.
func TestHeadAnsweredWhereverGetIs(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	admin := a.client()
	admin.login(t, ad)
	asked := 0
	for _, route := range a.Srv.Routes() {
		method, path, _ := strings.Cut(route, " ")
		if method != http.MethodGet || strings.ContainsAny(path, ":*") || path == "/logout" {
			continue
		}
		for _, c := range []*client{a.client(), admin} {
			get := c.get(t, path)
			head := c.request(t, http.MethodHead, path, "", nil)
			asked++
			if head.Status != get.Status {
				t.Errorf("HEAD %s: status %d, GET gives %d", path, head.Status, get.Status)
			}
			if head.Body != "" {
				t.Errorf("HEAD %s: a body of %d bytes", path, len(head.Body))
			}
			if h, g := head.Header.Get("Content-Type"), get.Header.Get("Content-Type"); h != g {
				t.Errorf("HEAD %s: Content-Type %q, GET gives %q", path, h, g)
			}
		}
	}
	if asked < 20 {
		t.Fatalf("only %d requests: the routes were not found", asked)
	}
	// A method no route takes is still refused.
	if r := admin.request(t, http.MethodDelete, "/library", "", nil); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /library: status %d, want 405", r.Status)
	}
}
