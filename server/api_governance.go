package server

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

// apiProposal is a proposal in the API. Counts appear only once the ballot
// has closed: Result is nil before that, whoever asks.
type apiProposal struct {
	ID         int64                 `json:"id"`
	Kind       string                `json:"kind"`
	Title      string                `json:"title"`
	Body       string                `json:"body"`
	Status     string                `json:"status"`
	DemandID   *int64                `json:"demand_id,omitempty"`
	ResourceID *int64                `json:"resource_id,omitempty"`
	Amendment  json.RawMessage       `json:"amendment,omitempty"` // {"from", "to"}: an amendment's text
	Author     int64                 `json:"author"`
	OpensAt    time.Time             `json:"opens_at"`
	ClosesAt   time.Time             `json:"closes_at"`
	RollSize   *int                  `json:"roll_size,omitempty"`
	RollDigest *string               `json:"roll_digest,omitempty"`
	Secret     *bool                 `json:"secret,omitempty"`
	Result     json.RawMessage       `json:"result,omitempty"`
	BoxDigest  *string               `json:"box_digest,omitempty"`
	ClosedAt   *time.Time            `json:"closed_at,omitempty"`
	Box        []governance.BoxEntry `json:"box,omitempty"`
	BoxMeta    *listMeta             `json:"box_meta,omitempty"`
	HTMLURL    string                `json:"html_url"`
	// A choice among options: its method, seats, approval limit, office
	// and options. Its result (a ChoiceResult) comes once it closes, and
	// its box's ballots are positions on the ballot, from 0.
	Method       *string     `json:"method,omitempty"`
	Seats        *int        `json:"seats,omitempty"`
	MaxApprovals *int        `json:"max_approvals,omitempty"`
	Office       *string     `json:"office,omitempty"`
	Options      []apiOption `json:"options,omitempty"`
	// Version 9: the members who stood aside, with their reasons, once it
	// has closed (they are on the ledger from the moment they do), and the
	// general meeting whose agenda held it.
	Recusals []apiRecusal `json:"recusals,omitempty"`
	Meeting  int64        `json:"meeting,omitempty"`
}

// apiRecusal is a member who stood aside, by number, with their reason.
type apiRecusal struct {
	Member int64  `json:"member"`
	Reason string `json:"reason"`
}

// apiOption is one option of a choice, as the ballot lists it.
type apiOption struct {
	Position   int    `json:"position"` // from 0, as the box's ballots name it
	Kind       string `json:"kind"`
	Label      string `json:"label"`
	DemandID   *int64 `json:"demand_id,omitempty"`
	ResourceID *int64 `json:"resource_id,omitempty"`
	MemberID   *int64 `json:"member_id,omitempty"`
}

func (s *Server) apiProposal(p governance.Proposal) apiProposal {
	a := apiProposal{ID: p.ID, Kind: p.Kind, Title: p.Title, Body: p.Body, Status: p.Status, DemandID: p.DemandID,
		ResourceID: p.ResourceID, Author: p.AuthorID, OpensAt: p.OpensAt, ClosesAt: p.ClosesAt, RollSize: p.RollSize,
		RollDigest: p.RollDigest, Secret: p.Secret, HTMLURL: fmt.Sprintf("%s/proposals/%d", s.cfg.BaseURL, p.ID)}
	if p.Amendment != nil {
		a.Amendment = json.RawMessage(*p.Amendment)
	}
	if t, ok := p.Tally(); ok {
		a.Result, a.BoxDigest, a.ClosedAt = json.RawMessage(t.JSON()), p.BoxDigest, p.ClosedAt
	}
	if p.IsChoice() {
		a.Method, a.Seats, a.MaxApprovals, a.Office = p.Method, p.Seats, p.MaxApprovals, p.Office
		// The result as stored, byte for byte: its SHA-256 is the
		// result_digest the ledger published at close.
		if _, ok := p.ChoiceResult(); ok {
			a.Result, a.BoxDigest, a.ClosedAt = json.RawMessage(*p.Result), p.BoxDigest, p.ClosedAt
		}
	}
	return a
}

// apiListProposals lists decided ballots: the API is public, and the public
// sees proposals once they close.
func (s *Server) apiListProposals(c *gin.Context) {
	const perPage = 50
	page := pageParam(c)
	ps, total, err := s.gov.ClosedProposals(c.Request.Context(), page, perPage)
	if err != nil {
		s.fail(c, err)
		return
	}
	data := make([]apiProposal, len(ps))
	for i, p := range ps {
		data[i] = s.apiProposal(p)
	}
	c.JSON(http.StatusOK, gin.H{"data": data, "meta": listMeta{Total: total, Page: page, Pages: max(1, (total+perPage-1)/perPage), PerPage: perPage}})
}

func (s *Server) apiShowProposal(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	p, err := s.gov.Proposal(c.Request.Context(), nil, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	a := s.apiProposal(p)
	if p.IsChoice() {
		options, err := s.gov.Options(c.Request.Context(), p.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, o := range options {
			a.Options = append(a.Options, apiOption{Position: o.Position, Kind: o.Kind, Label: o.Label, DemandID: o.DemandID,
				ResourceID: o.ResourceID, MemberID: o.MemberID})
		}
	}
	if p.Closed() {
		// The box comes a page at a time (?box_page=N): a big co-op's box
		// has a line per voter.
		page := pageNumber(c.Query("box_page"))
		var total int
		if a.Box, total, err = s.gov.BoxPage(c.Request.Context(), p, page); err != nil {
			s.fail(c, err)
			return
		}
		per := governance.BoxPerPage
		a.BoxMeta = &listMeta{Total: total, Page: page, Pages: max(1, (total+per-1)/per), PerPage: per}
		rs, err := s.gov.Recusals(c.Request.Context(), p.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, r := range rs {
			a.Recusals = append(a.Recusals, apiRecusal{Member: r.MemberID, Reason: r.Reason})
		}
	}
	if a.Meeting, err = s.gov.MeetingOf(c.Request.Context(), p.ID); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": a})
}

func (s *Server) apiLedger(c *gin.Context) {
	page := pageParam(c)
	entries, total, err := s.gov.Ledger(c.Request.Context(), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	type apiEntry struct {
		governance.Entry
		Body    json.RawMessage `json:"body"`
		Summary string          `json:"summary"`
	}
	data := make([]apiEntry, len(entries))
	for i, e := range entries {
		data[i] = apiEntry{Entry: e, Body: json.RawMessage(e.Body), Summary: e.Summary()}
	}
	per := governance.LedgerPerPage
	c.JSON(http.StatusOK, gin.H{"data": data, "meta": listMeta{Total: total, Page: page, Pages: max(1, (total+per-1)/per), PerPage: per}})
}

// decisionsFeed is an Atom feed of ballots as they close.
func (s *Server) decisionsFeed(c *gin.Context) {
	ps, _, err := s.gov.ClosedProposals(c.Request.Context(), 1, 50)
	if err != nil {
		s.fail(c, err)
		return
	}
	base := s.cfg.BaseURL
	feed := atomFeed{Title: s.cfg.Name + ": decisions", ID: base + "/feed.atom", Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Links: []atomLink{{Href: base + "/feed.atom", Rel: "self"}, {Href: base + "/proposals", Rel: "alternate", Type: "text/html"}}}
	for _, p := range ps {
		t, _ := p.Tally()
		updated := p.ClosedAt.UTC().Format(time.RFC3339)
		if updated > feed.Updated {
			feed.Updated = updated
		}
		link := fmt.Sprintf("%s/proposals/%d", base, p.ID)
		title := fmt.Sprintf("%s: %s", p.Title, t.Outcome)
		summary := fmt.Sprintf("%s. %d yes, %d no, %d abstain; turnout %d of %d (quorum %d%%, %s).",
			p.KindName(), t.Yes, t.No, t.Abstain, t.Turnout(), t.RollSize, t.QuorumPct, map[bool]string{true: "met", false: "not met"}[t.QuorumMet])
		if r, ok := p.ChoiceResult(); ok {
			// A choice has no yes or no: what it decided, in the page's words.
			v, err := s.choiceOf(c.Request.Context(), p, governance.Participation{})
			if err != nil {
				s.fail(c, err)
				return
			}
			title = fmt.Sprintf("%s: %s", p.Title, v.Result.Outcome)
			summary = fmt.Sprintf("%s, counted by %s. %s %d ballots cast of %d on the roll (quorum %d%%, %s).", p.KindName(), v.Result.CountedBy,
				v.Result.Decided, r.Ballots, r.RollSize, r.QuorumPct, map[bool]string{true: "met", false: "not met"}[r.QuorumMet])
		}
		feed.Entries = append(feed.Entries, atomEntry{
			Title: title, ID: link, Updated: updated,
			Links:   []atomLink{{Href: link, Rel: "alternate", Type: "text/html"}},
			Authors: []atomAuthor{{Name: s.cfg.Name}},
			Summary: atomText{Type: "text", Body: summary},
		})
	}
	out, err := xml.MarshalIndent(feed, "", "  ")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/atom+xml; charset=utf-8", append([]byte(xml.Header), out...))
}
