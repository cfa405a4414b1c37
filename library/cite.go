package library

import (
	"fmt"
	"strconv"
	"strings"
)

// schemaTypes maps our formats to schema.org types.
var schemaTypes = map[string]string{
	"report": "Report", "article": "ScholarlyArticle", "book": "Book", "toolkit": "CreativeWork",
	"case study": "CreativeWork", "policy brief": "Report", "video": "VideoObject", "podcast": "PodcastEpisode",
	"course": "Course", "dataset": "Dataset", "website": "WebSite", "other": "CreativeWork",
}

// JSONLD describes a resource in schema.org terms, for search engines and
// reference tools that read JSON-LD.
func JSONLD(r Resource, base string) map[string]any {
	typ := schemaTypes[r.Format]
	if typ == "" {
		typ = "CreativeWork"
	}
	m := map[string]any{
		"@context":   "https://schema.org",
		"@type":      typ,
		"@id":        fmt.Sprintf("%s/library/%d", base, r.ID),
		"name":       r.Title,
		"url":        r.URL,
		"inLanguage": r.Language,
	}
	if len(r.Authors) > 0 {
		authors := make([]map[string]string, len(r.Authors))
		for i, a := range r.Authors {
			authors[i] = map[string]string{"@type": "Person", "name": a}
		}
		m["author"] = authors
	}
	if r.Publisher != "" {
		m["publisher"] = map[string]string{"@type": "Organization", "name": r.Publisher}
	}
	if r.Year != nil {
		m["datePublished"] = strconv.Itoa(*r.Year)
	}
	if len(r.Topics) > 0 {
		m["keywords"] = strings.Join(r.Topics, ", ")
	}
	if r.Licence != "" {
		m["license"] = r.Licence
	}
	if r.Summary != "" {
		m["abstract"] = r.Summary
	}
	if r.Region != "" {
		m["spatialCoverage"] = r.Region
	}
	if r.DOI != "" {
		m["identifier"] = "https://doi.org/" + r.DOI
	} else if r.ISBN != "" {
		m["isbn"] = r.ISBN
	}
	return m
}

// CitationMeta is the Highwire Press citation_* meta tags, in order, that
// Zotero, Mendeley and Google Scholar read to save a page in one click.
func CitationMeta(r Resource, base string) [][2]string {
	tags := [][2]string{{"citation_title", r.Title}}
	for _, a := range r.Authors {
		tags = append(tags, [2]string{"citation_author", a})
	}
	if r.Year != nil {
		tags = append(tags, [2]string{"citation_publication_date", strconv.Itoa(*r.Year)})
	}
	if r.Publisher != "" {
		key := "citation_publisher"
		switch r.Format {
		case "report", "policy brief":
			key = "citation_technical_report_institution"
		case "article":
			key = "citation_journal_title"
		}
		tags = append(tags, [2]string{key, r.Publisher})
	}
	if r.DOI != "" {
		tags = append(tags, [2]string{"citation_doi", r.DOI})
	}
	if r.ISBN != "" {
		tags = append(tags, [2]string{"citation_isbn", r.ISBN})
	}
	tags = append(tags, [2]string{"citation_language", r.Language})
	for _, t := range r.Topics {
		tags = append(tags, [2]string{"citation_keywords", t})
	}
	tags = append(tags, [2]string{"citation_public_url", r.URL}, [2]string{"citation_abstract_html_url", fmt.Sprintf("%s/library/%d", base, r.ID)})
	return tags
}
