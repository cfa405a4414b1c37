// Package markdown renders what members write (summaries, demand texts,
// comments) to HTML that is safe to put in a page. It stands apart from the
// domain packages so that they keep no HTML dependencies.
package markdown

import (
	"bytes"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// HTML renders Markdown to safe HTML: goldmark renders it, with raw HTML
// left out, and bluemonday's UGC policy then removes anything that could
// run script: <script>, event attributes, javascript: and data: links.
// Links get rel="nofollow noopener" and open nothing in the page's context.
func HTML(src string) string {
	md, policy := markdown()
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark only fails on writer errors, which a buffer never has;
		// show nothing rather than unsanitised input.
		return ""
	}
	return policy.Sanitize(buf.String())
}

var markdown = sync.OnceValues(func() (goldmark.Markdown, *bluemonday.Policy) {
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.RequireNoReferrerOnLinks(true)
	p.AllowURLSchemes("http", "https", "mailto")
	return md, p
})
