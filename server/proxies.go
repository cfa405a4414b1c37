package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

// Proxies and recusals (issue 15), from the member's side: appointing a
// proxy and revoking one (/proxies), a holder's ballots for the members
// whose proxy they hold (/proposals/:id/proxies), and standing aside in a
// ballot with a conflict of interest (/proposals/:id/recuse). The rules
// (cap, frozen at opening, replaced by a vote in person) are the domain's.

type proxiesData struct {
	Lists governance.ProxyLists
	// Members are the active members a holder is chosen from, by name;
	// nil when there are too many to list, and a number is typed.
	Members   []governance.Member
	Proposals []governance.ProposalSummary // in discussion: a proxy for one ballot
	// Allowed: the rules allow proxies in some kind of ballot.
	Allowed bool
}

func (s *Server) showProxies(c *gin.Context) {
	s.renderProxies(c, http.StatusOK, form{})
}

func (s *Server) renderProxies(c *gin.Context, status int, f form) {
	ctx := c.Request.Context()
	m := member(c)
	var d proxiesData
	var err error
	if d.Lists, err = s.gov.MyProxies(ctx, *m); err != nil {
		s.fail(c, err)
		return
	}
	if d.Allowed, err = s.gov.ProxiesAllowed(ctx); err != nil {
		s.fail(c, err)
		return
	}
	if d.Members, err = s.activeMembers(ctx, m.ID); err != nil {
		s.fail(c, err)
		return
	}
	lists, err := s.gov.Proposals(ctx, m)
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Proposals = lists.Discussion
	s.render(c, status, "proxies/index", view{Title: "Proxies", Form: f, Data: d})
}

// activeMembers lists the active members by name, but for the one with
// number except (0: none), or nil when there are more than a list can
// show (smallCoop): the proxies form and the election form pick from it.
func (s *Server) activeMembers(ctx context.Context, except int64) ([]governance.Member, error) {
	ms, err := s.gov.ActiveMembersUpTo(ctx, smallCoop)
	if err != nil || ms == nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		if m.ID != except {
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

func (s *Server) appointProxy(c *gin.Context) {
	in := governance.ProxyInput{Holder: c.PostForm("holder"), Proposal: c.PostForm("proposal")}
	a, err := s.gov.Appoint(c.Request.Context(), *member(c), in)
	if v := errorsOf(err); v != nil {
		f := postedForm(c, "holder", "proposal")
		f.Errors = v
		s.renderProxies(c, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	scope := "every ballot until you revoke it"
	if a.Proposal != 0 {
		scope = fmt.Sprintf("proposal %d", a.Proposal)
	}
	s.redirect(c, "/proxies", a.HolderName+" holds your proxy for "+scope+". You can still vote yourself: your vote replaces theirs.")
}

func (s *Server) revokeProxy(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	if err := s.gov.Revoke(c.Request.Context(), *member(c), id); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/proxies", "Proxy revoked. A ballot already open keeps the proxies it opened with; vote yourself there to replace your proxy's vote.")
}

// proxyBallot is one principal on the holder's page, with the form to
// vote for them.
type proxyBallot struct {
	governance.ProxyPrincipal
	Form   form
	Choice *choiceView // a choice's ballot, its own copy (for the messages beside its fields)
}

// CanVote says whether the holder may still vote for this principal.
func (b proxyBallot) CanVote() bool { return !b.InPerson && !b.Recused }

type proxyVoteData struct {
	Proposal governance.Proposal
	Ballots  []proxyBallot
	Choices  []string
}

func (s *Server) showProxyBallots(c *gin.Context) {
	s.renderProxyBallots(c, http.StatusOK, 0, nil)
}

// renderProxyBallots draws the holder's page; edit, when not nil, puts a
// refused ballot for principal back on its form.
func (s *Server) renderProxyBallots(c *gin.Context, status int, principal int64, edit func(*proxyBallot)) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	m := member(c)
	p, err := s.gov.Proposal(ctx, m, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	held, err := s.gov.HeldProxies(ctx, *m, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := proxyVoteData{Proposal: p, Choices: governance.Choices}
	for _, h := range held {
		b := proxyBallot{ProxyPrincipal: h, Form: form{Values: map[string]string{}, Errors: map[string]string{}}}
		if p.IsChoice() && p.Status == governance.ProposalVoting {
			if b.Choice, err = s.choiceOf(ctx, p, governance.Participation{}); err != nil {
				s.fail(c, err)
				return
			}
		}
		if h.ID == principal && edit != nil {
			edit(&b)
		}
		d.Ballots = append(d.Ballots, b)
	}
	s.render(c, status, "proxies/vote", view{Title: "Votes you hold: " + p.Title, Data: d})
}

// principalParam reads the principal's member number from the path.
func (s *Server) principalParam(c *gin.Context) (int64, bool) {
	n, err := strconv.ParseInt(c.Param("principal"), 10, 64)
	if err != nil || n < 1 {
		s.fail(c, errNotFound)
		return 0, false
	}
	return n, true
}

func (s *Server) voteAsProxy(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	principal, ok := s.principalParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	m := member(c)
	var res governance.VoteResult
	var err error
	var refill func(*proxyBallot, map[string]string)
	if c.PostForm("choice_ballot") != "" {
		posted := readChoice(c)
		refill = func(b *proxyBallot, errs map[string]string) {
			if b.Choice == nil {
				for _, msg := range errs {
					b.Form.Errors[""] = msg
				}
				return
			}
			b.Choice.refill(posted, errs, &b.Form)
		}
		if posted.tooMany {
			err = governance.ValidationError{"": "This ballot has more fields than options: reload the page and vote again."}
		} else {
			res, err = s.gov.VoteChoiceAsProxy(ctx, *m, principal, id, posted.in)
		}
	} else {
		choice := c.PostForm("choice")
		refill = func(b *proxyBallot, errs map[string]string) {
			b.Form.Values["choice"] = choice
			for k, v := range errs {
				b.Form.Errors[k] = v
			}
		}
		res, err = s.gov.VoteAsProxy(ctx, *m, principal, id, choice)
	}
	refuse := func(errs map[string]string) {
		s.renderProxyBallots(c, http.StatusUnprocessableEntity, principal, func(b *proxyBallot) { refill(b, errs) })
	}
	switch {
	case errors.Is(err, governance.ErrNotProxy), errors.Is(err, governance.ErrNotOnRoll):
		s.fail(c, governance.ErrNotProxy)
	case errors.Is(err, governance.ErrVotedInPerson):
		refuse(map[string]string{"": "This member has voted in person: their own vote stands, and you can no longer vote for them."})
	case errors.Is(err, governance.ErrRecused):
		refuse(map[string]string{"": "This member stood aside in this ballot: nobody votes for them."})
	case errors.Is(err, governance.ErrBallotClosed):
		refuse(map[string]string{"": "Voting is not open on this proposal."})
	case errors.Is(err, governance.ErrVoteSuperseded):
		refuse(map[string]string{"": "This vote was not applied: a later one for this member, sent while it waited, has been recorded and stands."})
	case errors.Is(err, governance.ErrVoteTooLate):
		refuse(map[string]string{"": "The server was too busy to record this vote in time, so it was not recorded. Please send it again."})
	case errorsOf(err) != nil:
		refuse(errorsOf(err))
	case err != nil:
		s.fail(c, err)
	default:
		name := fmt.Sprintf("member %d", principal)
		if held, err := s.gov.HeldProxies(ctx, *m, id); err == nil {
			for _, h := range held {
				if h.ID == principal {
					name = h.Name
				}
			}
		}
		to := fmt.Sprintf("/proposals/%d/proxies", id)
		switch {
		case res.Receipt != "":
			s.addFlash(c, "receipt", res.Receipt)
			s.redirect(c, to, "Your vote for "+name+" is in the ballot box. Give the receipt to "+name+": it is shown only now, and with it they can find their ballot in the published box.")
		case res.Changed:
			s.redirect(c, to, "Your vote for "+name+" is changed.")
		default:
			s.redirect(c, to, "Your vote for "+name+" is recorded. You can change it until voting closes, unless they vote themselves.")
		}
	}
}

func (s *Server) recuse(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	reason := c.PostForm("reason")
	err := s.gov.Recuse(c.Request.Context(), *member(c), id, governance.RecusalInput{Reason: reason})
	refuse := func(status int, errs map[string]string) {
		s.renderProposal(c, status, func(d *proposalData) {
			d.RecuseForm = form{Values: map[string]string{"reason": reason}, Errors: errs}
		})
	}
	switch {
	case errors.Is(err, governance.ErrBallotClosed):
		refuse(http.StatusUnprocessableEntity, map[string]string{"": "Voting is not open on this proposal: you can stand aside only while it is."})
	case errors.Is(err, governance.ErrNotOnRoll):
		refuse(http.StatusForbidden, map[string]string{"": "You are not on this ballot's roll: there is nothing to stand aside from."})
	case errorsOf(err) != nil:
		refuse(http.StatusUnprocessableEntity, errorsOf(err))
	case err != nil:
		s.fail(c, err)
	default:
		s.redirect(c, fmt.Sprintf("/proposals/%d", id), "You stood aside in this ballot. Your reason is on the ledger and on this page; you are left out of its turnout and quorum.")
	}
}
