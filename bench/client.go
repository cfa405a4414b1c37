package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// newTransport keeps up to conns connections alive to one host, so that a
// load test measures requests, not TCP handshakes.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
}

// browser is one person: a cookie jar of their own, and redirects not
// followed, so a 303 is seen as the answer it is.
type browser struct {
	client *http.Client
	base   string
}

func newBrowser(tr http.RoundTripper, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, client: &http.Client{
		Transport:     tr,
		Jar:           jar,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// answer is what came back: status, Location and body.
type answer struct {
	status   int
	location string
	body     string
}

func (b *browser) do(ctx context.Context, method, path string, form url.Values) (answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(text)}, err
}

func (b *browser) get(ctx context.Context, path string) (answer, error) {
	return b.do(ctx, http.MethodGet, path, nil)
}

func (b *browser) post(ctx context.Context, path string, form url.Values) (answer, error) {
	return b.do(ctx, http.MethodPost, path, form)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf fetches a page and takes the CSRF token from its form. The token is
// bound to the session, so it serves every form until the next login.
func (b *browser) csrf(ctx context.Context, path string) (string, error) {
	a, err := b.get(ctx, path)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", path, err)
	}
	m := csrfField.FindStringSubmatch(a.body)
	if a.status != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET %s: status %d, no csrf_token in the page", path, a.status)
	}
	return m[1], nil
}

// login logs in as a person would: the form for its token, then the POST.
func (b *browser) login(ctx context.Context, email string) error {
	return b.loginWith(ctx, email, password)
}

// loginWith logs in with a password other than the bench's own, such as
// a demo database's.
func (b *browser) loginWith(ctx context.Context, email, pass string) error {
	token, err := b.csrf(ctx, "/login")
	if err != nil {
		return err
	}
	a, err := b.post(ctx, "/login", url.Values{"csrf_token": {token}, "email": {email}, "password": {pass}})
	if err != nil {
		return fmt.Errorf("log in as %s: %w", email, err)
	}
	if a.status != http.StatusSeeOther {
		return fmt.Errorf("log in as %s: %w", email, &statusError{got: a.status, want: http.StatusSeeOther})
	}
	return nil
}

// statusError is an answer with the wrong status.
type statusError struct{ got, want int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d, want %d", e.got, e.want) }

// getJSON decodes a public API answer.
func getJSON(ctx context.Context, base, path string, into any) error {
	return newBrowser(http.DefaultTransport, base).getJSON(ctx, path, into)
}
