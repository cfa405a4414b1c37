package markdown

import (
	"strings"
	"testing"
)

func TestMarkdownIsRenderedHarmless(t *testing.T) {
	cases := []struct {
		name, src string
		forbid    []string
		want      string
	}{
		{"a script element is removed", "Hello <script>alert(1)</script> world", []string{"<script", "</script"}, "Hello"},
		{"a javascript: link loses its target", "[click](javascript:alert(1))", []string{"javascript:"}, "click"},
		{"a javascript: link in mixed case loses its target", "[click](JaVaScRiPt:alert(1))", []string{"javascript:", "JaVaScRiPt"}, "click"},
		{"an autolink with javascript: is not a link", "<javascript:alert(1)>", []string{`href="javascript`}, ""},
		{"a data: link loses its target", "[x](data:text/html;base64,PHNjcmlwdD4=)", []string{"data:text/html"}, "x"},
		{"event attributes are removed", `<img src="x" onerror="alert(1)"> <a href="https://ok.example" onclick="evil()">ok</a>`, []string{"onerror", "onclick", "alert(1)", "evil()"}, ""},
		{"raw HTML blocks are dropped", "<div style=\"background:url(javascript:alert(1))\">x</div>", []string{"javascript:", "style="}, ""},
		{"an iframe is removed", `<iframe src="https://evil.example"></iframe>`, []string{"<iframe"}, ""},
		{"an image with a javascript: source is dropped", "![x](javascript:alert(1))", []string{"javascript:"}, ""},
		{"an SVG with script is removed", `<svg onload="alert(1)"><script>alert(2)</script></svg>`, []string{"<svg", "onload", "<script"}, ""},
		{"ordinary Markdown survives", "Some *emphasis*, a [link](https://platform.coop), and\n\n- a list", nil, `<em>emphasis</em>`},
		{"links get rel nofollow", "[coop](https://platform.coop)", nil, `rel="nofollow`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := HTML(c.src)
			lower := strings.ToLower(out)
			for _, f := range c.forbid {
				if strings.Contains(lower, strings.ToLower(f)) {
					t.Errorf("HTML(%q) = %q; contains %q", c.src, out, f)
				}
			}
			if c.want != "" && !strings.Contains(out, c.want) {
				t.Errorf("HTML(%q) = %q; want it to contain %q", c.src, out, c.want)
			}
		})
	}
}
