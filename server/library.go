package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/library"
)

// viewer is who is asking, in the library's terms.
func viewer(c *gin.Context) library.Viewer {
	m := member(c)
	if m == nil {
		return library.Viewer{}
	}
	return library.Viewer{ID: m.ID, Active: m.IsActive(), Admin: m.IsAdmin()}
}

// searchQuery reads a library search from the query string; the library
// cleans and caps it.
func searchQuery(c *gin.Context) library.Query {
	year := func(name string) int {
		n, _ := strconv.Atoi(c.Query(name))
		return n
	}
	per, _ := strconv.Atoi(c.Query("per_page"))
	return library.Query{
		Text:      c.Query("q"),
		Topics:    c.QueryArray("topic"),
		Formats:   c.QueryArray("format"),
		Languages: c.QueryArray("language"),
		Regions:   c.QueryArray("region"),
		YearFrom:  year("from"),
		YearTo:    year("to"),
		Sort:      c.Query("sort"),
		Page:      pageParam(c),
		PerPage:   per,
	}
}

// queryValues writes a query back as URL parameters, for links that change
// one thing (a facet, the page, the sort) and keep the rest.
func queryValues(q library.Query) url.Values {
	v := url.Values{}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	v["topic"], v["format"], v["language"], v["region"] = q.Topics, q.Formats, q.Languages, q.Regions
	if q.YearFrom != 0 {
		v.Set("from", strconv.Itoa(q.YearFrom))
	}
	if q.YearTo != 0 {
		v.Set("to", strconv.Itoa(q.YearTo))
	}
	if q.Sort != "" && !(q.Sort == library.SortRelevance && q.Text != "") && !(q.Sort == library.SortNewest && q.Text == "") {
		v.Set("sort", q.Sort)
	}
	for k, vals := range v {
		if len(vals) == 0 {
			delete(v, k)
		}
	}
	return v
}

// facetGroup is one facet as the page draws it: options as links that
// toggle them.
type facetGroup struct {
	Name, Label string
	Options     []facetLink
}

type facetLink struct {
	library.Option
	Href string
	// Label is the option as people read it (a language's name for its
	// tag); Value, as the catalogue keeps it.
	Label string
}

type libraryData struct {
	Results  library.Results
	Groups   []facetGroup
	Decades  []facetLink
	Pager    pagination
	Sorts    []string
	Exports  []exportLink
	Filtered bool
	Clear    string
	// Active are the filters in force, each with the link that removes
	// it, shown above the results whether the facets are folded or not.
	Active []facetLink
}

// facetPanel is the facets drawn once in a phone's folded "Filters" and
// once in a wide screen's sidebar (library/index.html): Prefix keeps the
// ids of the two copies apart.
type facetPanel struct {
	libraryData
	Prefix string
}

// Panel is the facets for one of the two places they are drawn.
func (d libraryData) Panel(prefix string) facetPanel {
	return facetPanel{libraryData: d, Prefix: prefix}
}

func (s *Server) listResources(c *gin.Context) {
	res, err := s.lib.Search(c.Request.Context(), searchQuery(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	q := res.Query
	link := func(change func(*library.Query)) string {
		next := q
		next.Topics = append([]string(nil), q.Topics...)
		next.Formats = append([]string(nil), q.Formats...)
		next.Languages = append([]string(nil), q.Languages...)
		next.Regions = append([]string(nil), q.Regions...)
		next.Page = 1
		change(&next)
		if enc := queryValues(next).Encode(); enc != "" {
			return "/library?" + enc
		}
		return "/library"
	}
	toggle := func(list []string, v string) []string {
		for i, x := range list {
			if x == v {
				return append(list[:i:i], list[i+1:]...)
			}
		}
		return append(list, v)
	}
	// name reads a facet's value as people do: a language by its name.
	name := func(facet, v string) string {
		if facet == "language" {
			return library.LanguageName(v)
		}
		return v
	}
	data := libraryData{Results: res, Sorts: library.Sorts,
		Filtered: len(q.Topics)+len(q.Formats)+len(q.Languages)+len(q.Regions) > 0 || q.YearFrom != 0 || q.YearTo != 0,
		Clear:    link(func(n *library.Query) { *n = library.Query{Text: q.Text, Sort: q.Sort} }),
	}
	for _, f := range []struct {
		name, label string
		opts        []library.Option
		field       func(*library.Query) *[]string
	}{
		{"topic", "Topic", res.Facets.Topics, func(n *library.Query) *[]string { return &n.Topics }},
		{"format", "Format", res.Facets.Formats, func(n *library.Query) *[]string { return &n.Formats }},
		{"language", "Language", res.Facets.Languages, func(n *library.Query) *[]string { return &n.Languages }},
		{"region", "Region", res.Facets.Regions, func(n *library.Query) *[]string { return &n.Regions }},
	} {
		g := facetGroup{Name: f.name, Label: f.label}
		for _, o := range f.opts {
			g.Options = append(g.Options, facetLink{Option: o, Label: name(f.name, o.Value), Href: link(func(n *library.Query) {
				*f.field(n) = toggle(*f.field(n), o.Value)
			})})
		}
		data.Groups = append(data.Groups, g)
		// A filter in use is a chip even when its option is not among
		// the facet's: every one can be taken off.
		for _, v := range *f.field(&q) {
			data.Active = append(data.Active, facetLink{Label: f.label + ": " + name(f.name, v), Href: link(func(n *library.Query) {
				*f.field(n) = toggle(*f.field(n), v)
			})})
		}
	}
	for _, d := range res.Facets.Decades {
		from, _ := strconv.Atoi(d.Value)
		d.Selected = q.YearFrom == from && q.YearTo == from+9
		data.Decades = append(data.Decades, facetLink{Option: d, Href: link(func(n *library.Query) {
			if d.Selected {
				n.YearFrom, n.YearTo = 0, 0
			} else {
				n.YearFrom, n.YearTo = from, from+9
			}
		})})
	}
	if q.YearFrom != 0 || q.YearTo != 0 {
		label := fmt.Sprintf("Published %d–%d", q.YearFrom, q.YearTo)
		switch {
		case q.YearTo == 0:
			label = fmt.Sprintf("Published from %d", q.YearFrom)
		case q.YearFrom == 0:
			label = fmt.Sprintf("Published up to %d", q.YearTo)
		}
		data.Active = append(data.Active, facetLink{Label: label, Href: link(func(n *library.Query) { n.YearFrom, n.YearTo = 0, 0 })})
	}
	data.Pager = newPagination(q.Page, res.Total, q.PerPage, func(p int) string {
		v := queryValues(q)
		v.Set("page", strconv.Itoa(p))
		return "/library?" + v.Encode()
	})
	enc := queryValues(q).Encode()
	if enc != "" {
		enc = "?" + enc
	}
	data.Exports = []exportLink{{"CSV for Zotero", "/library/export.csv" + enc}, {"CSL-JSON", "/library/export.csl.json" + enc}, {"JSON", "/library/export.json" + enc}}
	title := "Library"
	if q.Text != "" {
		title = "Library: " + q.Text
	}
	s.render(c, http.StatusOK, "library/index", view{Title: title, Data: data})
}

type exportLink struct{ Label, Href string }

type resourceData struct {
	Resource   library.Resource
	Demands    []library.Demand
	CanEdit    bool
	Duplicates []library.Resource
	JSONLD     map[string]any
	Citation   [][2]string
	// Endorsement checks an endorsed resource's content against the
	// digest on the ledger; nil unless endorsed.
	Endorsement *governance.Endorsement
}

// endorsement checks an endorsed item's content against the ledger, for
// its page; nil for an item not endorsed.
func (s *Server) endorsement(c *gin.Context, what string, id int64) (*governance.Endorsement, error) {
	e, err := s.gov.CheckEndorsement(c.Request.Context(), what, id)
	if errors.Is(err, governance.ErrNotEndorsed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// refuseEndorsed answers a request for an edit form of something a ballot
// endorsed with the message that says how it can change.
func (s *Server) refuseEndorsed(c *gin.Context, msg library.ValidationError) {
	s.renderMessage(c, http.StatusForbidden, "Endorsed by ballot", msg[""])
}

func (s *Server) showResource(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	v := viewer(c)
	r, err := s.lib.Resource(c.Request.Context(), v, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	demands, err := s.lib.DemandsCiting(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	data := resourceData{Resource: r, Demands: demands, CanEdit: library.CanEditResource(v, r),
		JSONLD: library.JSONLD(r, s.cfg.BaseURL), Citation: library.CitationMeta(r, s.cfg.BaseURL)}
	if data.Endorsement, err = s.endorsement(c, "resource", id); err != nil {
		s.fail(c, err)
		return
	}
	if v.Admin {
		if data.Duplicates, err = s.lib.Duplicates(c.Request.Context(), r); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.render(c, http.StatusOK, "library/show", view{Title: r.Title, Data: data})
}

// resourceFields are the resource form's fields.
var resourceFields = []string{"title", "url", "authors", "publisher", "year", "format", "language", "region", "topics", "licence", "summary", "doi", "isbn"}

func resourceInput(c *gin.Context) library.ResourceInput {
	return library.ResourceInput{Title: c.PostForm("title"), URL: c.PostForm("url"), Authors: c.PostForm("authors"),
		Publisher: c.PostForm("publisher"), Year: c.PostForm("year"), Format: c.PostForm("format"),
		Language: c.PostForm("language"), Region: c.PostForm("region"), Topics: c.PostForm("topics"),
		Licence: c.PostForm("licence"), Summary: c.PostForm("summary"), DOI: c.PostForm("doi"), ISBN: c.PostForm("isbn")}
}

func inputForm(in library.ResourceInput) form {
	return form{Values: map[string]string{"title": in.Title, "url": in.URL, "authors": in.Authors, "publisher": in.Publisher,
		"year": in.Year, "format": in.Format, "language": in.Language, "region": in.Region, "topics": in.Topics,
		"licence": in.Licence, "summary": in.Summary, "doi": in.DOI, "isbn": in.ISBN}}
}

type resourceFormData struct {
	Action  string
	Editing bool
	Formats []string
}

func (s *Server) showNewResource(c *gin.Context) {
	s.render(c, http.StatusOK, "library/form", view{Title: "Add a resource",
		Form: form{Values: map[string]string{"language": "en", "format": "report"}},
		Data: resourceFormData{Action: "/library/new", Formats: library.Formats}})
}

func (s *Server) submitResource(c *gin.Context) {
	r, err := s.lib.SubmitResource(c.Request.Context(), viewer(c), resourceInput(c))
	if v := errorsOf(err); v != nil {
		f := postedForm(c, resourceFields...)
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "library/form", view{Title: "Add a resource", Form: f,
			Data: resourceFormData{Action: "/library/new", Formats: library.Formats}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/library/%d", r.ID), "Thank you. The resource is waiting for an admin to list it; only you and the admins can see it until then.")
}

func (s *Server) showEditResource(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	v := viewer(c)
	r, err := s.lib.Resource(c.Request.Context(), v, id)
	if err == nil && r.Endorsed() {
		s.refuseEndorsed(c, library.ErrEndorsedResource)
		return
	}
	if err == nil && !library.CanEditResource(v, r) {
		err = errForbidden
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	action := fmt.Sprintf("/library/%d/edit", id)
	s.render(c, http.StatusOK, "library/form", view{Title: "Edit " + r.Title, Form: inputForm(library.InputOf(r)),
		Data: resourceFormData{Action: action, Editing: true, Formats: library.Formats}})
}

func (s *Server) updateResource(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	_, err := s.lib.UpdateResource(c.Request.Context(), viewer(c), id, resourceInput(c))
	if v := errorsOf(err); v != nil {
		f := postedForm(c, resourceFields...)
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "library/form", view{Title: "Edit resource", Form: f,
			Data: resourceFormData{Action: fmt.Sprintf("/library/%d/edit", id), Editing: true, Formats: library.Formats}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/library/%d", id), "Resource updated.")
}

type adminLibraryData struct {
	Items    []queueItem
	Status   string
	Statuses []string
	Pager    pagination
}

type queueItem struct {
	Resource   library.Resource
	Duplicates []library.Resource
}

func (s *Server) listQueue(c *gin.Context) {
	status := c.DefaultQuery("status", library.StatusPending)
	if status != library.StatusPending && status != library.StatusListed && status != library.StatusHidden {
		status = library.StatusPending
	}
	page := pageParam(c)
	rs, total, err := s.lib.ResourcesWithStatus(c.Request.Context(), status, page)
	if err != nil {
		s.fail(c, err)
		return
	}
	data := adminLibraryData{Status: status, Statuses: []string{library.StatusPending, library.StatusListed, library.StatusHidden}}
	for _, r := range rs {
		dups, err := s.lib.Duplicates(c.Request.Context(), r)
		if err != nil {
			s.fail(c, err)
			return
		}
		data.Items = append(data.Items, queueItem{Resource: r, Duplicates: dups})
	}
	data.Pager = newPagination(page, total, library.QueuePerPage, func(p int) string {
		return fmt.Sprintf("/admin/library?status=%s&page=%d", status, p)
	})
	s.render(c, http.StatusOK, "admin/library", view{Title: "Library queue", Data: data})
}

func (s *Server) setResourceStatus(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	status := c.PostForm("status")
	err := s.lib.SetResourceStatus(c.Request.Context(), viewer(c), id, status)
	if v := errorsOf(err); v != nil {
		msg := v["status"]
		if msg == "" {
			msg = v[""]
		}
		s.renderMessage(c, http.StatusUnprocessableEntity, "Not changed", msg)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	back := localPath(c.PostForm("back"), "/admin/library")
	s.redirect(c, back, fmt.Sprintf("Resource %d is now %s.", id, status))
}

// exportFormats maps the export routes' suffixes to formats and types.
var exportFormats = map[string]struct{ format, contentType string }{
	"json":     {library.FileJSON, "application/json; charset=utf-8"},
	"csv":      {library.FileCSV, "text/csv; charset=utf-8"},
	"csl.json": {library.FileCSL, "application/vnd.citationstyles.csl+json; charset=utf-8"},
}

// exportResources writes the current search in one format, for reference
// managers and other co-ops' libraries.
func (s *Server) exportResources(suffix string) gin.HandlerFunc {
	f := exportFormats[suffix]
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		rs, err := s.lib.SearchAll(ctx, searchQuery(c))
		if err != nil {
			s.fail(c, err)
			return
		}
		var ds []library.Demand
		if f.format == library.FileJSON {
			if _, ds, err = s.lib.AllForExport(ctx); err != nil {
				s.fail(c, err)
				return
			}
		}
		var buf bytes.Buffer
		if err := s.lib.Export(ctx, &buf, f.format, rs, ds); err != nil {
			s.fail(c, err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="library.`+suffix+`"`)
		c.Data(http.StatusOK, f.contentType, buf.Bytes())
	}
}
