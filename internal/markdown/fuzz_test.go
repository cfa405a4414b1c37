package markdown

import (
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzHTML renders anything a member might write and reads the result back
// with an HTML tokenizer, as a browser would, looking for anything that
// could run script.
func FuzzHTML(f *testing.F) {
	for _, src := range []string{
		"Some *emphasis*, a [link](https://platform.coop), and\n\n- a list",
		"Hello <script>alert(1)</script> world",
		"<ScRiPt>alert(1)</sCrIpT>",
		"[click](javascript:alert(1))",
		"[click](JaVaScRiPt:alert(1))",
		"[click](java\tscript:alert(1))",
		"[click](&#106;avascript:alert(1))",
		"[click](&#x6A;avascript&colon;alert(1))",
		"[click](<javascript:alert(1)>)",
		"[click][1]\n\n[1]: javascript:alert(1)",
		"[click](vbscript:msgbox(1))",
		"<javascript:alert(1)>",
		"[x](data:text/html;base64,PHNjcmlwdD4=)",
		"![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
		"![x](javascript:alert(1))",
		`<img src="x" onerror="alert(1)"> <a href="https://ok.example" onclick="evil()">ok</a>`,
		"<div style=\"background:url(javascript:alert(1))\">x</div>",
		`<iframe src="https://evil.example"></iframe>`,
		`<svg onload="alert(1)"><script>alert(2)</script></svg>`,
		`<a href="&#x6A;avascript:alert(1)">x</a>`,
		"`<script>` in code, and\n\n```\n<script>alert(1)</script>\n```",
		"| a | b |\n|---|---|\n| <script> | [x](javascript:y) |",
		"https://platform.coop and www.example.org, auto-linked",
		"[a](https://example.org \"title\" onmouseover=alert(1))",
		"<form action=\"javascript:alert(1)\"><button formaction=\"javascript:alert(1)\">go</button></form>",
	} {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := HTML(src)
		if problem := scriptIn(out); problem != "" {
			t.Fatalf("HTML(%q) = %q\nholds %s", src, out, problem)
		}
	})
}

// urlAttributes are the attributes a browser follows or loads as a URL.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "srcset": true, "action": true, "formaction": true, "poster": true, "cite": true,
	"background": true, "xlink:href": true, "data": true, "longdesc": true, "usemap": true, "ping": true,
	"manifest": true, "codebase": true, "archive": true, "classid": true, "lowsrc": true, "dynsrc": true,
}

// scriptElements are elements that run or embed something active.
var scriptElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "object": true, "embed": true, "applet": true, "svg": true,
	"math": true, "style": true, "link": true, "meta": true, "base": true, "form": true,
}

// scriptIn says what in the HTML s could run script, or "" if nothing can.
// The tokenizer decodes entities in attribute values, so &#106;avascript:
// is seen as the browser sees it.
func scriptIn(s string) string {
	if strings.Contains(strings.ToLower(s), "<script") {
		return "<script"
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return ""
			}
			return "HTML the tokenizer cannot read: " + z.Err().Error()
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			if scriptElements[tok.Data] {
				return "a <" + tok.Data + "> element"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					return "an event handler " + key + "=" + a.Val
				case key == "style":
					return "a style attribute"
				case urlAttributes[key]:
					for _, u := range urlsOf(key, a.Val) {
						if scheme := urlScheme(u); scheme != "" && scheme != "http" && scheme != "https" && scheme != "mailto" {
							return "a " + scheme + ": URL in " + key + "=" + a.Val
						}
					}
				}
			}
		}
	}
}

// urlsOf splits srcset's list of candidates; other attributes hold one URL.
func urlsOf(key, val string) []string {
	if key != "srcset" {
		return []string{val}
	}
	var urls []string
	for _, c := range strings.Split(val, ",") {
		if f := strings.Fields(c); len(f) > 0 {
			urls = append(urls, f[0])
		}
	}
	return urls
}

// urlScheme is the scheme a browser would read from a URL, lower-cased, or
// "" for a relative URL. Browsers drop leading and trailing control
// characters and spaces and every tab and line break anywhere, so
// "java\tscript:" is a javascript: URL.
func urlScheme(u string) string {
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	u = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, u)
	i := strings.IndexByte(u, ':')
	if i <= 0 {
		return ""
	}
	scheme := u[:i]
	for j, r := range scheme {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (j == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "" // a colon in a path or query: relative
		}
	}
	return strings.ToLower(scheme)
}

func TestScriptInFindsWhatRuns(t *testing.T) {
	// The fuzz target's oracle must catch what it looks for, or the fuzzing
	// proves nothing.
	bad := []string{
		`<SCRIPT>x</SCRIPT>`,
		`<img src=x OnError=alert(1)>`,
		`<a href="&#106;avascript:alert(1)">x</a>`,
		`<a href="java&#9;script:alert(1)">x</a>`,
		`<a href=" JAVASCRIPT:alert(1)">x</a>`,
		`<a href="vbscript:x">x</a>`,
		`<img src="data:image/svg+xml,x">`,
		`<img srcset="https://ok.example/a.png 1x, javascript:alert(1) 2x">`,
		`<iframe src="https://ok.example"></iframe>`,
		`<p style="x">y</p>`,
	}
	for _, s := range bad {
		if scriptIn(s) == "" {
			t.Errorf("scriptIn(%q) found nothing", s)
		}
	}
	good := []string{
		`<p>a <a href="https://platform.coop" rel="nofollow noreferrer">link</a></p>`,
		`<a href="/library?q=a:b">relative</a> <a href="mailto:x@example.org">mail</a>`,
		`<p>javascript: is only text here, as is onclick=</p>`,
		`<p>&lt;script&gt; escaped</p>`,
	}
	for _, s := range good {
		if got := scriptIn(s); got != "" {
			t.Errorf("scriptIn(%q) = %q; want nothing", s, got)
		}
	}
}
