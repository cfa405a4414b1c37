// Package webtest is one person's browser for tests that use Plenary over
// real HTTP: a cookie jar of its own, redirects not followed (a 303 is the
// answer a test checks), forms posted as a browser posts them, and the
// csrf_token read from a page. It is for tests only.
package webtest

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

// Client is a browser on the site at Base.
type Client struct {
	HTTP *http.Client
	// Base is put before every path, "http://127.0.0.1:8080" say; with ""
	// each path is a whole URL, for a test whose server moves.
	Base string
}

// New returns a browser with an empty cookie jar on the site at base,
// sending through tr (http.DefaultTransport if nil).
func New(base string, tr http.RoundTripper) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err) // cookiejar.New fails only on options it is not given
	}
	return &Client{Base: base, HTTP: &http.Client{
		Transport:     tr,
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: DontFollow,
	}}
}

// DontFollow is a CheckRedirect that hands back the redirect itself, for a
// client of one's own making.
func DontFollow(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Response is what came back, its body read in full.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Location is where a redirect points.
func (r *Response) Location() string { return r.Header.Get("Location") }

// Do sends req and reads the whole answer. An error from the transport is
// returned as it comes (wrapped in *url.Error), so a caller can tell a
// refused connection.
func (c *Client) Do(req *http.Request) (*Response, error) {
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: string(body)}, nil
}

// Send sends method to path with form as its body, encoded as a browser
// encodes a form; a nil form sends no body.
func (c *Client) Send(ctx context.Context, method, path string, form url.Values) (*Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return c.Do(req)
}

// Get loads path.
func (c *Client) Get(ctx context.Context, path string) (*Response, error) {
	return c.Send(ctx, http.MethodGet, path, nil)
}

// PostForm posts form to path exactly as given: the caller adds the
// csrf_token.
func (c *Client) PostForm(ctx context.Context, path string, form url.Values) (*Response, error) {
	return c.Send(ctx, http.MethodPost, path, form)
}

// CSRF loads page and returns the csrf_token of its first form. The token
// is bound to the session, so it serves every form until the next login.
func (c *Client) CSRF(ctx context.Context, page string) (string, error) {
	r, err := c.Get(ctx, page)
	if err != nil {
		return "", err
	}
	token, ok := CSRFToken(r.Body)
	if r.Status != http.StatusOK || !ok {
		return "", fmt.Errorf("GET %s: status %d, no csrf_token in the page", page, r.Status)
	}
	return token, nil
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// CSRFToken is the csrf_token of the first form in page.
func CSRFToken(page string) (string, bool) {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Cookies are the cookies the browser holds for the site at Base.
func (c *Client) Cookies() []*http.Cookie { return c.HTTP.Jar.Cookies(c.base()) }

// SetCookies puts cookies in the browser's jar for the site at Base, as
// someone replaying copied cookies would.
func (c *Client) SetCookies(cookies []*http.Cookie) { c.HTTP.Jar.SetCookies(c.base(), cookies) }

func (c *Client) base() *url.URL {
	u, err := url.Parse(c.Base)
	if err != nil {
		panic(fmt.Sprintf("webtest: base %q: %v", c.Base, err))
	}
	return u
}
