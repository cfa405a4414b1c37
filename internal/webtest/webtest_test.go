package webtest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"

	"plenary/internal/webtest"
)

// site is a tiny stand-in for Plenary: a login form with a token bound to
// a cookie, a POST that redirects, and a page that says who is logged in.
func site(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
		fmt.Fprint(w, `<form method="post"><input type="hidden" name="csrf_token" value="tok-1"></form>`+
			`<form><input type="hidden" name="csrf_token" value="tok-2"></form>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		if err != nil || c.Value != "s1" || r.PostFormValue("csrf_token") != "tok-1" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "who", Value: r.PostFormValue("email"), Path: "/"})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("who")
		if err != nil {
			fmt.Fprint(w, "nobody")
			return
		}
		fmt.Fprint(w, "hello "+c.Value)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func TestClient(t *testing.T) {
	ctx := context.Background()
	ts := site(t)

	t.Run("it logs in with the page's token, sees the redirect, and keeps the cookies", func(t *testing.T) {
		c := webtest.New(ts.URL, nil)
		tok, err := c.CSRF(ctx, "/login")
		if err != nil || tok != "tok-1" {
			t.Fatalf("CSRF = %q, %v; want the first form's token, tok-1", tok, err)
		}
		r, err := c.PostForm(ctx, "/login", url.Values{"csrf_token": {tok}, "email": {"ada"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusSeeOther || r.Location() != "/" {
			t.Fatalf("POST /login: %d to %q, want the 303 to / itself, not followed", r.Status, r.Location())
		}
		home, err := c.Get(ctx, "/")
		if err != nil || home.Body != "hello ada" {
			t.Errorf("GET / = %+v, %v; want hello ada", home, err)
		}
		if n := len(c.Cookies()); n != 2 {
			t.Errorf("the jar holds %d cookies, want 2", n)
		}
	})

	t.Run("two browsers do not share cookies, and copied ones replay", func(t *testing.T) {
		a, b := webtest.New(ts.URL, nil), webtest.New(ts.URL, nil)
		tok, err := a.CSRF(ctx, "/login")
		if err != nil {
			t.Fatal(err)
		}
		if r, err := b.PostForm(ctx, "/login", url.Values{"csrf_token": {tok}, "email": {"bo"}}); err != nil || r.Status != http.StatusForbidden {
			t.Errorf("another browser's token without its cookie: %+v, %v; want 403", r, err)
		}
		b.SetCookies(a.Cookies())
		if r, err := b.PostForm(ctx, "/login", url.Values{"csrf_token": {tok}, "email": {"bo"}}); err != nil || r.Status != http.StatusSeeOther {
			t.Errorf("with the cookies copied: %+v, %v; want 303", r, err)
		}
	})

	t.Run("a page without a form is no token", func(t *testing.T) {
		if _, err := webtest.New(ts.URL, nil).CSRF(ctx, "/"); err == nil {
			t.Error("CSRF found a token on a page with no form")
		}
		if tok, ok := webtest.CSRFToken(`<p>name="csrf_token"</p>`); ok {
			t.Errorf("CSRFToken found %q in a page with no token", tok)
		}
	})

	t.Run("with no base the path is the whole URL", func(t *testing.T) {
		r, err := webtest.New("", nil).Get(ctx, ts.URL+"/")
		if err != nil || r.Body != "nobody" {
			t.Errorf("GET = %+v, %v; want nobody", r, err)
		}
	})

	t.Run("a refused connection says so", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, err = webtest.New("http://"+addr, nil).Get(ctx, "/")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("GET from a closed port: err = %v, want ECONNREFUSED", err)
		}
	})
}
