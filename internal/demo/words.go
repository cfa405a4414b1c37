package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The demo's vocabulary lives in words.json, so that the text can be
// edited without touching the code. Names are from many cultures and mixed
// freely, as in any large co-op; publishers, organisations and links are
// made up (example.org and friends are reserved for examples, 10.5555 is a
// test DOI prefix), so no real body is credited with a generated work.
//
// The order of every list matters: a seed picks by position, so reordering
// a list changes the co-op a seed makes.
//
//go:embed words.json
var wordsJSON []byte

// words is the parsed vocabulary, read once per run.
type words struct {
	GivenNames    []string `json:"given_names"`
	FamilyNames   []string `json:"family_names"`
	Organisations []string `json:"organisations"`
	Publishers    []string `json:"publishers"`
	Formats       []weight `json:"formats"`
	Languages     []weight `json:"languages"` // of resources' titles, each one of Titles
	Licences      []weight `json:"licences"`
	Topics        []string `json:"topics"`
	// Titles holds, per language, what a resource's title is made of.
	Titles          map[string]languageWords `json:"titles"`
	SummaryOpenings []string                 `json:"summary_openings"` // FORMAT is the resource's format
	SummaryMiddles  []string                 `json:"summary_middles"`
	SummaryClosings []string                 `json:"summary_closings"`
	// Slots fill the {slots} of demand and motion templates; {topic} is
	// one of Topics.
	Slots                 map[string][]string `json:"slots"`
	Demands               []demandTemplate    `json:"demands"`
	DemandOutcomes        []string            `json:"demand_outcomes"`
	EndorseDemandBodies   []string            `json:"endorse_demand_bodies"`
	EndorseResourceBodies []string            `json:"endorse_resource_bodies"`
	WithdrawBodies        []string            `json:"withdraw_bodies"`
	MotionTitles          []string            `json:"motion_titles"`
	MotionBodies          []string            `json:"motion_bodies"`
	ProposalClosings      []string            `json:"proposal_closings"` // "" for none
	Comments              []string            `json:"comments"`
}

// languageWords make a resource's title in one language: Pattern takes a
// head, a kind, a subject and a place.
type languageWords struct {
	Pattern  string              `json:"pattern"`
	Heads    []string            `json:"heads"`
	Kinds    []string            `json:"kinds"`
	Subjects []subject           `json:"subjects"`
	Regions  []string            `json:"regions"`
	Places   map[string][]string `json:"places"` // for each region
}

// subject is what a generated resource is about: its name in the title's
// language, in English for the summary (the name when left out), and its
// main topic.
type subject struct {
	Name    string `json:"name"`
	English string `json:"english"`
	Topic   string `json:"topic"`
}

type demandTemplate struct {
	Title    string `json:"title"`
	Audience string `json:"audience"`
	Ask      string `json:"ask"`
}

type weight struct {
	Value  string `json:"value"`
	Weight int    `json:"weight"`
}

// loadWords parses the vocabulary and checks that nothing a generator
// picks from is missing: an empty list would fail deep in a run, after
// minutes of writing.
func loadWords(data []byte) (*words, error) {
	var w words
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("demo: words.json: %w", err)
	}
	for _, lw := range w.Titles {
		for i, s := range lw.Subjects {
			if s.English == "" {
				lw.Subjects[i].English = s.Name
			}
		}
	}
	if w.Slots == nil {
		w.Slots = map[string][]string{}
	}
	w.Slots["topic"] = w.Topics
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("demo: words.json: %w", err)
	}
	return &w, nil
}

func (w *words) check() error {
	lists := map[string][]string{
		"given_names": w.GivenNames, "family_names": w.FamilyNames, "organisations": w.Organisations,
		"publishers": w.Publishers, "topics": w.Topics, "summary_openings": w.SummaryOpenings,
		"summary_middles": w.SummaryMiddles, "summary_closings": w.SummaryClosings, "demand_outcomes": w.DemandOutcomes,
		"endorse_demand_bodies": w.EndorseDemandBodies, "endorse_resource_bodies": w.EndorseResourceBodies,
		"withdraw_bodies": w.WithdrawBodies, "motion_titles": w.MotionTitles, "motion_bodies": w.MotionBodies,
		"proposal_closings": w.ProposalClosings, "comments": w.Comments,
	}
	for name, list := range lists {
		if len(list) == 0 {
			return fmt.Errorf("%s is empty", name)
		}
	}
	for name, ws := range map[string][]weight{"formats": w.Formats, "languages": w.Languages, "licences": w.Licences} {
		total := 0
		for _, x := range ws {
			if x.Weight < 0 {
				return fmt.Errorf("%s: %q weighs %d", name, x.Value, x.Weight)
			}
			total += x.Weight
		}
		if total == 0 {
			return fmt.Errorf("%s: no weight", name)
		}
	}
	if _, ok := w.Titles["en"]; !ok {
		return fmt.Errorf("titles: no en, which summaries name places in")
	}
	for _, lang := range w.Languages {
		lw, ok := w.Titles[lang.Value]
		switch {
		case !ok:
			return fmt.Errorf("titles: no %s, a language of resources", lang.Value)
		case strings.Count(lw.Pattern, "%s") != 4 || strings.Count(lw.Pattern, "%") != 4:
			return fmt.Errorf("titles: %s: pattern %q does not take four strings", lang.Value, lw.Pattern)
		case len(lw.Heads) == 0 || len(lw.Kinds) == 0 || len(lw.Subjects) == 0 || len(lw.Regions) == 0:
			return fmt.Errorf("titles: %s lacks heads, kinds, subjects or regions", lang.Value)
		}
		for _, region := range lw.Regions {
			if len(lw.Places[region]) == 0 {
				return fmt.Errorf("titles: %s: no places in %s", lang.Value, region)
			}
		}
	}
	templates := append(slices.Clone(w.MotionTitles), w.Slots["problem"]...)
	for _, t := range w.Demands {
		templates = append(templates, t.Title)
	}
	for _, t := range templates {
		for rest := t; ; {
			i := strings.IndexByte(rest, '{')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				return fmt.Errorf("%q: a { without its }", t)
			}
			if slot := rest[i+1 : i+j]; len(w.Slots[slot]) == 0 {
				return fmt.Errorf("%q: no words for {%s}", t, slot)
			}
			rest = rest[i+j+1:]
		}
	}
	return nil
}
