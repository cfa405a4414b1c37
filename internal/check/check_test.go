package check

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

// passes says whether value passes the tags, through the one validator.
func passes(t *testing.T, value any, tags string) bool {
	t.Helper()
	return instance().Var(value, tags) == nil
}

func TestChecks(t *testing.T) {
	long := "https://example.org/" + strings.Repeat("a", MaxLinkLen-len("https://example.org/"))
	tests := []struct {
		tag     string
		good    []any
		bad     []any
		comment string
	}{
		{tag: "utf8", good: []any{"", "plain", "é ü 中文", "a\x00b"}, bad: []any{"\xff\xfe", "a\xc0\xafb", "\xed\xa0\x80"}},
		{tag: "nocontrol", good: []any{"", "two\nlines", "a\ttab", "é"},
			bad: []any{"a\x00b", "a\rb", "esc\x1b[31m", "del\x7f", "c1\u0085"}},
		{tag: "oneline", good: []any{"", "one line", "a\x00b"}, bad: []any{"one\ntwo", "one\rtwo", "a\tb", "a\u2028b", "a\u2029b"}},
		{tag: "nospace", good: []any{"https://example.org/x", "é"},
			bad: []any{"a b", "a\tb", "a\u00a0b", "a\u3000b", "a\x00b", "a\u200b\x01", "\xff"}},
		{tag: "link",
			good: []any{"https://example.org", "http://example.org/a?b=c#d", "HTTPS://Example.ORG/Path", "https://example.org:8443/x",
				"https://[2001:db8::1]/", long},
			bad: []any{"", "example.org", "//example.org/x", "/relative", "javascript:alert(1)", "JavaScript:alert(1)",
				"data:text/html,<script>alert(1)</script>", "ftp://example.org/file", "mailto:a@example.org", "https://",
				"https://user:secret@example.org/", "https://user@example.org/", "https://example.org/a b", "https://example.org/\tx",
				"https://exa mple.org", "https://example.org/\x00", "https://example.org/%zz",
				"\xff", long + "a", "https://example.org/" + strings.Repeat("é", MaxLinkLen/2)}},
		{tag: "langtag", good: []any{"en", "EN", "fr", "pt-BR", "pt-br", "pt_BR", "es-419", "zh-Hant-TW", "sr-Latn", "de-CH-1996", "yue"},
			bad: []any{"", "e", "english", "en-", "-en", "en--GB", "en GB", "12", "en-GB-x", strings.Repeat("en-", 20) + "en", "en\x00"}},
		{tag: "doi", good: []any{"10.1177/0896920519870577", "doi:10.1000/X", "https://doi.org/10.1000/abc", "http://dx.doi.org/10.1000/abc"},
			bad: []any{"", "10.1/x", "11.1000/x", "10.1000/", "10.1000/a b", "https://example.org/10.1000/x", "10.1000/" + strings.Repeat("x", 200),
				"\xff10.1000/x"}},
		{tag: "isbnsum", good: []any{"9781839764554", "978-1-83976-455-4", "0-306-40615-2", "0306406152", "080442957X", "080442957x", "0 8044 2957 X"},
			bad: []any{"", "9781839764555", "978183976455", "0306406153", "X804429570", "97818397645X4", "978183976455A", "978-1-83976-455-4!"}},
		{tag: "zone", good: []any{"Europe/London", "America/Argentina/Buenos_Aires", "UTC", "Asia/Kolkata"},
			bad: []any{"", "Local", "Mars/Base", "europe/london", "Europe/London/", "../etc/passwd", "/etc/localtime", "Europe/" + strings.Repeat("x", 80)}},
		{tag: "year", good: []any{"1800", "1999", "2100", 1800, 2100, "+2000"},
			bad: []any{"", "1799", "2101", 1799, 2101, "20x0", " 2000", "2000.0", "99999999999999999999"}},
		{tag: "intrange=1 100", good: []any{"1", "100", "50", 1, 100}, bad: []any{"0", "101", "-1", "", "1e2", "ten", 0, 101}},
		{tag: "emailaddr", good: []any{"jo@example.org", "jo.joiner+co-op@mail.example.coop", "Jo@Example.org"},
			bad: []any{"", "jo", "jo@localhost", "Jo <jo@example.org>", "jo@example.org\r\nBcc: x@example.org", "\xff@example.org",
				"jo@example.org (Jo)", "jo @example.org"}},
		{tag: "maxlines=2", good: []any{"", "one", "one\ntwo"}, bad: []any{"one\ntwo\nthree"}},
		{tag: "linemax=3", good: []any{"", "abc", "abc\néüö"}, bad: []any{"abcd", "ab\nabcd", "a\x00", "\xff", "a\tb"}},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			for _, v := range tt.good {
				if !passes(t, v, tt.tag) {
					t.Errorf("%q is refused", v)
				}
			}
			for _, v := range tt.bad {
				if passes(t, v, tt.tag) {
					t.Errorf("%q is accepted", v)
				}
			}
		})
	}
}

func TestNormalisers(t *testing.T) {
	for _, tt := range []struct {
		name     string
		fn       func(string) (string, bool)
		in, want string
	}{
		{"a link's scheme and host go to lower case", Link, "HTTPS://Example.ORG/Path?Q=A", "https://example.org/Path?Q=A"},
		{"a link is written escaped", Link, "https://example.org/café", "https://example.org/caf%C3%A9"},
		{"a link too long once escaped has its form still", LinkForm, "https://example.org/" + strings.Repeat("é", MaxLinkLen/2),
			"https://example.org/" + strings.Repeat("%C3%A9", MaxLinkLen/2)},
		{"a language tag takes its usual case", Language, "PT-br", "pt-BR"},
		{"a script is title case", Language, "zh-hant-tw", "zh-Hant-TW"},
		{"an underscore is a hyphen", Language, "en_gb", "en-GB"},
		{"a DOI loses its link and goes to lower case", DOI, "https://doi.org/10.1000/ABC", "10.1000/abc"},
		{"a DOI loses its doi: prefix", DOI, " doi: 10.1000/x ", "10.1000/x"},
		{"an ISBN loses its hyphens", ISBN, "978-1-83976-455-4", "9781839764554"},
		{"an ISBN's check X goes to upper case", ISBN, "0-8044-2957-x", "080442957X"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.fn(tt.in)
			if !ok || got != tt.want {
				t.Errorf("%q → %q, %t; want %q", tt.in, got, ok, tt.want)
			}
			// What is kept passes again unchanged, so checking it twice
			// (an edit form sent back as it came) never refuses it.
			if again, ok := tt.fn(got); !ok || again != got {
				t.Errorf("%q → %q, %t the second time", got, again, ok)
			}
		})
	}
}

// form is an input type as the domain writes them.
type form struct {
	Title   string `form:"title" validate:"utf8,nocontrol,required,max=5"`
	Link    string `form:"url" validate:"required,max=30,nospace,link"`
	Year    string `form:"year" validate:"omitempty,year"`
	Count   int    `form:"count" validate:"omitempty,min=1,max=9"`
	Kind    string `form:"kind" validate:"oneof=report 'case study' other"`
	Zone    string `form:"zone" validate:"omitempty,zone"`
	Unnamed string `validate:"required"`
	Skipped string `form:"-" validate:"required"`
	Free    string `form:"free"`
}

func (form) Messages() map[string]string {
	return map[string]string{"title.required": "Enter a title.", "url.link": "Enter the whole link."}
}

// plain is the same without messages of its own.
type plain struct {
	Title string `form:"title" validate:"utf8,nocontrol,required,max=5"`
}

func TestStructMessages(t *testing.T) {
	good := form{Title: "Title", Link: "https://example.org", Kind: "case study", Unnamed: "x", Skipped: "x"}
	tests := []struct {
		name   string
		change func(*form)
		want   Errors
	}{
		{"a valid input has no messages", func(*form) {}, Errors{}},
		{"the type's own message is used", func(f *form) { f.Title = "" }, Errors{"title": "Enter a title."}},
		{"a tag without one gets the general message", func(f *form) { f.Title = "Too long" }, Errors{"title": "Keep this under 5 characters."}},
		{"only the first failing tag speaks for a field", func(f *form) { f.Title = "\xff\xff\xff\xff\xff\xff" },
			Errors{"title": "This contains invalid characters."}},
		{"control characters", func(f *form) { f.Title = "a\x00" }, Errors{"title": "This contains control characters."}},
		{"each field speaks for itself", func(f *form) { f.Title, f.Link, f.Year = "", "javascript:alert(1)", "1799" },
			Errors{"title": "Enter a title.", "url": "Enter the whole link.", "year": "Enter a year between 1800 and 2100."}},
		{"a link with a space is named as such", func(f *form) { f.Link = "https://example.org/a b" },
			Errors{"url": "This cannot contain spaces or invisible characters."}},
		{"a number has a number's message", func(f *form) { f.Count = 10 }, Errors{"count": "Enter at most 9."}},
		{"a choice not offered", func(f *form) { f.Kind = "case" }, Errors{"kind": "Choose one of the options listed."}},
		{"a time zone", func(f *form) { f.Zone = "Mars/Base" }, Errors{"zone": "Choose a time zone such as Europe/London."}},
		{"an empty optional time zone passes", func(f *form) { f.Zone = "" }, Errors{}},
		{"a field without a form name goes by its Go name", func(f *form) { f.Unnamed, f.Skipped = "", "" },
			Errors{"Unnamed": "Fill this in.", "Skipped": "Fill this in."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			tt.change(&f)
			if got := Struct(f); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a pointer is checked as its struct", func(t *testing.T) {
		f := good
		f.Title = ""
		if got, want := Struct(&f), (Errors{"title": "Enter a title."}); !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("a type without messages gets the general ones", func(t *testing.T) {
		if got, want := Struct(plain{}), (Errors{"title": "Fill this in."}); !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("the map is never nil, so checks that follow can add to it", func(t *testing.T) {
		v := Struct(good)
		v["extra"] = "added" // would panic on a nil map
		if v.Err() == nil {
			t.Error("Err is nil with a message in the map")
		}
	})
}

func TestPartial(t *testing.T) {
	f := form{Title: "", Link: "not a link", Year: "1700"}
	if got, want := Partial(f, "Title"), (Errors{"title": "Enter a title."}); !reflect.DeepEqual(got, want) {
		t.Errorf("Partial(Title) = %v, want %v", got, want)
	}
	if got, want := Partial(f, "Link", "Year"), (Errors{"url": "This cannot contain spaces or invisible characters.",
		"year": "Enter a year between 1800 and 2100."}); !reflect.DeepEqual(got, want) {
		t.Errorf("Partial(Link, Year) = %v, want %v", got, want)
	}
	if got := Partial(form{Title: "Fine"}, "Title"); len(got) != 0 {
		t.Errorf("Partial(Title) of a good title = %v", got)
	}
}

func TestOneOf(t *testing.T) {
	if got, want := OneOf(form{}, "Kind"), []string{"report", "case study", "other"}; !reflect.DeepEqual(got, want) {
		t.Errorf("OneOf = %q, want %q", got, want)
	}
	for _, field := range []string{"Title", "Missing"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("OneOf(%s) did not panic", field)
				}
			}()
			OneOf(form{}, field)
		}()
	}
}

func TestMistakesInTagsPanic(t *testing.T) {
	type unknownTag struct {
		A string `validate:"nosuchcheck"`
	}
	type textOnInt struct {
		A int `validate:"link"`
	}
	type badRange struct {
		A string `validate:"intrange=1"`
	}
	for _, v := range []any{unknownTag{}, textOnInt{}, badRange{A: "1"}, "not a struct"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Struct(%T) did not panic", v)
				}
			}()
			Struct(v)
		}()
	}
}

// The one validator is safe to share: many requests check at once.
func TestStructConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				f := form{Title: strings.Repeat("x", i+1), Link: "https://example.org", Kind: "other", Unnamed: "x", Skipped: "x"}
				got := Struct(f)
				if (i+1 > 5) != (got["title"] != "") {
					t.Errorf("title of %d characters: %v", i+1, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
