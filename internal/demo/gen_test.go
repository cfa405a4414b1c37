package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func testWords(t *testing.T) *words {
	t.Helper()
	w, err := loadWords(wordsJSON)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWords(t *testing.T) {
	w := testWords(t)
	t.Run("English subjects are their own English", func(t *testing.T) {
		s := w.Titles["en"].Subjects[0]
		if s.English == "" || s.English != s.Name {
			t.Errorf("subject %+v: English should default to the name", s)
		}
	})
	t.Run("the topics are a slot", func(t *testing.T) {
		if len(w.Slots["topic"]) == 0 || len(w.Slots["topic"]) != len(w.Topics) {
			t.Errorf("{topic} has %d words, want the %d topics", len(w.Slots["topic"]), len(w.Topics))
		}
	})

	// Each change spoils the embedded file in one way a later edit could.
	for _, c := range []struct {
		name, want string
		spoil      func(m map[string]any)
	}{
		{"a template's slot with no words", "no words for {sector}", func(m map[string]any) { delete(m["slots"].(map[string]any), "sector") }},
		{"an empty list", "comments is empty", func(m map[string]any) { m["comments"] = []any{} }},
		{"a language with no title words", "no fr", func(m map[string]any) { delete(m["titles"].(map[string]any), "fr") }},
		{"a region with no places", "no places in Spain", func(m map[string]any) {
			delete(m["titles"].(map[string]any)["es"].(map[string]any)["places"].(map[string]any), "Spain")
		}},
		{"a pattern without room for the place", "does not take four strings", func(m map[string]any) {
			m["titles"].(map[string]any)["de"].(map[string]any)["pattern"] = "%s: %s zu %s"
		}},
		{"a list of weights with none", "formats: no weight", func(m map[string]any) { m["formats"] = []any{} }},
		{"a misspelt field", "unknown field", func(m map[string]any) { m["comment"] = m["comments"] }},
	} {
		t.Run(c.name+" is refused", func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(wordsJSON, &m); err != nil {
				t.Fatal(err)
			}
			c.spoil(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := loadWords(data); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}

func TestSameSeedSameWords(t *testing.T) {
	w := testWords(t)
	text := func(seed uint64) string {
		g := newGen(seed, w)
		var b bytes.Buffer
		titles := map[string]bool{}
		for i := range 200 {
			r, d, m := g.resource(i+1, titles), g.demand(), g.motion()
			fmt.Fprintf(&b, "%+v\n%+v\n%+v\n", r, d, m)
			for _, s := range []string{r.Title, r.Summary, d.Title, d.Body, m.Title, m.Body} {
				if strings.ContainsAny(s, "{}") || strings.Contains(s, "FORMAT") {
					t.Errorf("a slot was left unfilled: %q", s)
				}
			}
		}
		fmt.Fprintln(&b, g.spread(10_000, 40, 500))
		return b.String()
	}
	a := text(3)
	if b := text(3); a != b {
		t.Error("two generators with seed 3 made different text")
	}
	if c := text(4); a == c {
		t.Error("seeds 3 and 4 made the same text")
	}
}

func TestDemands(t *testing.T) {
	g := newGen(1, testWords(t))
	seen := map[string]bool{}
	// More demands than templates × places, so titles must repeat and be
	// numbered apart.
	for range 2000 {
		d := g.demand()
		if seen[d.Title] {
			t.Fatalf("demand title %q twice", d.Title)
		}
		seen[d.Title] = true
		if d.Body == "" || d.Audience == "" {
			t.Fatalf("demand %+v lacks a body or audience", d)
		}
	}
	t.Run("a recurring slot gets the same word", func(t *testing.T) {
		for range 50 {
			s := g.fill("{sector}|{sector}", map[string]string{})
			if a, b, _ := strings.Cut(s, "|"); a != b || a == "" {
				t.Fatalf("%q", s)
			}
		}
	})
}

func TestSpread(t *testing.T) {
	g := newGen(1, testWords(t))
	for _, c := range []struct{ votes, n, roll int }{
		{0, 5, 10}, {7, 0, 10}, {100, 5, 51}, {20_000, 50, 1001}, {255, 5, 51} /* every member but none */, {1000, 3, 1000},
	} {
		out := g.spread(c.votes, c.n, c.roll)
		sum := 0
		for _, k := range out {
			if k < 0 || k > c.roll {
				t.Errorf("spread(%d, %d, %d): a ballot with %d votes: %v", c.votes, c.n, c.roll, k, out)
			}
			sum += k
		}
		want := c.votes
		if c.n == 0 {
			want = 0
		}
		if len(out) != c.n || sum != want {
			t.Errorf("spread(%d, %d, %d) = %v: %d ballots, %d votes", c.votes, c.n, c.roll, out, len(out), sum)
		}
	}
}

func TestASCIIFold(t *testing.T) {
	for in, want := range map[string]string{
		"Jónsdóttir": "jonsdottir", "O'Brien": "obrien", "Øyvind": "oyvind", "Łukasz": "lukasz",
		"Min-jun": "minjun", "Wiśniewska": "wisniewska", "Şahin": "sahin", "Gonçalo": "goncalo", "de Vries": "devries",
	} {
		if got := asciiFold(in); got != want {
			t.Errorf("asciiFold(%q) = %q, want %q", in, got, want)
		}
	}
	// Every name becomes part of an email address: none may fold to nothing
	// or to something an address cannot hold.
	w := testWords(t)
	ok := regexp.MustCompile(`^[a-z0-9]+$`)
	for _, name := range slices.Concat(w.GivenNames, w.FamilyNames) {
		if f := asciiFold(name); !ok.MatchString(f) {
			t.Errorf("%q folds to %q", name, f)
		}
	}
}

func TestISBN13(t *testing.T) {
	g := newGen(1, testWords(t))
	for range 1000 {
		isbn := isbn13(g.r)
		if len(isbn) != 13 || !strings.HasPrefix(isbn, "978") {
			t.Fatalf("%q is not a 978 ISBN-13", isbn)
		}
		sum := 0
		for i, c := range isbn {
			sum += int(c-'0') * (1 + 2*(i%2))
		}
		if sum%10 != 0 {
			t.Fatalf("%q: bad check digit", isbn)
		}
	}
}

func TestSlugAndClip(t *testing.T) {
	slug := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for _, title := range []string{
		"Owning the Platform: A Study of Co-operative Cloud Hosting in Cardiff",
		"Plateformes coopératives : une étude sur les SCIC numériques à Paris",
		"Who Owns the Algorithm? Evidence on Data Co-operatives in the Global South",
	} {
		if s := slugOf(title); !slug.MatchString(s) || len(s) > 80 {
			t.Errorf("slugOf(%q) = %q", title, s)
		}
	}
	long := strings.Repeat("Endorse “Plateformes coopératives” ", 10)
	if c := clip(long, 120); utf8.RuneCountInString(c) > 120 || !strings.HasSuffix(c, "…") {
		t.Errorf("clip to 120 gave %d runes: %q", utf8.RuneCountInString(c), c)
	}
	if c := clip("short", 120); c != "short" {
		t.Errorf("clip(short) = %q", c)
	}
}
