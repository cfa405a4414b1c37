package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"plenary/library"
)

// stock loads the starter library and n generated resources, submitted by
// members and listed by the admin.
func (r *run) stock(n int) error {
	r.now = r.now.Add(24 * time.Hour)
	if _, err := r.lib.LoadStarter(r.ctx); err != nil {
		return err
	}
	admin := library.Viewer{ID: r.admin.ID, Active: true, Admin: true}
	for page := 1; ; page++ {
		rs, _, err := r.lib.ResourcesWithStatus(r.ctx, library.StatusListed, page)
		if err != nil {
			return err
		}
		for _, res := range rs {
			r.listed = append(r.listed, res.ID)
		}
		if len(rs) < library.QueuePerPage {
			break
		}
	}
	for page := 1; ; page++ {
		ds, _, err := r.lib.Demands(r.ctx, library.DemandQuery{Status: library.DemandProposed, Page: page})
		if err != nil {
			return err
		}
		for _, dm := range ds {
			r.proposed = append(r.proposed, dm.ID)
		}
		if len(ds) < library.DemandsPerPage {
			break
		}
	}
	slices.Sort(r.listed)
	slices.Sort(r.proposed)

	p := newProgress(r.log, "library", "resources", n)
	const batch = 2000
	titles := map[string]bool{}
	for done := 0; done < n; {
		subs := make([]library.Submission, min(batch, n-done))
		for i := range subs {
			subs[i] = library.Submission{By: r.member(), Input: r.g.resource(done+i+1, titles)}
		}
		ids, err := r.lib.ListMany(r.ctx, admin, subs)
		if err != nil {
			return err
		}
		r.listed = append(r.listed, ids...)
		done += len(ids)
		r.now = r.now.Add(time.Minute)
		p.update(done, "")
	}
	p.done(n, "")
	return nil
}

// resource makes up the n-th generated resource.
func (g *gen) resource(n int, titles map[string]bool) library.ResourceInput {
	format := weighted(g.r, g.w.Formats)
	lang := weighted(g.r, g.w.Languages)
	words := g.w.Titles[lang]
	region := g.pick(words.Regions)
	place := g.pick(words.Places[region])
	subject := words.Subjects[g.r.IntN(len(words.Subjects))]
	var title string
	for tries := 0; ; tries++ {
		title = fmt.Sprintf(words.Pattern, g.pick(words.Heads), g.pick(words.Kinds), subject.Name, place)
		if !titles[title] {
			break
		}
		if tries > 5 {
			title = fmt.Sprintf("%s (%d)", title, n)
			break
		}
	}
	titles[title] = true

	var authors []string
	if g.r.IntN(5) == 0 {
		authors = []string{g.pick(g.w.Organisations)}
	} else {
		for range 1 + g.r.IntN(3) {
			authors = append(authors, g.personName())
		}
	}
	topics := []string{subject.Topic}
	for range 1 + g.r.IntN(3) {
		topics = append(topics, g.pick(g.w.Topics))
	}
	year := g.today.Year() - int(math.Abs(g.r.NormFloat64())*6)
	year = max(year, 1995)

	in := library.ResourceInput{
		Title:     title,
		Authors:   strings.Join(authors, "\n"),
		Publisher: g.pick(g.w.Publishers),
		Year:      strconv.Itoa(year),
		Format:    format,
		Language:  lang,
		Region:    region,
		Topics:    strings.Join(topics, ", "),
		Summary: fmt.Sprintf("%s %s in %s. %s %s", strings.ReplaceAll(g.pick(g.w.SummaryOpenings), "FORMAT", formatNoun(format)),
			strings.ToLower(subject.English), g.englishPlace(region, place), g.pick(g.w.SummaryMiddles), g.pick(g.w.SummaryClosings)),
	}
	slug := slugOf(title)
	switch format {
	case "book":
		in.ISBN = isbn13(g.r)
		in.URL = "https://books.example.com/isbn/" + in.ISBN
	case "article":
		in.DOI = fmt.Sprintf("10.5555/plenary-demo.%d", n)
		in.URL = fmt.Sprintf("https://journal.example.org/articles/%d/%s", n, slug)
	case "podcast", "video":
		in.URL = fmt.Sprintf("https://media.example.net/%s/%d-%s", strings.ReplaceAll(format, " ", "-"), n, slug)
	default:
		in.URL = fmt.Sprintf("https://library.example.org/%s/%d-%s", strings.ReplaceAll(format, " ", "-"), n, slug)
	}
	if format == "article" || format == "report" || format == "toolkit" || format == "course" || format == "dataset" {
		in.Licence = weighted(g.r, g.w.Licences)
	}
	return in
}

func formatNoun(format string) string {
	if format == "other" {
		return "piece"
	}
	return format
}

// englishPlace names a resource's place in the English summary.
func (g *gen) englishPlace(region, place string) string {
	if _, ok := g.w.Titles["en"].Places[region]; ok {
		return place
	}
	return region
}

func isbn13(r *rand.Rand) string {
	digits := "978" + fmt.Sprintf("%09d", r.IntN(1_000_000_000))
	sum := 0
	for i, c := range digits {
		d := int(c - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return digits + strconv.Itoa((10-sum%10)%10)
}

func slugOf(title string) string {
	var b strings.Builder
	dash := false
	for _, word := range strings.FieldsFunc(strings.ToLower(title), func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c > 127)
	}) {
		w := asciiFold(word)
		if w == "" {
			continue
		}
		if dash {
			b.WriteByte('-')
		}
		b.WriteString(w)
		dash = true
		if b.Len() > 60 {
			break
		}
	}
	return b.String()
}
