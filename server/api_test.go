package server_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/library"
)

// apiResourceDoc is a resource as the API writes it.
type apiResourceDoc struct {
	ID       int64    `json:"id"`
	Title    string   `json:"title"`
	URL      string   `json:"url"`
	Format   string   `json:"format"`
	Topics   []string `json:"topics"`
	Status   string   `json:"status"`
	Endorsed bool     `json:"endorsed"`
	HTMLURL  string   `json:"html_url"`
}

type apiMeta struct {
	Total   int `json:"total"`
	Page    int `json:"page"`
	Pages   int `json:"pages"`
	PerPage int `json:"per_page"`
}

type apiResourceList struct {
	Data   []apiResourceDoc            `json:"data"`
	Meta   apiMeta                     `json:"meta"`
	Facets map[string][]map[string]any `json:"facets"`
}

type apiDemandDoc struct {
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Audience  string  `json:"audience"`
	Status    string  `json:"status"`
	Resources []int64 `json:"resources"`
	HTMLURL   string  `json:"html_url"`
}

type apiDemandList struct {
	Data []apiDemandDoc `json:"data"`
	Meta apiMeta        `json:"meta"`
}

// wantJSON fails unless r is JSON, and decodes it into v.
func wantJSON(t *testing.T, r *response, v any) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", r, ct)
	}
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", r, err, clip(r.Body))
	}
}

// wantAPIError fails unless r is the API's error shape, and only that:
// {"error": {"code": code, "message": "…"}}, as JSON, with status.
func wantAPIError(t *testing.T, r *response, status int, code string) {
	t.Helper()
	r.wantStatus(t, status)
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json. Body:\n%s", r, ct, excerpt(r.Body))
		return
	}
	dec := json.NewDecoder(strings.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Errorf("%s: the body is not {\"error\":{\"code\",\"message\"}}: %v\n%s", r, err, r.Body)
		return
	}
	if e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("%s: error %+v, want code %q and a message", r, e.Error, code)
	}
}

func TestAPIResourcesMatchTheLibraryPage(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	anon := w.client()

	queries := []string{
		"",
		"q=co-op",
		"q=platform&topic=ownership",
		"topic=platform+co-ops&format=book",
		"format=report&format=book&sort=title",
		"q=cooperative&sort=year",
		"region=UK&language=en",
		"from=2010&to=2019",
		"per_page=5&page=2",
		"per_page=5&page=4&sort=title",
		"q=%22unbalanced&topic=%3Cscript%3E",
		"page=999999999999",
		"per_page=100000",
	}
	for _, q := range queries {
		t.Run("?"+q, func(t *testing.T) {
			page := anon.get(t, "/library?"+q)
			page.wantStatus(t, http.StatusOK)
			r := anon.get(t, "/api/v1/resources?"+q)
			r.wantStatus(t, http.StatusOK)
			var list apiResourceList
			wantJSON(t, r, &list)

			if n := resultsCount(t, page); list.Meta.Total != n {
				t.Errorf("the API counts %d, the page %d", list.Meta.Total, n)
			}
			ids := make([]int64, len(list.Data))
			for i, d := range list.Data {
				ids[i] = d.ID
			}
			if want := resultIDs(page.Body); !slices.Equal(ids, want) {
				t.Errorf("the API lists %v, the page %v", ids, want)
			}
			m := list.Meta
			if m.PerPage < 1 || m.PerPage > library.MaxPerPage || m.Page < 1 || m.Pages != max(1, (m.Total+m.PerPage-1)/m.PerPage) {
				t.Errorf("meta %+v does not add up", m)
			}
			if len(list.Data) > m.PerPage {
				t.Errorf("%d results on a page of %d", len(list.Data), m.PerPage)
			}
			for _, d := range list.Data {
				if d.Status != library.StatusListed || d.HTMLURL != w.URL+"/library/"+strconv.FormatInt(d.ID, 10) {
					t.Errorf("resource %+v: want listed, with its page's address", d)
				}
			}
			for _, group := range []string{"topic", "format", "language", "region", "decade"} {
				if _, ok := list.Facets[group]; !ok {
					t.Errorf("no %q facet in %v", group, list.Facets)
				}
			}
		})
	}

	t.Run("per_page and page are as asked, within bounds", func(t *testing.T) {
		for q, want := range map[string]apiMeta{
			"per_page=5&page=2":  {Page: 2, PerPage: 5},
			"per_page=100000":    {Page: 1, PerPage: library.MaxPerPage},
			"per_page=-3":        {Page: 1, PerPage: library.DefaultPerPage},
			"page=999999999999":  {Page: library.MaxPage, PerPage: library.DefaultPerPage},
			"page=abc&per_page=": {Page: 1, PerPage: library.DefaultPerPage},
		} {
			var list apiResourceList
			wantJSON(t, anon.get(t, "/api/v1/resources?"+q), &list)
			if list.Meta.Page != want.Page || list.Meta.PerPage != want.PerPage {
				t.Errorf("?%s: meta %+v, want page %d of %d per page", q, list.Meta, want.Page, want.PerPage)
			}
		}
	})

	t.Run("facets count what each option would give", func(t *testing.T) {
		var list apiResourceList
		wantJSON(t, anon.get(t, "/api/v1/resources?format=book&topic=ownership"), &list)
		count := func(where string, args ...any) int {
			var n int
			if err := w.DB.R.Get(&n, `SELECT count(*) FROM resources r WHERE status = 'listed' AND `+where, args...); err != nil {
				t.Fatal(err)
			}
			return n
		}
		hasTopic := `EXISTS (SELECT 1 FROM ` + w.DB.JSONEach("r.topics", "t") + ` WHERE t.value = ?)`
		checks := map[string]func(value string) int{
			// A group's counts apply the other groups' filters, not its own.
			"topic":  func(v string) int { return count(`format = 'book' AND `+hasTopic, v) },
			"format": func(v string) int { return count(`format = ? AND `+hasTopic, v, "ownership") },
		}
		for group, want := range checks {
			opts := list.Facets[group]
			if len(opts) == 0 {
				t.Errorf("no %s options", group)
			}
			for _, o := range opts {
				value, ok1 := o["value"].(string)
				n, ok2 := o["count"].(float64)
				selected, ok3 := o["selected"].(bool)
				if !ok1 || !ok2 || !ok3 || len(o) != 3 {
					t.Errorf("%s option %v: want exactly value, count and selected", group, o)
					continue
				}
				if int(n) != want(value) {
					t.Errorf("%s %q counts %d, want %d", group, value, int(n), want(value))
				}
				if wantSel := value == "book" || value == "ownership"; selected != wantSel {
					t.Errorf("%s %q selected = %v", group, value, selected)
				}
			}
		}
	})
}

func TestAPIShowsOnlyWhatThePublicMaySee(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	t.Run("a listed resource", func(t *testing.T) {
		var doc struct{ Data apiResourceDoc }
		wantJSON(t, w.client().get(t, "/api/v1/resources/"+id(w.othersListed)), &doc)
		if doc.Data.ID != w.othersListed || doc.Data.Title != "Other's listed report" || doc.Data.Endorsed ||
			doc.Data.HTMLURL != w.URL+"/library/"+id(w.othersListed) {
			t.Errorf("got %+v", doc.Data)
		}
	})

	for name, c := range map[string]*client{"anyone": w.client(), "its submitter": w.memberC, "an admin": w.adminC} {
		t.Run("a pending resource is not found by "+name, func(t *testing.T) {
			wantAPIError(t, c.get(t, "/api/v1/resources/"+id(w.pending)), http.StatusNotFound, "not_found")
		})
	}
	t.Run("a hidden resource is not found", func(t *testing.T) {
		wantAPIError(t, w.otherC.get(t, "/api/v1/resources/"+id(w.hidden)), http.StatusNotFound, "not_found")
	})
	for _, forged := range forgedPaths {
		t.Run("resource "+forged+" is not found", func(t *testing.T) {
			wantAPIError(t, w.client().get(t, "/api/v1/resources/"+forged), http.StatusNotFound, "not_found")
		})
		t.Run("demand "+forged+" is not found", func(t *testing.T) {
			wantAPIError(t, w.client().get(t, "/api/v1/demands/"+forged), http.StatusNotFound, "not_found")
		})
	}
	t.Run("the list holds no pending or hidden resource", func(t *testing.T) {
		var list apiResourceList
		wantJSON(t, w.memberC.get(t, "/api/v1/resources?per_page=100"), &list)
		for _, d := range list.Data {
			if d.ID == w.pending || d.ID == w.othersPending || d.ID == w.hidden {
				t.Errorf("the list holds resource %d (%s)", d.ID, d.Title)
			}
		}
	})
}

func TestAPIDemands(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	anon := w.client()
	count := func(where string, args ...any) int {
		var n int
		if err := w.DB.R.Get(&n, `SELECT count(*) FROM demands WHERE `+where, args...); err != nil {
			t.Fatal(err)
		}
		return n
	}

	for _, c := range []struct{ query, audience, status string }{
		{"", "", ""},
		{"audience=unions", "unions", ""},
		{"audience=local+government", "local government", ""},
		{"status=proposed", "", library.DemandProposed},
		{"status=endorsed", "", library.DemandEndorsed},
		{"audience=national+government&status=proposed", "national government", library.DemandProposed},
		{"page=abc", "", ""},
	} {
		t.Run("?"+c.query, func(t *testing.T) {
			var list apiDemandList
			r := anon.get(t, "/api/v1/demands?"+c.query)
			r.wantStatus(t, http.StatusOK)
			wantJSON(t, r, &list)
			want := count(`(? = '' OR audience = ?) AND (? = '' OR status = ?)`, c.audience, c.audience, c.status, c.status)
			if list.Meta.Total != want {
				t.Errorf("total %d, want %d", list.Meta.Total, want)
			}
			if len(list.Data) != min(want, library.DemandsPerPage) {
				t.Errorf("%d demands on the page, want %d", len(list.Data), min(want, library.DemandsPerPage))
			}
			for _, d := range list.Data {
				if (c.audience != "" && d.Audience != c.audience) || (c.status != "" && d.Status != c.status) {
					t.Errorf("demand %+v does not match the filter", d)
				}
				if d.Resources == nil || d.HTMLURL != w.URL+"/demands/"+strconv.FormatInt(d.ID, 10) {
					t.Errorf("demand %+v: want a resources list and its page's address", d)
				}
			}
		})
	}

	t.Run("a demand with its supporting resources", func(t *testing.T) {
		var doc struct{ Data apiDemandDoc }
		wantJSON(t, anon.get(t, "/api/v1/demands/"+strconv.FormatInt(w.demand, 10)), &doc)
		if doc.Data.ID != w.demand || !slices.Equal(doc.Data.Resources, []int64{w.othersListed}) {
			t.Errorf("got %+v", doc.Data)
		}
	})

	for _, bad := range []struct{ query, code string }{
		{"audience=aliens", "bad_audience"},
		{"audience=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "bad_audience"},
		{"audience=%ff%fe", "bad_audience"},
		{"status=bogus", "bad_status"},
		{"status=%27%3B+DROP+TABLE+demands%3B+--", "bad_status"},
	} {
		t.Run("?"+bad.query+" is refused", func(t *testing.T) {
			r := anon.get(t, "/api/v1/demands?"+bad.query)
			wantAPIError(t, r, http.StatusBadRequest, bad.code)
			if strings.Contains(r.Body, "<script>") {
				t.Errorf("the error echoes markup: %s", r.Body)
			}
		})
	}
}

func TestAPIErrorsAreJSON(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	anon := w.client()

	for _, path := range []string{"/api/v1/nope", "/api/v2/resources", "/api/v1/resources/1/extra", "/api/v1/demands/1/resources", "/api/"} {
		t.Run("GET "+path, func(t *testing.T) {
			wantAPIError(t, anon.get(t, path), http.StatusNotFound, "not_found")
		})
	}

	// checkCSRF lets POSTs under /api/ through to the router because none
	// is routed there; a POST route in the API would need the token again.
	t.Run("every API route is a GET", func(t *testing.T) {
		for _, route := range w.Srv.Routes() {
			method, path, _ := strings.Cut(route, " ")
			if strings.HasPrefix(path, "/api/") && method != http.MethodGet && method != http.MethodHead {
				t.Errorf("%s: the API takes GET only; a route that changes data must not be under /api/", route)
			}
		}
	})

	// The API is read-only: any other method on one of its addresses is
	// 405, and on an address it does not have, 404. An API client sends no
	// csrf_token and must still get the API's JSON errors.
	token := w.memberC.csrf(t, "/library")
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodPost, "/api/v1/resources", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPost, "/api/v1/resources/1", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPost, "/api/v1/demands", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPut, "/api/v1/resources/1", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodDelete, "/api/v1/demands/1", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPost, "/api/v1/nope", http.StatusNotFound, "not_found"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			before := w.snapshot(t)
			wantAPIError(t, anon.request(t, c.method, c.path, `{"title":"x"}`, http.Header{"Content-Type": {"application/json"}}), c.status, c.code)
			wantAPIError(t, anon.request(t, c.method, c.path, "title=x", nil), c.status, c.code)
			// A logged-in member's form post, token and all, changes nothing either.
			wantAPIError(t, w.memberC.post(t, c.path, form("csrf_token", token, "title", "x")), c.status, c.code)
			w.wantUnchanged(t, before)
		})
	}
}

// feedDoc is an Atom feed as a feed reader reads it.
type feedDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Entries []struct {
		Title   string `xml:"title"`
		ID      string `xml:"id"`
		Updated string `xml:"updated"`
		Links   []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"link"`
		Authors []struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Summary struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"summary"`
	} `xml:"entry"`
}

func TestLibraryFeedListsNewlyListedResources(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	anon := w.client()

	submit := func(title, summary string) int64 {
		t.Helper()
		values := validResource(title)
		values.Set("summary", summary)
		r := w.memberC.submit(t, "/library/new", "/library/new", values)
		r.wantStatus(t, http.StatusSeeOther)
		return w.lastID(t, "resources")
	}
	list := func(id int64) {
		t.Helper()
		path := "/library/" + strconv.FormatInt(id, 10)
		w.adminC.submit(t, path, "/admin"+path+"/status", form("status", library.StatusListed, "back", path)).wantRedirect(t, path)
	}
	w.Clock.Advance(time.Hour)
	first := submit(`Listed first <b>&</b> "quoted"`, "Plain summary.")
	second := submit("Listed second", libScript+" *co-op* [link](javascript:alert(1))")
	stillPending := submit("Never listed", "Waiting.")
	w.Clock.Advance(time.Hour)
	list(first)
	w.Clock.Advance(time.Hour)
	list(second)
	newest := w.Clock.Now().UTC().Format(time.RFC3339)

	r := anon.get(t, "/library/feed.atom")
	r.wantStatus(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
		t.Errorf("Content-Type %q, want application/atom+xml", ct)
	}
	var feed feedDoc
	dec := xml.NewDecoder(bytes.NewReader([]byte(r.Body)))
	if err := dec.Decode(&feed); err != nil {
		t.Fatalf("the feed is not Atom: %v\n%s", err, clip(r.Body))
	}
	if feed.ID != w.URL+"/library/feed.atom" || feed.Updated != newest || feed.Title == "" {
		t.Errorf("feed id %q, updated %q, title %q; want its own address, updated %s", feed.ID, feed.Updated, feed.Title, newest)
	}

	var want []int64
	if err := w.DB.R.Select(&want, `SELECT id FROM resources WHERE status = 'listed' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(feed.Entries) != min(len(want), 50) {
		t.Errorf("%d entries, want one per listed resource (%d)", len(feed.Entries), len(want))
	}
	var got []int64
	for i, e := range feed.Entries {
		n, err := strconv.ParseInt(strings.TrimPrefix(e.ID, w.URL+"/library/"), 10, 64)
		if err != nil {
			t.Errorf("entry id %q is not a library page", e.ID)
			continue
		}
		got = append(got, n)
		if i > 0 && e.Updated > feed.Entries[i-1].Updated {
			t.Errorf("entry %d (%s) is newer than the one before it", i, e.Updated)
		}
		if len(e.Authors) == 0 || len(e.Links) == 0 || e.Links[0].Href != e.ID || e.Summary.Type != "html" {
			t.Errorf("entry %d: authors %v, links %v, summary type %q", i, e.Authors, e.Links, e.Summary.Type)
		}
		if strings.Contains(e.Summary.Body, "<script") || strings.Contains(e.Summary.Body, "javascript:") {
			t.Errorf("entry %d's summary is not sanitised: %s", i, e.Summary.Body)
		}
	}
	if len(got) < 2 || got[0] != second || got[1] != first {
		t.Errorf("the feed begins %v, want the newest listed first: %d, then %d", got[:min(len(got), 2)], second, first)
	}
	if len(feed.Entries) > 1 && feed.Entries[1].Title != `Listed first <b>&</b> "quoted"` {
		t.Errorf("title read back as %q", feed.Entries[1].Title)
	}
	for _, id := range []int64{stillPending, w.pending, w.othersPending, w.hidden} {
		if slices.Contains(got, id) {
			t.Errorf("the feed holds resource %d, which is not listed", id)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the feed holds %v, want the listed resources %v", got, want)
	}
}
