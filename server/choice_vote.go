package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

// The ballot of a choice among options (issue 14): a number for each
// option on a ranked ballot, a tick for each on an approval ballot. The
// form needs no JavaScript: a <select> per option, or a checkbox.

// choiceView is what the choice partials draw: the ballot's options as
// the form shows them, and, once closed, the count.
type choiceView struct {
	Method       string
	MethodName   string
	Ranked       bool
	Seats        int
	MaxApprovals int
	Office       string
	Options      []choiceOption
	Ranks        []int // the numbers a rank may take, 1 to the number of options
	Result       *choiceResult
}

// choiceOption is one option on the ballot form, with what the member
// chose for it (their stored open ballot, or what they posted) and the
// message beside it.
type choiceOption struct {
	governance.Option
	Number        int    // from 1, as the ballot numbers it
	Field         string // the rank's field name, "rank_3"
	Href          string // the demand's or resource's page, "" for others
	LongStatement bool   // shown folded in a <details>
	Rank          string // the rank chosen, "" for none
	Approved      bool
	Error         string
}

// Ballot form limits. A ranked ballot has a rank_i field per option: a
// post with more rank fields than any ballot has is refused whole, without
// reading them, and a field whose name is not rank_ and a number is
// ignored.
const (
	maxRankFields   = governance.MaxOptions + 10
	maxApproveTicks = governance.MaxOptions + 10
	longStatement   = 280 // characters: longer statements are folded
)

// choiceOf reads a choice's options for the page, with the member's own
// stored ballot preselected when the ballot is open (an open ballot's
// choice is beside the member's name anyway; a secret one's is not shown
// back, even to its voter).
func (s *Server) choiceOf(ctx context.Context, p governance.Proposal, part governance.Participation) (*choiceView, error) {
	options, err := s.gov.Options(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	v := &choiceView{Method: *p.Method, MethodName: governance.MethodNames[*p.Method], Ranked: governance.Ranked(*p.Method)}
	if p.Seats != nil {
		v.Seats = *p.Seats
	}
	if p.MaxApprovals != nil {
		v.MaxApprovals = *p.MaxApprovals
	}
	if p.Office != nil {
		v.Office = *p.Office
	}
	for i, o := range options {
		row := choiceOption{Option: o, Number: i + 1, Field: governance.RankKey(i),
			LongStatement: utf8.RuneCountInString(o.Statement) > longStatement}
		switch {
		case o.DemandID != nil:
			row.Href = fmt.Sprintf("/demands/%d", *o.DemandID)
		case o.ResourceID != nil:
			row.Href = fmt.Sprintf("/library/%d", *o.ResourceID)
		}
		v.Options = append(v.Options, row)
		v.Ranks = append(v.Ranks, i+1)
	}
	if p.Secret == nil || !*p.Secret {
		for k, o := range part.Ballot {
			if o < 0 || o >= len(v.Options) {
				continue
			}
			if v.Ranked {
				v.Options[o].Rank = strconv.Itoa(k + 1)
			} else {
				v.Options[o].Approved = true
			}
		}
	}
	if p.Closed() {
		if v.Result, err = s.choiceResultOf(p, v.Options); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// postedChoice is a choice ballot as posted: the ranks by option, the
// ticks, and whether the post had more fields than any ballot.
type postedChoice struct {
	in       governance.ChoiceInput
	tooMany  bool
	approved map[int]bool
}

// readChoice reads the ballot fields of the posted form: rank_i for i a
// number, approve. Other fields are not the ballot's and are left alone.
// (The rank fields are found by ranging over the posted keys, which the
// injection test's scan of the handlers knows: it attacks rank_0.)
func readChoice(c *gin.Context) postedChoice {
	out := postedChoice{in: governance.ChoiceInput{Ranks: map[int]string{}, Approve: []string{}}, approved: map[int]bool{}}
	c.PostForm("choice_ballot") // has gin parse the body, within limitBody's cap
	fields := 0
	for key, values := range c.Request.PostForm {
		raw, ok := strings.CutPrefix(key, "rank_")
		if !ok {
			continue
		}
		if fields++; fields > maxRankFields {
			out.tooMany = true
			return out
		}
		i, err := strconv.Atoi(raw)
		if err != nil || strconv.Itoa(i) != raw || len(values) == 0 {
			continue // not a field the form has
		}
		out.in.Ranks[i] = values[0]
	}
	ticks := c.PostFormArray("approve")
	if len(ticks) > maxApproveTicks {
		out.tooMany = true
		return out
	}
	out.in.Approve = append(out.in.Approve, ticks...)
	for _, t := range ticks {
		if i, err := strconv.Atoi(strings.TrimSpace(t)); err == nil {
			out.approved[i] = true
		}
	}
	return out
}

// castChoice casts or changes a member's ballot in a choice. A ballot the
// rules refuse is shown again as posted, with each message beside its
// field, and nothing is stored; what follows a ballot accepted (the
// flash, the receipt, the redirect) is a yes/no vote's.
func (s *Server) castChoice(c *gin.Context, id int64) {
	posted := readChoice(c)
	refill := func(d *proposalData, errs map[string]string) {
		d.VoteForm = form{Values: map[string]string{}, Errors: map[string]string{}}
		if d.Choice == nil {
			// Not a choice: the message about the form as a whole says so.
			for _, msg := range errs {
				d.VoteForm.Errors[""] = msg
			}
			return
		}
		d.Choice.refill(posted, errs, &d.VoteForm)
	}
	if posted.tooMany {
		s.renderProposal(c, http.StatusUnprocessableEntity, func(d *proposalData) {
			refill(d, map[string]string{"": "This ballot has more fields than options: reload the page and vote again."})
		})
		return
	}
	res, err := s.gov.VoteChoice(c.Request.Context(), *member(c), id, posted.in, c.PostForm("receipt"))
	s.answerVote(c, id, res, err, refill, "ballot")
}

// refill puts a refused ballot back on the form as posted and places the
// messages: beside the rank or the ticks they are about, beside the
// receipt, or, for a field the form does not have (an option not on the
// ballot, a tick on a ranked ballot), above the form.
func (v *choiceView) refill(posted postedChoice, errs map[string]string, f *form) {
	shown := map[string]bool{"receipt": true, "": true}
	if !v.Ranked {
		shown[governance.ApproveKey] = true
	}
	for i := range v.Options {
		o := &v.Options[i]
		o.Rank, o.Approved = "", posted.approved[i]
		if v.Ranked {
			o.Rank = posted.in.Ranks[i]
			shown[o.Field] = true
			o.Error = errs[o.Field]
		}
	}
	var above []string
	for k, msg := range errs {
		if shown[k] {
			f.Errors[k] = msg
		} else if !strings.Contains(strings.Join(above, " "), msg) {
			above = append(above, msg)
		}
	}
	if len(above) > 0 {
		f.Errors[""] = strings.TrimSpace(f.Errors[""] + " " + strings.Join(above, " "))
	}
}

// answerVote answers a vote or a ballot cast: a refusal drawn on the
// proposal's page (refill puts the vote and its messages back on the
// form), or the flash, the receipt once, and the redirect. what is "vote"
// or "ballot", as the member's form calls it.
func (s *Server) answerVote(c *gin.Context, id int64, res governance.VoteResult, err error, refill func(*proposalData, map[string]string), what string) {
	switch {
	case errors.Is(err, governance.ErrBallotClosed):
		s.renderProposal(c, http.StatusUnprocessableEntity, func(d *proposalData) {
			refill(d, map[string]string{"": "Voting is not open on this proposal."})
		})
	case errors.Is(err, governance.ErrNotOnRoll):
		s.renderProposal(c, http.StatusForbidden, func(d *proposalData) {
			d.VoteForm = form{Errors: map[string]string{"": "You are not on this ballot's roll: it was frozen when voting opened, and only the active members at that moment vote."}}
		})
	case errors.Is(err, governance.ErrAlreadyVoted):
		s.renderProposal(c, http.StatusConflict, func(d *proposalData) {
			d.VoteForm = form{Errors: map[string]string{"": "You have already voted. To change your " + what + ", enter the receipt you were given."}}
		})
	case errors.Is(err, governance.ErrVoteSuperseded):
		s.renderProposal(c, http.StatusConflict, func(d *proposalData) {
			d.VoteForm = form{Errors: map[string]string{"": "This " + what + " was not applied: a later one of yours, sent while it waited, has been recorded and stands."}}
		})
	case errors.Is(err, governance.ErrVoteTooLate):
		s.renderProposal(c, http.StatusServiceUnavailable, func(d *proposalData) {
			refill(d, map[string]string{"": "The server was too busy to record this " + what + " in time, so it was not recorded. Please send it again."})
		})
	case errors.Is(err, governance.ErrRecused):
		s.renderProposal(c, http.StatusUnprocessableEntity, func(d *proposalData) {
			d.VoteForm = form{Errors: map[string]string{"": "You stood aside in this ballot: you cannot vote in it."}}
		})
	case errorsOf(err) != nil:
		s.renderProposal(c, http.StatusUnprocessableEntity, func(d *proposalData) { refill(d, errorsOf(err)) })
	case err != nil:
		s.fail(c, err)
	case res.ReplacedProxy && res.Receipt != "":
		s.addFlash(c, "receipt", res.Receipt)
		s.redirect(c, fmt.Sprintf("/proposals/%d", id), "Your "+what+" replaced the one your proxy cast for you. Keep your receipt: it is shown only now.")
	case res.ReplacedProxy:
		s.redirect(c, fmt.Sprintf("/proposals/%d", id), "Your "+what+" replaced the one your proxy cast for you.")
	case res.Receipt != "":
		s.addFlash(c, "receipt", res.Receipt)
		s.redirect(c, fmt.Sprintf("/proposals/%d", id), "Your "+what+" is in the ballot box. Keep your receipt: it is shown only now. With it you can change your "+what+" until voting closes, and find your ballot in the published box afterwards.")
	case res.Changed:
		s.redirectNotice(c, fmt.Sprintf("/proposals/%d", id), what+"-changed")
	default:
		s.redirectNotice(c, fmt.Sprintf("/proposals/%d", id), what+"-recorded")
	}
}

// ballotInWords writes a stored choice ballot ("[3,0,2]") with the
// options' labels, in the ballot's order: "1. Roof; 2. Garden; 3. Bikes"
// for a ranking, "Garden; Roof" for ticks, "(blank)" for neither.
func ballotInWords(raw string, ranked bool, options []choiceOption) string {
	var b []int
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return raw
	}
	if len(b) == 0 {
		return "(blank)"
	}
	parts := make([]string, len(b))
	for k, o := range b {
		label := fmt.Sprintf("option %d", o+1)
		if o >= 0 && o < len(options) {
			label = options[o].Label
		}
		if ranked {
			label = fmt.Sprintf("%d. %s", k+1, label)
		}
		parts[k] = label
	}
	return strings.Join(parts, "; ")
}

// inWords rewrites a closed choice's box page and the receipt found with
// the options' labels, for the page.
func (d *proposalData) inWords() {
	if d.Choice == nil {
		return
	}
	for i := range d.Box {
		d.Box[i].Choice = ballotInWords(d.Box[i].Choice, d.Choice.Ranked, d.Choice.Options)
	}
	if d.ReceiptFound != "" {
		d.ReceiptFound = ballotInWords(d.ReceiptFound, d.Choice.Ranked, d.Choice.Options)
	}
}
