package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"plenary/governance/count"
)

// ChoiceInput is a choice ballot as its form posts it, without JavaScript.
//
// On a ranked ballot (Schulze, IRV, STV) the member chooses a number for
// each option: Ranks[i] is the one chosen for the option at position i
// (the form's rank_i field), 1 for the first preference; "" or no entry
// leaves the option unranked, below every ranked one. Gaps are allowed
// (1, 3 reads as 1, 2). On an approval ballot Approve holds the positions
// of the options ticked (the form's approve fields). Ranking nothing, or
// ticking nothing, is a blank ballot: it counts for the quorum and for
// nothing else.
type ChoiceInput struct {
	Ranks   map[int]string
	Approve []string
}

// VoteChoice casts or changes a member's ballot in a choice, as Vote does
// a yes/no vote: only members on the roll frozen when voting opened may
// vote; an open ballot is changed by voting again, a secret one only with
// the receipt its first vote returned. A ballot that is not one of this
// choice's (a rank out of range, the same rank twice, more ticks than
// allowed, an option that is not on it) is refused with a ValidationError
// keyed by the field beside which the form shows it (RankKey(i), or
// ApproveKey), and nothing is stored.
//
// Ballots go through the vote writer with yes/no votes (votewriter.go):
// the same batched commits, and the answer only once the ballot is
// durable.
func (s *Service) VoteChoice(ctx context.Context, voter Member, proposalID int64, in ChoiceInput, receipt string) (VoteResult, error) {
	req, err := choiceRequest(voter, proposalID, in, receipt)
	if err != nil {
		return VoteResult{}, err
	}
	return s.castQueued(ctx, req)
}

// choiceRequest is a choice ballot as the vote writer takes it.
func choiceRequest(voter Member, proposalID int64, in ChoiceInput, receipt string) (voteRequest, error) {
	if len(receipt) > MaxReceiptLen {
		return voteRequest{}, ValidationError{"receipt": ballotMessages["receipt.max"]}
	}
	req := voteRequest{voter: voter.ID, proposal: proposalID, receipt: receipt, ranks: in.Ranks, approve: in.Approve}
	// Non-nil both, so the writer knows a choice ballot from a yes/no vote.
	if req.ranks == nil {
		req.ranks = map[int]string{}
	}
	if req.approve == nil {
		req.approve = []string{}
	}
	return req, nil
}

// choiceBallot checks a ballot as the form gave it against p (a choice
// whose number of options is known) and returns it as stored: canonical
// JSON, a ranking most preferred first ([3,0,2]) or the approved positions
// in ascending order ([0,2]), [] for a blank ballot.
func (p Proposal) choiceBallot(ranks map[int]string, approve []string) (string, error) {
	n := p.nOptions
	v := ValidationError{}
	if *p.Method == MethodApproval {
		for i, raw := range ranks {
			if strings.TrimSpace(raw) != "" {
				v[RankKey(i)] = "This ballot is not ranked: tick the options you approve instead."
				return "", v
			}
		}
		ballot := count.ApprovalBallot{}
		for _, raw := range approve {
			k, err := strconv.Atoi(strings.TrimSpace(raw))
			if err != nil || k < 0 || k >= n {
				v[ApproveKey] = "One of the options ticked is not on this ballot: reload the page and vote again."
				return "", v
			}
			ballot = append(ballot, k)
		}
		max := 0
		if p.MaxApprovals != nil {
			max = *p.MaxApprovals
		}
		switch err := count.ValidApproval(ballot, n, max); {
		case errors.Is(err, count.ErrTooMany):
			v[ApproveKey] = fmt.Sprintf("Tick at most %d.", max)
		case errors.Is(err, count.ErrTwice):
			v[ApproveKey] = "An option is ticked twice: reload the page and vote again."
		case err != nil:
			v[ApproveKey] = "One of the options ticked is not on this ballot: reload the page and vote again."
		}
		if len(v) > 0 {
			return "", v
		}
		slices.Sort(ballot)
		b, _ := json.Marshal(ballot)
		return string(b), nil
	}

	if len(approve) > 0 {
		v[ApproveKey] = "This ballot is ranked: give the options you support a number each instead."
		return "", v
	}
	byPosition := make([]int, n)
	byRank := map[int][]int{}
	for i, raw := range ranks {
		raw = strings.TrimSpace(raw)
		switch k, err := strconv.Atoi(raw); {
		case i < 0 || i >= n:
			v[RankKey(i)] = "This option is not on this ballot: reload the page and vote again."
		case raw == "":
		case err != nil || k < 1 || k > n:
			v[RankKey(i)] = fmt.Sprintf("Choose a rank from 1 to %d, or leave the option unranked.", n)
		default:
			byPosition[i] = k
			byRank[k] = append(byRank[k], i)
		}
	}
	for k, at := range byRank {
		if len(at) > 1 {
			for _, i := range at {
				v[RankKey(i)] = fmt.Sprintf("Rank %d is given twice: give each option its own rank, or leave it unranked.", k)
			}
		}
	}
	if len(v) > 0 {
		return "", v
	}
	ranking, err := count.RankingFromRanks(byPosition)
	if err != nil {
		// Checked above; a failure here is a mistake in the code.
		return "", fmt.Errorf("governance: ranking: %w", err)
	}
	b, _ := json.Marshal(ranking)
	return string(b), nil
}
