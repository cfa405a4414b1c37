package server

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/markdown"
	"plenary/library"
)

// The read-only JSON API. Lists answer {"data": [...], "meta": {...}};
// errors answer {"error": {"code": "...", "message": "..."}}.

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func apiFail(c *gin.Context, status int, code, message string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	c.AbortWithStatusJSON(status, e)
}

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }

type listMeta struct {
	Total   int `json:"total"`
	Page    int `json:"page"`
	Pages   int `json:"pages"`
	PerPage int `json:"per_page"`
}

type apiResource struct {
	library.Resource
	Endorsed bool   `json:"endorsed"`
	HTMLURL  string `json:"html_url"`
}

func (s *Server) apiResource(r library.Resource) apiResource {
	return apiResource{Resource: r, Endorsed: r.Endorsed(), HTMLURL: fmt.Sprintf("%s/library/%d", s.cfg.BaseURL, r.ID)}
}

type apiFacets struct {
	Topic    []library.Option `json:"topic"`
	Format   []library.Option `json:"format"`
	Language []library.Option `json:"language"`
	Region   []library.Option `json:"region"`
	Decade   []library.Option `json:"decade"`
}

func (s *Server) apiListResources(c *gin.Context) {
	res, err := s.lib.Search(c.Request.Context(), searchQuery(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	data := make([]apiResource, len(res.Resources))
	for i, r := range res.Resources {
		data[i] = s.apiResource(r)
	}
	q := res.Query
	c.JSON(http.StatusOK, gin.H{
		"data":   data,
		"meta":   listMeta{Total: res.Total, Page: q.Page, Pages: res.Pages, PerPage: q.PerPage},
		"facets": apiFacets{res.Facets.Topics, res.Facets.Formats, res.Facets.Languages, res.Facets.Regions, res.Facets.Decades},
	})
}

func (s *Server) apiShowResource(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	// The API is public: it shows only what the public may see.
	r, err := s.lib.Resource(c.Request.Context(), library.Viewer{}, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.endorsement(c, "resource", id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": s.apiResource(r), "endorsement": apiEndorsementOf(e)})
}

// apiEndorsement is an endorsed item's content checked against the ledger.
type apiEndorsement struct {
	Digest        string `json:"digest"`         // of the content as served now
	LedgerDigest  string `json:"ledger_digest"`  // the digest last recorded on the ledger
	LedgerEntry   int64  `json:"ledger_entry"`   // the entry that recorded it
	MatchesLedger bool   `json:"matches_ledger"` // the content is what the members endorsed
	Problem       string `json:"problem,omitempty"`
}

func apiEndorsementOf(e *governance.Endorsement) *apiEndorsement {
	if e == nil {
		return nil
	}
	return &apiEndorsement{Digest: e.Current, LedgerDigest: e.Ledger, LedgerEntry: e.LedgerSeq, MatchesLedger: e.OK(), Problem: e.Problem()}
}

type apiDemand struct {
	library.Demand
	Tally   json.RawMessage `json:"tally,omitempty"`
	HTMLURL string          `json:"html_url"`
}

func (s *Server) apiDemand(d library.Demand) apiDemand {
	a := apiDemand{Demand: d, HTMLURL: fmt.Sprintf("%s/demands/%d", s.cfg.BaseURL, d.ID)}
	if d.Tally != nil {
		a.Tally = json.RawMessage(*d.Tally)
	}
	if a.Demand.Resources == nil {
		a.Demand.Resources = []int64{}
	}
	return a
}

func (s *Server) apiListDemands(c *gin.Context) {
	q := library.DemandQuery{Page: pageParam(c), Audience: c.Query("audience"), Status: c.Query("status")}
	if q.Audience != "" && !slices.Contains(library.Audiences, q.Audience) {
		apiFail(c, http.StatusBadRequest, "bad_audience", "audience must be one of: "+strings.Join(library.Audiences, ", "))
		return
	}
	if q.Status != "" && !slices.Contains(demandStatuses, q.Status) {
		apiFail(c, http.StatusBadRequest, "bad_status", "status must be one of: "+strings.Join(demandStatuses, ", "))
		return
	}
	ds, total, err := s.lib.Demands(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	data := make([]apiDemand, len(ds))
	for i, d := range ds {
		full, err := s.lib.Demand(c.Request.Context(), d.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		data[i] = s.apiDemand(full)
	}
	pages := max(1, (total+library.DemandsPerPage-1)/library.DemandsPerPage)
	c.JSON(http.StatusOK, gin.H{"data": data, "meta": listMeta{Total: total, Page: q.Page, Pages: pages, PerPage: library.DemandsPerPage}})
}

func (s *Server) apiShowDemand(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	d, err := s.lib.Demand(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.endorsement(c, "demand", id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": s.apiDemand(d), "endorsement": apiEndorsementOf(e)})
}

// Atom feed of newly listed resources.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomEntry struct {
	Title   string       `xml:"title"`
	ID      string       `xml:"id"`
	Updated string       `xml:"updated"`
	Links   []atomLink   `xml:"link"`
	Authors []atomAuthor `xml:"author"`
	Summary atomText     `xml:"summary"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

func (s *Server) libraryFeed(c *gin.Context) {
	newest, err := s.lib.Newest(c.Request.Context(), 50)
	if err != nil {
		s.fail(c, err)
		return
	}
	base := s.cfg.BaseURL
	feed := atomFeed{Title: s.cfg.Name + ": new in the library", ID: base + "/library/feed.atom",
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Links:   []atomLink{{Href: base + "/library/feed.atom", Rel: "self"}, {Href: base + "/library", Rel: "alternate", Type: "text/html"}}}
	for _, r := range newest {
		updated := r.UpdatedAt
		if r.ListedAt != nil {
			updated = *r.ListedAt
		}
		if u := updated.UTC().Format(time.RFC3339); u > feed.Updated {
			feed.Updated = u
		}
		e := atomEntry{Title: r.Title, ID: fmt.Sprintf("%s/library/%d", base, r.ID), Updated: updated.UTC().Format(time.RFC3339),
			Links:   []atomLink{{Href: fmt.Sprintf("%s/library/%d", base, r.ID), Rel: "alternate", Type: "text/html"}, {Href: r.URL, Rel: "related"}},
			Summary: atomText{Type: "html", Body: markdown.HTML(r.Summary)}}
		for _, a := range r.Authors {
			e.Authors = append(e.Authors, atomAuthor{Name: a})
		}
		if len(e.Authors) == 0 {
			e.Authors = []atomAuthor{{Name: s.cfg.Name}}
		}
		feed.Entries = append(feed.Entries, e)
	}
	out, err := xml.MarshalIndent(feed, "", "  ")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/atom+xml; charset=utf-8", append([]byte(xml.Header), out...))
}
