// Plenary's own JSON: the library's resources and demands, read and written.

package library

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
)

// libraryFormat and libraryVersion identify our own JSON.
const (
	libraryFormat  = "plenary-library"
	libraryVersion = 1
)

// fileResource is a resource in our JSON. Endorsement is written on export,
// for the record, but never read: only a ballot endorses.
type fileResource struct {
	Title     string   `json:"title"`
	URL       string   `json:"url"`
	Authors   []string `json:"authors"`
	Publisher string   `json:"publisher"`
	Year      *int     `json:"year"`
	Format    string   `json:"format"`
	Language  string   `json:"language"`
	Region    string   `json:"region"`
	Topics    []string `json:"topics"`
	Licence   string   `json:"licence"`
	Summary   string   `json:"summary"`
	DOI       string   `json:"doi"`
	ISBN      string   `json:"isbn"`
	Status    string   `json:"status"`
}

type exportResource struct {
	fileResource
	EndorsedAt *time.Time `json:"endorsed_at"`
	EndorsedBy *int64     `json:"endorsed_by_proposal"`
}

type fileDemand struct {
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	Audience  string   `json:"audience"`
	Status    string   `json:"status"`
	Resources []string `json:"resources"`
}

type exportDemand struct {
	fileDemand
	EndorsedAt *time.Time      `json:"endorsed_at"`
	EndorsedBy *int64          `json:"endorsed_by_proposal"`
	Tally      json.RawMessage `json:"tally"`
}

type libraryFile struct {
	Format    string            `json:"format"`
	Version   int               `json:"version"`
	Resources []json.RawMessage `json:"resources"`
	Demands   []json.RawMessage `json:"demands"`
}

func decodeLibrary(data []byte) (Decoded, error) {
	var f libraryFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Decoded{}, fileError("%s", jsonProblem(err))
	}
	if f.Format != libraryFormat {
		return Decoded{}, fileError(`This JSON is not a Plenary library export: it should say "format": %q. (CSL-JSON is a list of items, starting with "[".)`, libraryFormat)
	}
	if f.Version > libraryVersion {
		return Decoded{}, fileError("This file is version %d of the library format; this Plenary reads version %d. Upgrade Plenary to import it.", f.Version, libraryVersion)
	}
	if len(f.Resources)+len(f.Demands) > MaxImportRows {
		return Decoded{}, tooManyRows()
	}
	dec := Decoded{Format: FileFormatNames[FileJSON]}
	for i, raw := range f.Resources {
		var r fileResource
		if err := json.Unmarshal(raw, &r); err != nil {
			dec.Rejected = append(dec.Rejected, RowError{Row: i + 1, Reason: jsonProblem(err)})
			continue
		}
		in := ResourceInput{Title: r.Title, URL: r.URL, Authors: strings.Join(r.Authors, "\n"), Publisher: r.Publisher,
			Format: r.Format, Language: r.Language, Region: r.Region, Topics: strings.Join(r.Topics, "\n"),
			Licence: r.Licence, Summary: r.Summary, DOI: r.DOI, ISBN: r.ISBN}
		if r.Year != nil {
			in.Year = strconv.Itoa(*r.Year)
		}
		dec.Resources = append(dec.Resources, ResourceRow{Row: i + 1, Input: in, Status: r.Status})
	}
	for i, raw := range f.Demands {
		var d fileDemand
		if err := json.Unmarshal(raw, &d); err != nil {
			dec.Rejected = append(dec.Rejected, RowError{Row: i + 1, Demand: true, Reason: jsonProblem(err)})
			continue
		}
		dec.Demands = append(dec.Demands, DemandRow{Row: i + 1, Input: DemandInput{Title: d.Title, Body: d.Body, Audience: d.Audience},
			Status: d.Status, URLs: d.Resources})
	}
	return dec, nil
}

func nonNil(l List) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func exportJSON(w io.Writer, rs []Resource, ds []Demand) error {
	out := struct {
		Format    string           `json:"format"`
		Version   int              `json:"version"`
		Resources []exportResource `json:"resources"`
		Demands   []exportDemand   `json:"demands"`
	}{Format: libraryFormat, Version: libraryVersion, Resources: []exportResource{}, Demands: []exportDemand{}}
	links := make(map[int64]string, len(rs))
	for _, r := range rs {
		links[r.ID] = r.URL
		out.Resources = append(out.Resources, exportResource{
			fileResource: fileResource{Title: r.Title, URL: r.URL, Authors: nonNil(r.Authors), Publisher: r.Publisher,
				Year: r.Year, Format: r.Format, Language: r.Language, Region: r.Region, Topics: nonNil(r.Topics),
				Licence: r.Licence, Summary: r.Summary, DOI: r.DOI, ISBN: r.ISBN, Status: r.Status},
			EndorsedAt: r.EndorsedAt, EndorsedBy: r.EndorsedBy})
	}
	for _, d := range ds {
		urls := []string{}
		for _, id := range d.Resources {
			if link, ok := links[id]; ok {
				urls = append(urls, link)
			}
		}
		var tally json.RawMessage
		if d.Tally != nil && json.Valid([]byte(*d.Tally)) {
			tally = json.RawMessage(*d.Tally)
		}
		out.Demands = append(out.Demands, exportDemand{
			fileDemand: fileDemand{Title: d.Title, Body: d.Body, Audience: d.Audience, Status: d.Status, Resources: urls},
			EndorsedAt: d.EndorsedAt, EndorsedBy: d.EndorsedBy, Tally: tally})
	}
	return encodeJSON(w, out)
}
