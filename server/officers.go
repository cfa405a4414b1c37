package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

// What the co-op's choices among options settled and still stand (issue
// 14): its officers, elected by the latest election to each office, and
// its priority list, set by the latest ballot on priorities. Both are
// public, as every closed ballot is, and so is the ballot behind each.

// office is one office and who holds it, for the officers page.
type office struct {
	Office     string
	ProposalID int64
	Ballot     string // its title
	ElectedAt  time.Time
	Officers   []governance.Officer
}

func (s *Server) showOfficers(c *gin.Context) {
	officers, err := s.gov.Officers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	var offices []office
	for _, o := range officers {
		if n := len(offices); n == 0 || offices[n-1].Office != o.Office {
			offices = append(offices, office{Office: o.Office, ProposalID: o.ProposalID, ElectedAt: o.ElectedAt})
		}
		last := &offices[len(offices)-1]
		if last.Ballot == "" {
			// A closed ballot is public: anyone may read its title.
			p, err := s.gov.Proposal(c.Request.Context(), member(c), o.ProposalID)
			if err != nil {
				s.fail(c, err)
				return
			}
			last.Ballot = p.Title
		}
		last.Officers = append(last.Officers, o)
	}
	s.render(c, http.StatusOK, "officers", view{Title: "Officers", Data: offices})
}

type apiOfficer struct {
	Office      string    `json:"office"`
	Seat        int       `json:"seat"` // from 1, in the order elected
	Name        string    `json:"name"`
	MemberID    *int64    `json:"member_id"` // null for a person who is not a member
	ProposalID  int64     `json:"proposal_id"`
	ElectedAt   time.Time `json:"elected_at"`
	ProposalURL string    `json:"proposal_url"`
}

func (s *Server) apiOfficers(c *gin.Context) {
	officers, err := s.gov.Officers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	data := make([]apiOfficer, len(officers))
	for i, o := range officers {
		data[i] = apiOfficer{Office: o.Office, Seat: o.Seat, Name: o.Name, MemberID: o.MemberID, ProposalID: o.ProposalID,
			ElectedAt: o.ElectedAt.UTC(), ProposalURL: fmt.Sprintf("%s/proposals/%d", s.cfg.BaseURL, o.ProposalID)}
	}
	c.JSON(http.StatusOK, gin.H{"data": data})
}

type apiPriority struct {
	Rank     int    `json:"rank"` // from 1
	DemandID int64  `json:"demand_id"`
	Title    string `json:"title"`
	Status   string `json:"status"` // the demand's status now
	HTMLURL  string `json:"html_url"`
}

type apiPriorityBallot struct {
	ID       int64      `json:"id"`
	Title    string     `json:"title"`
	ClosedAt *time.Time `json:"closed_at"`
	HTMLURL  string     `json:"html_url"`
}

// apiPriorities answers the priority list, {"data": [], "proposal": null}
// while no ballot has set one.
func (s *Server) apiPriorities(c *gin.Context) {
	list, ok, err := s.gov.PriorityList(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	data := make([]apiPriority, len(list.Demands))
	for i, d := range list.Demands {
		data[i] = apiPriority{Rank: d.Position + 1, DemandID: d.DemandID, Title: d.Title, Status: d.Status,
			HTMLURL: fmt.Sprintf("%s/demands/%d", s.cfg.BaseURL, d.DemandID)}
	}
	var ballot *apiPriorityBallot
	if ok {
		p := list.Proposal
		ballot = &apiPriorityBallot{ID: p.ID, Title: p.Title, ClosedAt: p.ClosedAt, HTMLURL: fmt.Sprintf("%s/proposals/%d", s.cfg.BaseURL, p.ID)}
	}
	c.JSON(http.StatusOK, gin.H{"data": data, "proposal": ballot})
}

// priorities is the priority list for a page, nil while there is none.
func (s *Server) priorities(c *gin.Context) (*governance.PriorityList, error) {
	list, ok, err := s.gov.PriorityList(c.Request.Context())
	if err != nil || !ok {
		return nil, err
	}
	return &list, nil
}
